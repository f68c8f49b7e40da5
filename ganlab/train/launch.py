"""One run on several GPUs from the app: `torchrun ... -m ganlab train --config FILE` as a subprocess.

The app does not train such a run itself: torchrun's rank 0 makes the run folder and holds its RunRecorder
(lock and status.json), so the app reads it like a run trained from a terminal. What the app keeps is the
subprocess (to show it, stop it with SIGTERM, which torchrun forwards and the processes answer by stopping
together with a checkpoint, and reap it) and its log file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ganlab import device as machine  # called through the module: tests fake the GPU count there
from ganlab import paths
from ganlab.config import ConfigError, TrainConfig, parse_device
from ganlab.files import atomic_write_bytes

MAX_PROCESSES = 64


def torchrun_command(config_file: Path, devices: int, runs_dir: Path | None = None,
                     python: str = sys.executable) -> list[str]:
    """The command line that trains the config in config_file as one run in `devices` processes on this machine."""
    command = [python, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(devices),
               "-m", "ganlab", "train", "--config", str(config_file)]
    return command + (["--runs-dir", str(runs_dir)] if runs_dir is not None else [])


def check_launch(config: TrainConfig, devices: int) -> None:
    """ConfigError unless `devices` processes can train this config here: 2 or more, one GPU each (a CPU config
    runs its processes on the CPU's cores, with gloo)."""
    if isinstance(devices, bool) or not isinstance(devices, int) or not 2 <= devices <= MAX_PROCESSES:
        raise ConfigError(f"devices={devices!r}: give a whole number from 2 to {MAX_PROCESSES} (1 device: start "
                          "the run as a job instead)")
    kind, index = parse_device(config.device)
    if index is not None or kind == "mps":
        raise ConfigError(f"device={config.device!r}: a run on several devices takes GPUs 0 to {devices - 1} "
                          "(device cuda or auto), or the CPU (device cpu)")
    gpus = machine.cuda_device_count()
    if kind in ("cuda", "auto") and gpus and devices > gpus:
        raise ConfigError(f"devices={devices}: this machine has {gpus} GPU(s)")
    if kind == "cuda" and not gpus:
        raise ConfigError("device='cuda' is not available on this machine; available: cpu")


def launch_devices(config: TrainConfig, devices: int) -> set[str]:
    """The devices a launch occupies: GPUs 0..devices-1, or the CPU."""
    gpu = parse_device(config.device)[0] != "cpu" and machine.cuda_device_count() > 0
    return {f"cuda:{k}" for k in range(devices)} if gpu else {"cpu"}


@dataclass
class Launch:
    """A torchrun subprocess training one run; the run itself is found on disk (status.json, lock)."""

    config: TrainConfig
    devices: int
    command: list[str]
    log: Path
    process: subprocess.Popen
    occupies: set[str]
    started: float = field(default_factory=time.time)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    def stop(self) -> None:
        """Ask torchrun to stop: it forwards SIGTERM, the processes stop after the same step with a checkpoint."""
        if self.running:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float | None = None) -> int:
        return self.process.wait(timeout)

    def describe(self) -> str:
        """'torchrun · 2 GPUs · running (pid 123)' for the sidebar."""
        where = f"{self.devices} GPUs" if any(d.startswith("cuda") for d in self.occupies) else \
            f"{self.devices} CPU processes"
        state = "running" if self.running else ("ended" if self.returncode == 0 else f"exit code {self.returncode}")
        return f"torchrun · {where} · {state} (pid {self.pid})"


def launch_torchrun(config: TrainConfig, devices: int, runs_dir: Path | None = None,
                    on_exit: Callable[[Launch], None] | None = None) -> Launch:
    """Start `torchrun --nproc-per-node devices -m ganlab train --config ...` for config; on_exit(launch) runs
    (in a thread) when it ends. The config and torchrun's output go to a folder under GANLAB_HOME/launches."""
    check_launch(config, devices)
    folder = paths.home() / "launches" / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns()}"
    folder.mkdir(parents=True)
    config_file = folder / "config.json"
    atomic_write_bytes(config_file, config.to_json().encode())
    command = torchrun_command(config_file, devices, runs_dir)
    package_root = str(paths.repo_root())  # the processes import this same ganlab
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)}
    log = folder / "torchrun.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                   cwd=package_root)
    launch = Launch(config, devices, command, log, process, launch_devices(config, devices))

    def reap() -> None:
        process.wait()
        if on_exit:
            on_exit(launch)

    threading.Thread(target=reap, name=f"ganlab-torchrun-{process.pid}", daemon=True).start()
    return launch
