"""The `python -m ganlab` parser: one sub-command per action, user errors as one line and exit code 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ganlab.cli import evaluate, models, sweep, tensorboard, training


def cmd_runs(args: argparse.Namespace) -> int:
    from ganlab.runs import list_runs
    from ganlab.runs.summary import summarise

    runs = list_runs(Path(args.runs_dir) if args.runs_dir else None)
    if not runs:
        print("no runs yet: start one with `python -m ganlab train`")
        return 0
    print(f"{'id':34} {'state':12} {'step':>15} {'dataset':14} name")
    for run in runs:
        s = summarise(run, None, run.read_metrics())
        step = f"{s.step}/{s.total_steps}" if s.total_steps else str(s.step)
        dataset = s.config.dataset if s.config else "?"
        name = "" if s.name == s.id else s.name
        print(f"{s.id:34} {s.state:12} {step:>15} {dataset:14} {name}")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from ganlab.runs import busy_message, delete_run, is_live, open_run

    root = Path(args.runs_dir) if args.runs_dir else None
    run = open_run(args.run, root)
    if is_live(run):  # refused before asking; delete_run checks again under the lock
        raise ValueError(busy_message(run, "delete"))
    if not args.yes:
        answer = input(f"delete run {run.id} with all its checkpoints, samples and metrics? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("not deleted")
            return 1
    delete_run(run, root)
    print(f"deleted {run.id}")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    import socket

    from ganlab.paths import app_token

    print(f"http://{args.host or socket.gethostname()}:{args.port}/?token={app_token()}")
    return 0


def _numbers(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"--minutes {text!r}: give comma-separated numbers, e.g. 1,2,5") from None


def cmd_bench(args: argparse.Namespace) -> int:
    from ganlab.bench import run_bench

    if args.quality:
        from ganlab.bench.quality import run_quality_bench

        recipes = [r for r in args.recipes.split(",") if r.strip()]
        lines = run_quality_bench(recipes, _numbers(args.minutes), dataset=args.dataset, samples=args.samples,
                                  slice_s=args.slice, threads=args.threads, seed=args.seed, clock=args.clock,
                                  emit=lambda line: print(line, flush=True))
        if args.out:
            Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
        return 0

    run_bench(seconds=args.seconds, repeats=args.repeats, poll_seconds=args.poll_seconds, quick=args.quick,
              threads=args.threads, emit=lambda line: print(line, flush=True), device=args.device)
    return 0


def build_parser() -> argparse.ArgumentParser:
    prog = "ganlab" if Path(sys.argv[0]).name == "ganlab" else "python -m ganlab"  # the console script, or -m
    parser = argparse.ArgumentParser(prog=prog, description="GAN Lab, headless.")
    sub = parser.add_subparsers(dest="command", required=True)
    training.add_commands(sub)
    models.add_commands(sub)
    tensorboard.add_commands(sub)
    sweep.add_commands(sub)
    evaluate.add_commands(sub)

    runs = sub.add_parser("runs", help="list runs: id, state, step, dataset, name")
    runs.add_argument("--runs-dir")
    runs.set_defaults(func=cmd_runs)

    delete = sub.add_parser("delete", help="delete a run folder (refused while any process trains it)")
    delete.add_argument("run", help="run id (see `runs`)")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.add_argument("--runs-dir")
    delete.set_defaults(func=cmd_delete)

    token = sub.add_parser("token", help="print the link (with its access token) for an app served beyond loopback")
    token.add_argument("--host", help="host name or address in the link (default: this machine's name)")
    token.add_argument("--port", type=int, default=8501)
    token.set_defaults(func=cmd_token)

    bench = sub.add_parser("bench", help="measure training img/s vs the reference loops, explorer and GIF speed; --quality: FID vs minutes")
    bench.add_argument("--seconds", type=float, default=3.0, help="seconds per loop and round")
    bench.add_argument("--repeats", type=int, default=5,
                       help="rounds per config, the loops taking turns (median and range are printed)")
    bench.add_argument("--threads", type=int, default=0, help="CPU threads (0 = all this process may use)")
    bench.add_argument("--poll-seconds", type=float, default=20.0, help="seconds per polling measurement (0 = skip)")
    bench.add_argument("--quick", action="store_true", help="one small case only (smoke test)")
    bench.add_argument("--device", default="auto", help="where everything runs: auto, cpu, cuda, cuda:K "
                       "(the trainer and the reference loops on the same device)")
    quality = bench.add_argument_group("quality vs minutes (--quality)")
    quality.add_argument("--quality", action="store_true",
                         help="FID/KID after fixed minutes of training, the recipes interleaved in one process")
    quality.add_argument("--recipes", default="baseline,default",
                         help="comma-separated: baseline (the pre-issue-16 CLI default), default, preset names; "
                              "each may add +field=value overrides")
    quality.add_argument("--minutes", default="1,2,5,10,15", help="marks in minutes of each recipe's own training")
    quality.add_argument("--dataset", default="fashion-mnist", help="a dataset with a feature extractor")
    quality.add_argument("--samples", type=int, default=10_000, help="generated images per FID/KID")
    quality.add_argument("--slice", type=float, default=5.0, help="seconds of training per turn")
    quality.add_argument("--seed", type=int, default=0)
    quality.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                         help="what a minute is: wall clock, or this process's CPU time (fairer on a shared machine; "
                              "with --threads 1, one core's minutes)")
    quality.add_argument("--out", help="also write the markdown report to this file")
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    rank = _torchrun_rank()
    try:
        if rank is not None and args.command not in training.torchrun.COMMANDS:
            raise ValueError(f"`{args.command}` runs in one process; under torchrun only "
                             f"{' and '.join(training.torchrun.COMMANDS)} do (run: python -m ganlab {args.command})")
        return int(args.func(args) or 0)
    except ValueError as exc:  # user errors: one clear line, no traceback
        from ganlab.train.world import RankError

        if not isinstance(exc, RankError):  # rank 0 already said why
            where = f" (process {rank})" if rank else ""
            print(f"error{where}: {exc}", file=sys.stderr)
        return 2


def _torchrun_rank() -> int | None:
    """This process's rank when torchrun started it in several processes, else None."""
    import os

    size = os.environ.get("WORLD_SIZE", "1")
    if "LOCAL_RANK" not in os.environ or not size.isdigit() or int(size) < 2:
        return None
    rank = os.environ.get("RANK", "0")
    return int(rank) if rank.isdigit() else 0
