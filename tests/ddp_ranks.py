"""One process of a 2-process gloo run, started by tests/test_distributed.py (torch.multiprocessing, spawn).

Each process sets up the environment torchrun would give it and runs `python -m ganlab` commands in order
through ganlab.cli.main, observing from the inside what the parent test cannot see: the losses this process
computed before they were averaged, the step every process resumed at, and every file it opened for writing
under the runs folder.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any


def run_rank(rank: int, world_size: int, ports: list[int], runs_dir: str, out_dir: str, commands: list[list[str]],
             stop_at: dict[int, int]) -> None:
    """commands: argv lists for ganlab.cli.main, each joining a new process group through its own rendezvous store
    (ports: served by the parent, as torchrun's agent serves them); stop_at: {command index: step} at which rank 1
    gets SIGTERM."""
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank),
                      LOCAL_WORLD_SIZE=str(world_size), MASTER_ADDR="127.0.0.1", TORCHELASTIC_USE_AGENT_STORE="True")
    root = Path(runs_dir).resolve()
    writes: list[str] = []

    def audit(event: str, args: tuple) -> None:
        # Every open() and os.open() (mkstemp, torch.save, PIL, json) raises "open": (path, mode, flags).
        if event == "open" and isinstance(args[0], (str, os.PathLike)):
            mode, flags = args[1], args[2]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            if writing and Path(os.fspath(args[0])).resolve().is_relative_to(root):
                writes.append(os.fspath(args[0]))

    sys.addaudithook(audit)

    from ganlab.cli import main
    from ganlab.train import distributed

    phase = {"index": 0}
    local: list[list[dict[str, float]]] = [[] for _ in commands]  # per command: this process's loss values in order
    resumed_at: list[int | None] = [None for _ in commands]

    real_add = distributed.ReducingMeter.add

    def add(self: Any, stats: dict) -> None:
        local[phase["index"]].append({k: float(v.detach()) for k, v in stats.items()})
        real_add(self, stats)

    real_step = distributed.DistributedTrainer.train_step

    def train_step(self: Any, progress: Any = None) -> None:
        if rank == 1 and stop_at.get(phase["index"]) == self.step:
            os.kill(os.getpid(), signal.SIGTERM)  # what torchrun forwards when it is stopped
        real_step(self, progress)

    real_load = distributed.DistributedTrainer.load_state_dict

    def load_state_dict(self: Any, state: dict) -> None:
        real_load(self, state)
        resumed_at[phase["index"]] = self.step

    distributed.ReducingMeter.add = add
    distributed.DistributedTrainer.train_step = train_step
    distributed.DistributedTrainer.load_state_dict = load_state_dict
    from torch.nn.parallel import DistributedDataParallel

    codes, replicas_left = [], []
    for index, argv in enumerate(commands):
        phase["index"] = index
        os.environ["MASTER_PORT"] = str(ports[index])
        codes.append(main(argv))
        # No collection here: what is alive now would be torn down with the interpreter, process group included.
        replicas_left.append(sum(isinstance(o, DistributedDataParallel) for o in gc.get_objects()))
    Path(out_dir, f"rank{rank}.json").write_text(json.dumps(
        {"codes": codes, "local": local, "resumed_at": resumed_at, "writes": writes, "replicas_left": replicas_left}))
