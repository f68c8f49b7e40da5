"""`sample`, `morph` and `export`: images and animations from a checkpoint or shipped model, and exporting one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

MAX_OUTPUT_PIXELS = 64_000_000  # sample grids: refuse sizes that would exhaust memory
WHICH = ("latest", "best")
WHICH_HELP = "for a run folder or id: checkpoints/latest.pt or checkpoints/best.pt (best live quality)"


def model_path(spec: str, which: str = "latest") -> Path:
    """A checkpoint or model file as given, a run folder or run id (its checkpoints/<which>.pt), or the name of a
    shipped model (e.g. fashion-dcgan)."""
    from ganlab import paths
    from ganlab.runs.locate import checkpoint_path

    path = Path(spec)
    if path.exists() or path.suffix in (".pt", ".safetensors", ".json") or len(path.parts) > 1:
        return checkpoint_path(path, which)  # a file as it is; a missing one is reported by the loader with its name
    shipped = paths.pretrained_dir() / f"{spec}.safetensors"
    if shipped.is_file():
        return shipped
    found = checkpoint_path(spec, which)  # a run id
    if found != path:
        return found
    names = sorted(p.stem for p in paths.pretrained_dir().glob("*.safetensors"))
    raise ValueError(f"model {spec!r} is neither a file, a run id nor a shipped model; shipped models: "
                     f"{', '.join(names) or 'none'} (in {paths.pretrained_dir()})")


def cmd_sample(args: argparse.Namespace) -> int:
    from ganlab import media
    from ganlab.explore import load_generator, parse_seeds, z_batch

    loaded = load_generator(model_path(args.checkpoint, args.which), use_ema=not args.no_ema)
    seeds = parse_seeds(args.seeds)
    if args.sweep_dims:
        return _sweep(loaded, seeds[0], args)
    side = loaded.model_config.img_size * max(1, args.upscale)
    if len(seeds) * side * side > MAX_OUTPUT_PIXELS:
        raise ValueError(f"--upscale {args.upscale} with {len(seeds)} seeds makes a grid of about "
                         f"{len(seeds) * side * side / 1e6:.0f} megapixels (limit {MAX_OUTPUT_PIXELS / 1e6:.0f}); "
                         f"use a smaller --upscale or fewer seeds")
    images = loaded.generate(z_batch(seeds, loaded.model_config.z_dim, truncation=args.truncation), args.label)
    media.save_grid(images, args.out, nrow=args.nrow, upscale=args.upscale)
    print(f"wrote {len(seeds)} samples to {args.out}")
    return 0


def _sweep(loaded: object, seed: int, args: argparse.Namespace) -> int:
    """--sweep-dims: rows are the given latent dimensions, columns step -reach..+reach σ around the seed."""
    from ganlab.explore import parse_seeds, sweep_grid, unit_directions, z_from_seed

    dims = parse_seeds(args.sweep_dims, max_count=64, noun="dimension")
    directions, stds = unit_directions(dims, loaded.model_config.z_dim)
    z = z_from_seed(seed, loaded.model_config.z_dim, truncation=args.truncation)
    grid = sweep_grid(loaded, z, directions, stds, steps=args.steps, k=args.reach, labels=args.label)
    if args.upscale > 1:
        grid = grid.resize((grid.width * args.upscale, grid.height * args.upscale), 0)  # 0 = nearest
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    grid.save(args.out)
    print(f"wrote a sweep of {len(dims)} dimensions x {args.steps} steps (±{args.reach:g}σ, seed {seed}) to {args.out}")
    return 0


def cmd_morph(args: argparse.Namespace) -> int:
    from ganlab import media
    from ganlab.explore import (
        check_frames,
        interpolation_frames,
        load_generator,
        parse_seeds,
        z_batch,
    )

    if not 1 <= args.size <= 2048:
        raise ValueError(f"--size {args.size} is out of range; choose 1 to 2048 pixels")
    check_frames(args.frames, args.size)  # before loading anything; the real frame size is checked again below
    loaded = load_generator(model_path(args.checkpoint, args.which), use_ema=not args.no_ema)
    seeds = parse_seeds(args.seeds)
    if len(seeds) < 2:
        raise ValueError(f"--seeds {args.seeds!r}: a morph needs at least two seeds")
    keys = z_batch(seeds, loaded.model_config.z_dim, truncation=args.truncation)
    frames = interpolation_frames(loaded, keys, args.frames, mode=args.mode, loop=args.loop, labels=args.label,
                                  min_side=args.size)
    if str(args.out).lower().endswith(".mp4"):
        media.write_mp4(frames, args.out, fps=args.fps)
    else:
        media.write_gif(frames, args.out, fps=args.fps)
    print(f"wrote {len(frames)} frames to {args.out}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from ganlab.runs import export_generator
    from ganlab.runs.locate import checkpoint_path

    path = export_generator(checkpoint_path(args.checkpoint, args.which), args.name,
                            out_dir=Path(args.out) if args.out else None,
                            use_ema=not args.no_ema, card_extra={"command": " ".join(sys.argv)} if args.record else None,
                            overwrite=args.force)
    print(f"wrote {path} and {path.with_suffix('.json')}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    for name, func, help_text in (("sample", cmd_sample, "write a grid of samples"),
                                  ("morph", cmd_morph, "write a latent interpolation GIF/MP4")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("checkpoint", help="run checkpoint (.pt), run folder or run id, model .safetensors, or a "
                                          "shipped model's name (e.g. fashion-dcgan)")
        p.add_argument("--which", choices=WHICH, default="latest", help=WHICH_HELP)
        p.add_argument("--seeds", default="0-63" if name == "sample" else "1,5,9", help="e.g. 0,3,7-9")
        p.add_argument("--out", required=True)
        p.add_argument("--truncation", type=float, default=1.0)
        p.add_argument("--label", type=int, default=None, help="class for conditional models")
        p.add_argument("--no-ema", action="store_true", help="use raw G weights even when EMA exists")
        p.set_defaults(func=func)
        if name == "sample":
            p.add_argument("--nrow", type=int, default=None)
            p.add_argument("--upscale", type=int, default=1)
            p.add_argument("--sweep-dims", help="a dimension sweep instead: rows are these latent dimensions "
                                                "(e.g. 0-7), around the first seed")
            p.add_argument("--steps", type=int, default=9, help="columns of a dimension sweep")
            p.add_argument("--reach", type=float, default=2.0, help="σ a dimension sweep reaches each way")
        else:
            p.add_argument("--frames", type=int, default=60)
            p.add_argument("--fps", type=float, default=24)
            p.add_argument("--mode", choices=("slerp", "lerp"), default="slerp")
            p.add_argument("--loop", action="store_true", help="return to the first seed at the end")
            p.add_argument("--size", type=int, default=128, help="upscale frames to at least this many pixels")

    export = sub.add_parser("export", help="save a run checkpoint's generator as safetensors + model card")
    export.add_argument("checkpoint", help="run checkpoint (.pt), run folder or run id")
    export.add_argument("--which", choices=WHICH, default="latest", help=WHICH_HELP)
    export.add_argument("name", help="model name (file stem), e.g. my-digits")
    export.add_argument("--out", help="folder (default: pretrained/, or $GANLAB_PRETRAINED)")
    export.add_argument("--force", action="store_true", help="replace an existing model of that name")
    export.add_argument("--no-ema", action="store_true", help="export the raw G weights even when EMA exists")
    export.add_argument("--record", action="store_true", help="record this command line in the card")
    export.set_defaults(func=cmd_export)
