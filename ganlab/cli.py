"""Command line: python -m ganlab train | resume | sample | morph | runs (headless, with progress bars)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import typing
from pathlib import Path
from typing import Any, Sequence

from ganlab.config import ConfigError, TrainConfig, field_help

MAX_OUTPUT_PIXELS = 64_000_000  # sample grids / animation frames: refuse sizes that would exhaust memory


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One --flag per TrainConfig field, typed and documented from the dataclass."""
    hints = typing.get_type_hints(TrainConfig)
    helps = field_help()
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        default = f.default
        # argparse %-formats help strings: a literal "5%" in a field comment must be escaped.
        text = f"{helps.get(f.name, '')} (default: {default!r})".replace("%", "%%")
        if hints[f.name] is bool:
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=text)
        else:
            # Values stay strings here; TrainConfig.from_dict coerces and validates them with clear messages.
            parser.add_argument(flag, dest=f.name, default=None, metavar=f.name.upper(), help=text)


def _config_from_args(args: argparse.Namespace) -> TrainConfig:
    base: dict[str, Any] = {}
    if args.config:
        base = TrainConfig.load(args.config).to_dict()
    if args.preset:
        from ganlab.config import PRESETS

        if args.preset not in PRESETS:
            raise ConfigError(f"--preset {args.preset!r} is unknown; choose one of: {', '.join(PRESETS)}")
        base.update({k: list(v) if isinstance(v, tuple) else v for k, v in PRESETS[args.preset].items()})
    for f in dataclasses.fields(TrainConfig):
        value = getattr(args, f.name)
        if value is not None:
            base[f.name] = value
    return TrainConfig.from_dict(base)


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
    from ganlab.trainer import Trainer

    config = _config_from_args(args)
    check_config_size(config)  # cheap, so it comes before loading the data
    # The run folder is made only once the data loads and the networks build: a refused command
    # (unknown dataset, empty folder, oversized network) leaves nothing behind.
    trainer = Trainer(config, None)
    run = create_run(config, Path(args.runs_dir) if args.runs_dir else None)
    trainer.run_dir = run
    print(f"{config.arch}/{config.loss} on {trainer.dataset_name} ({trainer.num_images} images, "
          f"{trainer.model_config.img_channels}x{config.img_size}px) · {trainer.hardware.device.type} "
          f"{trainer.hardware.precision} · {trainer.total_steps} iterations")
    run.update_status(state="running", total_steps=trainer.total_steps)
    return _train(trainer, run.id)


def cmd_resume(args: argparse.Namespace) -> int:
    from ganlab.runs import open_run
    from ganlab.trainer_state import resume_trainer

    run = open_run(args.run, Path(args.runs_dir) if args.runs_dir else None)
    run.config()  # a hand-edited, invalid config.json is refused here with its key named
    overrides = {k: v for k, v in (("max_steps", args.max_steps), ("epochs", args.epochs), ("ema", args.ema))
                 if v is not None}
    trainer = resume_trainer(run, config_overrides=overrides)
    print(f"resuming {run.id} at step {trainer.step} of {trainer.total_steps}")
    return _train(trainer, run.id)


def _generator(args: argparse.Namespace) -> Any:
    from ganlab.checkpoint import load_generator

    return load_generator(args.checkpoint, use_ema=not args.no_ema)


def _labels(loaded: Any, count: int, label: int | None) -> Any:
    import torch

    k = loaded.model_config.num_classes
    if not k:
        return None
    if label is not None and not 0 <= label < k:
        raise ValueError(f"--label {label} is out of range; this model has classes 0-{k - 1}")
    return torch.full((count,), label, dtype=torch.long) if label is not None else torch.arange(count) % k


def cmd_sample(args: argparse.Namespace) -> int:
    import torch

    from ganlab import latent, media

    loaded = _generator(args)
    seeds = latent.parse_seeds(args.seeds)
    side = loaded.model_config.img_size * max(1, args.upscale)
    if len(seeds) * side * side > MAX_OUTPUT_PIXELS:
        raise ValueError(f"--upscale {args.upscale} with {len(seeds)} seeds makes a grid of about "
                         f"{len(seeds) * side * side / 1e6:.0f} megapixels (limit {MAX_OUTPUT_PIXELS / 1e6:.0f}); "
                         f"use a smaller --upscale or fewer seeds")
    z = latent.z_batch(seeds, loaded.model_config.z_dim, truncation=args.truncation)
    with torch.no_grad():
        images = loaded.generator(z, _labels(loaded, len(seeds), args.label))
    media.save_grid(images, args.out, nrow=args.nrow, upscale=args.upscale)
    print(f"wrote {len(seeds)} samples to {args.out}")
    return 0


def cmd_morph(args: argparse.Namespace) -> int:
    import torch

    from ganlab import latent, media

    if not 1 <= args.size <= 2048:
        raise ValueError(f"--size {args.size} is out of range; choose 1 to 2048 pixels")
    frame_bytes = args.frames * max(args.size, 1) ** 2 * 3
    if frame_bytes > MAX_OUTPUT_PIXELS * 3 * 4:  # every frame is held in memory before encoding
        raise ValueError(f"--frames {args.frames} at --size {args.size} would need about {frame_bytes / 1e9:.1f} GB "
                         f"of memory; use fewer frames or a smaller size")
    loaded = _generator(args)
    seeds = latent.parse_seeds(args.seeds)
    if len(seeds) < 2:
        raise ValueError(f"--seeds {args.seeds!r}: a morph needs at least two seeds")
    keys = latent.z_batch(seeds, loaded.model_config.z_dim, truncation=args.truncation)
    path = latent.keyframe_path(keys, args.frames, mode=args.mode, loop=args.loop)
    labels = _labels(loaded, len(path), args.label)
    with torch.no_grad():
        images = torch.cat([loaded.generator(path[i:i + 64], None if labels is None else labels[i:i + 64])
                            for i in range(0, len(path), 64)])
    frames = [media.upscale_nearest(media.to_pil(img), args.size) for img in images]
    if str(args.out).lower().endswith(".mp4"):
        media.write_mp4(frames, args.out, fps=args.fps)
    else:
        media.write_gif(frames, args.out, fps=args.fps)
    print(f"wrote {len(frames)} frames to {args.out}")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from ganlab.runs import list_runs

    runs = list_runs(Path(args.runs_dir) if args.runs_dir else None)
    if not runs:
        print("no runs yet: start one with `python -m ganlab train`")
        return 0
    print(f"{'run':40} {'state':12} {'step':>12} {'loss_d':>8} {'loss_g':>8}")
    for run in runs:
        status = run.status()
        last = status.get("last") or {}
        step = f"{status.get('step', 0)}/{status.get('total_steps', '?')}"
        print(f"{run.display_name[:40]:40} {status.get('state', '?'):12} {step:>12} "
              f"{last.get('loss_d', float('nan')):8.3f} {last.get('loss_g', float('nan')):8.3f}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from ganlab.export import export_generator

    path = export_generator(Path(args.checkpoint), args.name, out_dir=Path(args.out) if args.out else None,
                            use_ema=not args.no_ema, card_extra={"command": " ".join(sys.argv)} if args.record else None)
    print(f"wrote {path} and {path.with_suffix('.json')}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from ganlab.bench import run_bench

    run_bench(iters=args.iters, repeats=args.repeats, poll_seconds=args.poll_seconds, quick=args.quick,
              emit=lambda line: print(line, flush=True))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ganlab", description="GAN Lab, headless.")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a GAN; every config field is a flag")
    train.add_argument("--config", help="start from a config.json (flags override it)")
    train.add_argument("--preset", help="apply a named preset before the flags")
    train.add_argument("--runs-dir", help="where run folders go (default: $GANLAB_HOME/runs)")
    _add_config_flags(train)
    train.set_defaults(func=cmd_train)

    resume = sub.add_parser("resume", help="continue a run from its latest checkpoint")
    resume.add_argument("run", help="run folder name (see `runs`)")
    resume.add_argument("--max-steps", type=int, help="extend the run to this many iterations")
    resume.add_argument("--epochs", type=float, help="extend the run to this many epochs")
    resume.add_argument("--ema", type=float, help="EMA decay of G's average from here on (e.g. 0.9999 averages longer)")
    resume.add_argument("--runs-dir")
    resume.set_defaults(func=cmd_resume)

    for name, func, help_text in (("sample", cmd_sample, "write a grid of samples"),
                                  ("morph", cmd_morph, "write a latent interpolation GIF/MP4")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("checkpoint", help="run checkpoint (.pt) or pretrained .safetensors")
        p.add_argument("--seeds", default="0-63" if name == "sample" else "1,5,9", help="e.g. 0,3,7-9")
        p.add_argument("--out", required=True)
        p.add_argument("--truncation", type=float, default=1.0)
        p.add_argument("--label", type=int, default=None, help="class for conditional models")
        p.add_argument("--no-ema", action="store_true", help="use raw G weights even when EMA exists")
        p.set_defaults(func=func)
        if name == "sample":
            p.add_argument("--nrow", type=int, default=None)
            p.add_argument("--upscale", type=int, default=1)
        else:
            p.add_argument("--frames", type=int, default=60)
            p.add_argument("--fps", type=float, default=24)
            p.add_argument("--mode", choices=("slerp", "lerp"), default="slerp")
            p.add_argument("--loop", action="store_true", help="return to the first seed at the end")
            p.add_argument("--size", type=int, default=128, help="upscale frames to at least this many pixels")

    runs = sub.add_parser("runs", help="list runs")
    runs.add_argument("--runs-dir")
    runs.set_defaults(func=cmd_runs)

    export = sub.add_parser("export", help="save a run checkpoint's generator as safetensors + model card")
    export.add_argument("checkpoint", help="run checkpoint (.pt)")
    export.add_argument("name", help="model name (file stem), e.g. my-digits")
    export.add_argument("--out", help="folder (default: pretrained/)")
    export.add_argument("--no-ema", action="store_true", help="export the raw G weights even when EMA exists")
    export.add_argument("--record", action="store_true", help="record this command line in the card")
    export.set_defaults(func=cmd_export)

    bench = sub.add_parser("bench", help="measure training img/s vs the reference loops, explorer and GIF speed")
    bench.add_argument("--iters", type=int, default=8, help="timed iterations per repeat")
    bench.add_argument("--repeats", type=int, default=3, help="repeats per figure (the median is printed)")
    bench.add_argument("--poll-seconds", type=float, default=20.0, help="seconds per polling measurement (0 = skip)")
    bench.add_argument("--quick", action="store_true", help="one small case only (smoke test)")
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ValueError as exc:  # user errors: one clear line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
