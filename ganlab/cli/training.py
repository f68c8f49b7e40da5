"""`train` and `resume`: a run trained in this terminal, with a progress bar; Ctrl+C checkpoints."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import typing
from pathlib import Path
from typing import Any

from ganlab.config import TrainConfig, build_config, field_help


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One --flag per TrainConfig field, typed and documented from the dataclass."""
    hints = typing.get_type_hints(TrainConfig)
    helps = field_help()
    for f in dataclasses.fields(TrainConfig):
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
               if getattr(args, f.name) is not None}
    return build_config(choices, preset=args.preset, base=base)


def _train(trainer: Any, desc: str) -> int:
    from tqdm import tqdm

    bar = tqdm(total=trainer.total_steps, initial=trainer.step, desc=desc, unit="it", dynamic_ncols=True)
    last = {"step": trainer.step}

    def progress(event: Any) -> None:
        if event.kind == "log" and event.record and "loss_d" in event.record:
            r = event.record
            bar.set_postfix(loss_d=f"{r['loss_d']:.3f}", loss_g=f"{r.get('loss_g', float('nan')):.3f}",
                            img_s=f"{r['img_s']:.0f}")
        bar.update(event.step - last["step"])
        last["step"] = event.step

    try:
        trainer.run(progress)
    except KeyboardInterrupt:
        trainer.save()
        print(f"\ninterrupted: checkpoint saved at step {trainer.step}", file=sys.stderr)
        return 130
    finally:
        bar.close()
    if trainer.run_dir is not None:
        trainer.run_dir.update_status(state="finished", step=trainer.step, total_steps=trainer.total_steps,
                                      elapsed=trainer.elapsed)
        print(f"run folder: {trainer.run_dir.path}")
        print(f"checkpoint: {trainer.run_dir.latest_checkpoint}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from ganlab.nets import check_config_size
    from ganlab.runs import create_run
    from ganlab.train import Trainer

    config = config_from_args(args)
    check_config_size(config)  # cheap, so it comes before loading the data
    # The run folder is made only once the data loads and the networks build: a refused command
    # (unknown dataset, empty folder, oversized network) leaves nothing behind.
    trainer = Trainer(config, None)
    run = create_run(config, Path(args.runs_dir) if args.runs_dir else None)
    trainer.run_dir = run
    print(f"{config.arch}/{config.loss} on {trainer.dataset_name} ({trainer.num_images} images, "
          f"{trainer.model_config.img_channels}x{config.img_size}px) · {trainer.hardware.device.type} "
          f"{trainer.hardware.precision} · {trainer.total_steps} iterations")
    if trainer.warm_note:
        print(trainer.warm_note)
    run.update_status(state="running", total_steps=trainer.total_steps)
    return _train(trainer, run.id)


def cmd_resume(args: argparse.Namespace) -> int:
    from ganlab.runs import open_run
    from ganlab.train import resume_trainer

    run = open_run(args.run, Path(args.runs_dir) if args.runs_dir else None)
    run.config()  # a hand-edited, invalid config.json is refused here with its key named
    overrides = {k: v for k, v in (("max_steps", args.max_steps), ("epochs", args.epochs), ("ema", args.ema))
                 if v is not None}
    trainer = resume_trainer(run, config_overrides=overrides)
    print(f"resuming {run.id} at step {trainer.step} of {trainer.total_steps}")
    return _train(trainer, run.id)


def add_commands(sub: argparse._SubParsersAction) -> None:
    train = sub.add_parser("train", help="train a GAN; every config field is a flag")
    train.add_argument("--config", help="start from a config.json (flags override it)")
    train.add_argument("--preset", help="apply a named preset before the flags (see the Train page's list)")
    train.add_argument("--runs-dir", help="where run folders go (default: $GANLAB_HOME/runs)")
    add_config_flags(train)
    train.set_defaults(func=cmd_train)

    resume = sub.add_parser("resume", help="continue a run from its latest checkpoint")
    resume.add_argument("run", help="run folder name (see `runs`)")
    resume.add_argument("--max-steps", type=int, help="extend the run to this many iterations")
    resume.add_argument("--epochs", type=float, help="extend the run to this many epochs")
    resume.add_argument("--ema", type=float, help="EMA decay of G's average from here on (e.g. 0.9999 averages longer)")
    resume.add_argument("--runs-dir")
    resume.set_defaults(func=cmd_resume)
