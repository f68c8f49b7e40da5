"""`tensorboard`: write TensorBoard event files for runs trained before (or without) the tensorboard package."""

from __future__ import annotations

import argparse
from pathlib import Path


def _pick_runs(args: argparse.Namespace) -> list:
    from ganlab.runs import Run, RunError, list_runs, open_run

    root = Path(args.runs_dir) if args.runs_dir else None
    if args.all:
        return list_runs(root)
    if not args.runs:
        raise RunError("name the runs to write events for (ids from `ganlab runs`, or run folders), or pass --all")
    picked = []
    for spec in args.runs:
        folder = Path(spec)
        picked.append(Run(folder) if (folder / "config.json").is_file() else open_run(spec, root))
    return picked


def cmd_tensorboard(args: argparse.Namespace) -> int:
    from ganlab import paths
    from ganlab.runs import is_live, state_of
    from ganlab.runs.tensorboard import read_events, write_run_events

    runs = _pick_runs(args)
    for run in runs:
        if is_live(run):
            print(f"{run.id}: skipped, it is {state_of(run)} (a training run writes its own events)")
            continue
        path = write_run_events(run)
        found = read_events(path)  # read back with tensorboard's own reader: what TensorBoard will show
        points = sum(found["scalars"].values())
        print(f"{run.id}: wrote {path.name} ({len(found['scalars'])} scalar series, {points} points, "
              f"{sum(found['images'].values())} sample grids)")
    logdir = Path(args.runs_dir) if args.runs_dir else paths.runs_dir()
    print(f"view them: tensorboard --logdir {logdir}" if runs else "no runs yet")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tensorboard", help="write TensorBoard event files for existing runs (new runs write them "
                                           "as they train when tensorboard is installed)")
    p.add_argument("runs", nargs="*", metavar="RUN", help="run id (see `runs`) or run folder")
    p.add_argument("--all", action="store_true", help="every run in the runs folder")
    p.add_argument("--runs-dir", help="runs folder (default: ~/.ganlab/runs or $GANLAB_HOME/runs)")
    p.set_defaults(func=cmd_tensorboard)
