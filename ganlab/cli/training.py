"""`train` and `resume`: a run trained in this terminal, with a progress bar; Ctrl+C checkpoints."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import typing
from pathlib import Path
from typing import Any

from ganlab.cli import torchrun
from ganlab.config import PRESETS, TrainConfig, build_config, field_help


def add_config_flags(parser: argparse.ArgumentParser, skip: frozenset[str] | set[str] = frozenset()) -> None:
    """One --flag per TrainConfig field (but those in skip), typed and documented from the dataclass."""
    hints = typing.get_type_hints(TrainConfig)
    helps = field_help()
    for f in dataclasses.fields(TrainConfig):
        if f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        # argparse %-formats help strings: a literal "5%" in a field's help must be escaped.
        text = f"{helps.get(f.name, '')} (default: {f.default!r})".replace("%", "%%")
        if hints[f.name] is bool:
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=text)
        else:
            # Values stay strings here; TrainConfig.from_dict coerces and validates them with clear messages.
            parser.add_argument(flag, dest=f.name, default=None, metavar=f.name.upper(), help=text)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The flags given, over the chosen preset, over the recipe of the chosen arch x loss (as the Train form does)."""
    base = TrainConfig.load(args.config).to_dict() if args.config else None
    choices = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
               if getattr(args, f.name, None) is not None}
    return build_config(choices, preset=args.preset, base=base)


def train_in_terminal(trainer: Any, recorder: Any, hardware: str | None = None, processes: int = 1) -> int:
    """Train with a progress bar while `recorder` (the run's lifecycle owner) keeps status.json true.

    Ctrl+C saves a checkpoint and records the run as stopped (under torchrun every process stops after the same
    step, see DistributedTrainer.run); an error records it as failed; either way the run's lock is released when
    this returns (or when the process dies, by the kernel).
    """
    from tqdm import tqdm

    from ganlab.runs import RunState
    from ganlab.train.worker import error_message

    run = recorder.run
    bar = tqdm(total=trainer.total_steps or None, initial=trainer.step, desc=run.id, unit="it", dynamic_ncols=True)
    last = {"step": trainer.step, "record": {}, "status_at": 0.0}

    def status(state: RunState | None = None, **extra: Any) -> None:
        recorder.record(state, step=trainer.step, total_steps=trainer.total_steps, elapsed=trainer.elapsed,
                        last=last["record"], **extra)

    def progress(event: Any) -> None:
        if event.kind == "log" and event.record and "loss_d" in event.record:
            r = last["record"] = event.record
            bar.set_postfix(loss_d=f"{r['loss_d']:.3f}", loss_g=f"{r.get('loss_g', float('nan')):.3f}",
                            img_s=f"{r['img_s']:.0f}")
        bar.update(event.step - last["step"])
        last["step"] = event.step
        if event.kind == "checkpoint" or time.monotonic() - last["status_at"] > 5.0:
            last["status_at"] = time.monotonic()
            status()

    hardware = hardware or f"{trainer.hardware.device} · {trainer.hardware.precision}"
    status(RunState.RUNNING, hardware=hardware, processes=processes)
    try:
        trainer.run(progress)
        final = RunState.FINISHED if trainer.finished else RunState.STOPPED
        status(final)
    except KeyboardInterrupt:
        trainer.save()
        status(RunState.STOPPED)
        print(f"\ninterrupted: checkpoint saved at step {trainer.step}", file=sys.stderr)
        return 130
    except Exception as exc:
        status(RunState.FAILED, error=error_message(exc))
        raise
    finally:
        bar.close()
        recorder.release()
    print(f"run folder: {run.path}")
    print(f"checkpoint: {run.latest_checkpoint} ({final})")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from ganlab.nets import check_config_size
    from ganlab.runs import RunRecorder
    from ganlab.train import Trainer
    from ganlab.train.world import torchrun_world

    config = config_from_args(args)
    world = torchrun_world()
    if world is not None:  # started by torchrun: this process trains its part of one run
        return torchrun.run_in_world(world, lambda: torchrun.train(world, config, args.runs_dir, train_in_terminal))
    check_config_size(config)  # cheap, so it comes before loading the data
    # The run folder is made only once the data loads and the networks build: a refused command
    # (unknown dataset, empty folder, oversized network) leaves nothing behind.
    trainer = Trainer(config, None)
    recorder = RunRecorder.create(config, Path(args.runs_dir) if args.runs_dir else None, kind="cli")
    trainer.run_dir = recorder.run
    print(f"{config.arch}/{config.loss} on {trainer.dataset_name} ({trainer.num_images} images, "
          f"{trainer.model_config.img_channels}x{config.img_size}px) · {trainer.hardware.device} "
          f"{trainer.hardware.precision} · {trainer.total_steps} iterations")
    if trainer.warm_note:
        print(trainer.warm_note)
    return train_in_terminal(trainer, recorder)


def cmd_resume(args: argparse.Namespace) -> int:
    from ganlab.runs import RunRecorder, open_run
    from ganlab.train import resume_trainer
    from ganlab.train.world import torchrun_world

    overrides = {k: v for k, v in (("max_steps", args.max_steps), ("epochs", args.epochs), ("ema", args.ema),
                                   ("max_minutes", args.max_minutes)) if v is not None}
    if ("max_steps" in overrides or "epochs" in overrides) and "max_minutes" not in overrides:
        overrides["max_minutes"] = 0.0  # a new length in steps replaces a minutes budget (spent, most likely)
    world = torchrun_world()
    if world is not None:  # started by torchrun: this process resumes its part of the run
        return torchrun.run_in_world(world, lambda: torchrun.resume(world, args, overrides, train_in_terminal))
    run = open_run(args.run, Path(args.runs_dir) if args.runs_dir else None)
    run.config()  # a hand-edited, invalid config.json is refused here with its key named
    recorder = RunRecorder.attach(run, kind="cli", queue=False)  # RunBusyError (exit 2) if held elsewhere
    try:
        trainer = resume_trainer(run, config_overrides=overrides)
    except BaseException:
        recorder.release()
        raise
    print(f"resuming {run.id} at step {trainer.step} of {trainer.total_steps}")
    return train_in_terminal(trainer, recorder)


def add_commands(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser("train", help="train a GAN; every config field is a flag")
    train.add_argument("--config", help="start from a config.json (flags override it)")
    train.add_argument("--preset", help="apply a named preset before the flags: " + ", ".join(PRESETS))
    train.add_argument("--runs-dir", help="where run folders go (default: $GANLAB_HOME/runs)")
    add_config_flags(train)
    train.set_defaults(func=cmd_train)

    resume = sub.add_parser("resume", help="continue a run from its latest checkpoint")
    resume.add_argument("run", help="run folder name (see `runs`)")
    resume.add_argument("--max-steps", type=int, help="extend the run to this many iterations")
    resume.add_argument("--epochs", type=float, help="extend the run to this many epochs")
    resume.add_argument("--max-minutes", type=float, help="minutes of training in all, counted from the run's start")
    resume.add_argument("--ema", type=float, help="EMA decay of G's average from here on (e.g. 0.9999 averages longer)")
    resume.add_argument("--runs-dir")
    resume.set_defaults(func=cmd_resume)
