"""The app's "devices: N": a torchrun subprocess trains one run; its command line and device accounting are checked
with a faked GPU count and a fake process, and one real launch on the CPU (gloo) is started and stopped."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import ganlab.device
import ganlab.train.launch as launch_module
from ganlab.config import ConfigError, TrainConfig
from ganlab.runs import list_runs, load_checkpoint, read_status
from ganlab.train import JobManager
from ganlab.train.launch import check_launch, torchrun_command
from tests.helpers import tiny_config


class FakeProcess:
    """Stands in for subprocess.Popen: records the command, runs until finish() or a signal."""

    started: list[FakeProcess] = []

    def __init__(self, command: list[str], **kwargs: Any) -> None:
        self.command, self.kwargs, self.pid = command, kwargs, 4242
        self.code: int | None = None
        self.ended = threading.Event()
        FakeProcess.started.append(self)

    def poll(self) -> int | None:
        return self.code

    def wait(self, timeout: float | None = None) -> int:
        self.ended.wait(timeout)
        return self.code

    def send_signal(self, sig: int) -> None:
        self.finish(-sig)

    def finish(self, code: int = 0) -> None:
        self.code = code
        self.ended.set()


@pytest.fixture
def four_fake_gpus(monkeypatch: pytest.MonkeyPatch) -> list[FakeProcess]:
    monkeypatch.setattr(ganlab.device, "cuda_device_count", lambda: 4)
    monkeypatch.setattr(launch_module.subprocess, "Popen", FakeProcess)
    FakeProcess.started = []
    return FakeProcess.started


def test_the_command_line_is_torchrun_with_one_process_per_device() -> None:
    command = torchrun_command(Path("/x/config.json"), 3, Path("/runs"), python="/py")
    assert command == ["/py", "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "3", "-m", "ganlab",
                       "train", "--config", "/x/config.json", "--runs-dir", "/runs"]


def test_launch_starts_torchrun_on_the_config_and_holds_its_gpus(four_fake_gpus: list[FakeProcess]) -> None:
    manager = JobManager(mode="thread")
    config = tiny_config(device="cuda", name="wide")
    launch = manager.launch(config, 3)
    process = four_fake_gpus[0]
    assert process.command == torchrun_command(Path(process.command[-1]), 3)
    assert process.command[:6] == [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
                                   "3"]
    assert TrainConfig.from_dict(json.loads(Path(process.command[-1]).read_text())) == config
    root = str(Path(launch_module.__file__).resolve().parents[2])
    assert process.kwargs["cwd"] == root and process.kwargs["env"]["PYTHONPATH"].split(":")[0] == root
    assert manager.busy_devices() == {"cuda:0", "cuda:1", "cuda:2"}
    assert "3 GPUs · running (pid 4242)" in launch.describe()

    with pytest.raises(ValueError, match="cuda:0, cuda:1 are busy"):
        manager.launch(config, 2)
    job = manager.submit(tiny_config(device="cuda:0"))  # its GPU belongs to the launch: it waits
    free = manager.submit(tiny_config(device="cuda", max_steps=2))  # GPU 3 is free
    assert free.wait_for(lambda s: s.device == "cuda:3", timeout=60)
    assert job.snapshot().state == "queued"
    process.finish(0)  # torchrun ended: its GPUs are free again and the waiting job starts by itself
    assert job.wait_for(lambda s: s.device == "cuda:0", timeout=60)
    manager.shutdown()


@pytest.mark.parametrize(("changes", "devices", "message"), [
    ({}, 1, "from 2 to 64"),
    ({}, 5, "this machine has 4 GPU"),
    ({"device": "cuda:1"}, 2, "takes GPUs 0 to 1"),
])
def test_launch_refuses_what_cannot_run(four_fake_gpus: list[FakeProcess], changes: dict, devices: int,
                                        message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_launch(tiny_config(**{"device": "cuda", **changes}), devices)
    assert four_fake_gpus == []


def test_a_real_launch_trains_one_run_the_app_reads_from_disk_and_stops_it(tmp_path: Path) -> None:
    """Two CPU processes (gloo) through torchrun: the run appears on disk held by rank 0, and a stop from the app
    (SIGTERM to torchrun) ends it as stopped with a checkpoint."""
    manager = JobManager()
    launch = manager.launch(tiny_config(max_steps=10**6, checkpoint_every=10**6, log_every=5, sample_every=10**6), 2)
    assert manager.busy_devices() == {"cpu"}
    deadline = threading.Event()
    for _ in range(600):  # up to 5 minutes on a loaded machine
        runs = list_runs()
        if runs and read_status(runs[0]).get("step", 0) > 0 and read_status(runs[0])["state"] == "running":
            break
        assert launch.running, launch.log.read_text()[-2000:]
        deadline.wait(0.5)
    run = list_runs()[0]
    assert read_status(run)["owner"]["kind"] == "cli"
    launch.stop()
    assert launch.wait(120) is not None
    status = read_status(run)
    assert status["state"] == "stopped" and status["processes"] == 2, launch.log.read_text()[-2000:]
    assert load_checkpoint(run.latest_checkpoint)["step"] == status["step"] > 0
    assert manager.busy_devices() == set()
