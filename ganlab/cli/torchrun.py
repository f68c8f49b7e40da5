"""`train` and `resume` under torchrun: every process trains its part of one run, rank 0 holds the run.

    torchrun --nproc-per-node 2 -m ganlab train --dataset digits --device cpu --max-steps 50
    torchrun --nproc-per-node 2 -m ganlab resume RUN --max-steps 100

Rank 0 makes the run folder and holds its RunRecorder (the lock and status.json) exactly as `train` does in
one process; the other processes write nothing and print nothing but their errors.
"""

from __future__ import annotations

import argparse
import gc
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ganlab.config import TrainConfig
    from ganlab.train.world import World

COMMANDS = ("train", "resume")  # the commands that may run in several processes


def run_in_world(world: "World", command: Callable[[], int]) -> int:
    """Join the process group, run the command on this process, leave."""
    from ganlab.train import world as worlds

    worlds.join(world)
    try:
        return command()
    finally:
        # The trainer sits in reference cycles and its DDP replicas hold the process group, so without a collection
        # here the group's gloo threads outlive destroy_process_group() and may be torn down during interpreter
        # finalization, where releasing a tensor needs the GIL: the process then aborts (SIGABRT, "terminate called
        # without an active exception") after a run that finished well.
        gc.collect()
        worlds.leave()


def train(world: "World", config: "TrainConfig", runs_dir: str | None, train_in_terminal: Callable[..., int]) -> int:
    from ganlab.nets import check_config_size
    from ganlab.runs import Run, RunRecorder
    from ganlab.train import world as worlds
    from ganlab.train.distributed import DistributedTrainer, share

    check_config_size(config)
    device = worlds.rank_device(world, config.device)
    trainer = DistributedTrainer(config, None, device=device)  # data and networks on every process first
    recorder = None

    def make_folder() -> str:
        nonlocal recorder
        recorder = RunRecorder.create(config, Path(runs_dir) if runs_dir else None, kind="cli")
        return str(recorder.run.path)

    trainer.attach(Run(Path(share(make_folder))))
    if not world.main:
        trainer.run()
        return 0
    print(f"{config.arch}/{config.loss} on {trainer.dataset_name} ({trainer.num_images} images, "
          f"{trainer.model_config.img_channels}x{config.img_size}px) · {trainer.hardware_label} · "
          f"{trainer.total_steps} iterations of {world.size} x {config.batch_size} images")
    return train_in_terminal(trainer, recorder, hardware=trainer.hardware_label, processes=world.size)


def resume(world: "World", args: argparse.Namespace, overrides: dict[str, Any],
           train_in_terminal: Callable[..., int]) -> int:
    from ganlab.runs import Run, RunRecorder, open_run
    from ganlab.train import world as worlds
    from ganlab.train.distributed import resume_distributed, share

    root = Path(args.runs_dir) if args.runs_dir else None
    recorder = None

    def take_run() -> tuple[str, str]:
        nonlocal recorder
        run = open_run(args.run, root)
        config = run.config()  # a hand-edited, invalid config.json is refused here with its key named
        recorder = RunRecorder.attach(run, kind="cli", queue=False)  # RunBusyError (exit 2) if held elsewhere
        return str(run.path), overrides.get("device", config.device)

    path, device_choice = share(take_run)
    try:
        trainer = resume_distributed(Run(Path(path)), overrides, worlds.rank_device(world, device_choice))
    except BaseException:
        if recorder is not None:
            recorder.release()
        raise
    if not world.main:
        trainer.run()
        return 0
    print(f"resuming {recorder.run.id} at step {trainer.step} of {trainer.total_steps} in {world.size} processes")
    return train_in_terminal(trainer, recorder, hardware=trainer.hardware_label, processes=world.size)
