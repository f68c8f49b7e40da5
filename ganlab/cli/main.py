"""The `python -m ganlab` parser: one sub-command per action, user errors as one line and exit code 2."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from ganlab.cli import evaluate, models, training


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


def cmd_bench(args: argparse.Namespace) -> int:
    from ganlab.bench import run_bench

    run_bench(iters=args.iters, repeats=args.repeats, poll_seconds=args.poll_seconds, quick=args.quick,
              emit=lambda line: print(line, flush=True))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ganlab", description="GAN Lab, headless.")
    sub = parser.add_subparsers(dest="command", required=True)
    training.add_commands(sub)
    models.add_commands(sub)
    evaluate.add_commands(sub)

    runs = sub.add_parser("runs", help="list runs")
    runs.add_argument("--runs-dir")
    runs.set_defaults(func=cmd_runs)

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
