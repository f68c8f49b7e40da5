"""The processes of one run trained by several (torchrun): who this process is, the process group, agreed stops.

torchrun (PyTorch's launcher) starts one process per device and tells each its place through the environment
(RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR/PORT). `join()` turns that into a process group:
gloo for CPU tensors, nccl for CUDA tensors (both when the machine has GPUs, so small control messages stay on
the CPU), and `rank_device()` gives each process its own GPU (cuda:LOCAL_RANK) or the CPU.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from ganlab import device as machine  # called through the module: tests fake the GPU count there
from ganlab.config import ConfigError

TORCHRUN_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


class RankError(ValueError):
    """Rank 0 refused to go on and printed why; the other processes end with the same refusal, silently."""


@dataclass(frozen=True)
class World:
    """This process's place among the processes of one run (a lone process: rank 0 of 1)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0  # place among the processes on this machine (its GPU number)
    local_size: int = 1

    @property
    def main(self) -> bool:
        """Rank 0: the one process that writes the run folder and holds the run's lock."""
        return self.rank == 0


def torchrun_world(env: Mapping[str, str] | None = None) -> World | None:
    """The World torchrun described in the environment, or None when not started by torchrun with 2+ processes."""
    env = os.environ if env is None else env
    if not all(key in env for key in TORCHRUN_VARS):
        return None
    try:
        world = World(int(env["RANK"]), int(env["WORLD_SIZE"]), int(env["LOCAL_RANK"]),
                      int(env.get("LOCAL_WORLD_SIZE", env["WORLD_SIZE"])))
    except ValueError:
        raise ConfigError(f"torchrun's environment is malformed: RANK={env['RANK']!r}, "
                          f"WORLD_SIZE={env['WORLD_SIZE']!r}, LOCAL_RANK={env['LOCAL_RANK']!r}") from None
    return world if world.size > 1 else None


def current() -> World:
    """This process's World: from the initialised process group, else a lone process."""
    if not (dist.is_available() and dist.is_initialized()):
        return World()
    local = torchrun_world()
    return World(dist.get_rank(), dist.get_world_size(), local.local_rank if local else 0,
                 local.local_size if local else 1)


def join(world: World) -> None:
    """Join the process group torchrun set up (env:// rendezvous); nccl carries CUDA tensors where there are GPUs."""
    backend = "cpu:gloo,cuda:nccl" if machine.cuda_device_count() > 0 else "gloo"
    dist.init_process_group(backend)
    if dist.get_rank() != world.rank or dist.get_world_size() != world.size:  # a launcher bug, not a user error
        raise RuntimeError(f"process group says rank {dist.get_rank()} of {dist.get_world_size()}, torchrun said "
                           f"{world.rank} of {world.size}")


def leave() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def rank_device(world: World, device: str) -> str:
    """The device this process trains on: its own GPU (cuda:LOCAL_RANK) for cuda/auto with GPUs, else the CPU."""
    kind, index = machine.check_available(device)
    if index is not None:
        raise ConfigError(f"device={device!r}: under torchrun every process takes its own GPU (cuda:LOCAL_RANK); "
                          "give --device cuda (or pick the GPUs with CUDA_VISIBLE_DEVICES)")
    if kind == "mps":
        raise ConfigError("device='mps' cannot train one run in several processes; use cuda or cpu")
    if kind != "cuda":
        return "cpu"
    gpus = machine.cuda_device_count()
    if world.local_size > gpus:
        raise ConfigError(f"torchrun started {world.local_size} processes on this machine, which has {gpus} "
                          f"GPU(s): use --nproc-per-node {gpus} or fewer (one process per GPU)")
    torch.cuda.set_device(world.local_rank)  # nccl and the default CUDA stream of this process use its own GPU
    return f"cuda:{world.local_rank}"


def broadcast(obj: Any) -> Any:
    """Rank 0's obj on every process (plain picklable data)."""
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def gather(obj: Any) -> list[Any] | None:
    """[obj of rank 0, obj of rank 1, ...] on rank 0, None elsewhere."""
    out = [None] * dist.get_world_size() if dist.get_rank() == 0 else None
    dist.gather_object(obj, out, dst=0)
    return out


# ------------------------------------------------------------------ stopping together
# A signal must not end one process in the middle of a collective while the others wait for it there:
# while training, SIGINT (Ctrl+C, which reaches every process) and SIGTERM (what torchrun forwards when it is
# asked to stop) only set a flag, and the processes agree on it between steps, so all stop after the same step.
_stop = threading.Event()


def _request_stop(signum: int, frame: Any) -> None:
    _stop.set()


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """For the block, SIGINT/SIGTERM request a stop (see stop_agreed) instead of ending the process."""
    if threading.current_thread() is not threading.main_thread():  # signals can only be handled there
        yield
        return
    previous = {sig: signal.signal(sig, _request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def request_stop() -> None:
    """Ask this process to stop at the next agreement (what a signal does)."""
    _stop.set()


def stop_agreed(local: bool = False, time_up: bool = False) -> tuple[bool, bool]:
    """(stop, time_up) as every process sees them: stop when any was asked to stop (a signal, or `local`), time_up
    when any process's clock passed the run's minutes budget. One collective, so a signal that arrives while it
    runs cannot be read as the budget."""
    flags = torch.tensor([1 if (local or _stop.is_set()) else 0, 1 if time_up else 0], dtype=torch.int32)
    dist.all_reduce(flags, op=dist.ReduceOp.MAX)  # CPU tensors: gloo, no GPU sync
    stop, spent = bool(flags[0].item()), bool(flags[1].item())
    if stop:
        _stop.clear()
    return stop, spent
