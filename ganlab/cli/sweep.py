"""`sweep`: every combination of up to two settings' values, each run trained in turn for the same budget."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ganlab.cli.training import add_config_flags, config_from_args, train_in_terminal


def cmd_sweep(args: argparse.Namespace) -> int:
    from ganlab.config.sweep import Axis, SweepPlan
    from ganlab.nets import check_config_size
    from ganlab.runs import RunRecorder
    from ganlab.runs.sweeps import create_sweep, sweep_cells
    from ganlab.train import Trainer

    plan = SweepPlan(tuple(Axis.parse(text) for text in args.set), steps=args.steps or 0,
                     minutes=args.minutes or 0.0)
    base = config_from_args(args)
    configs = plan.configs(base, base.name or "sweep")  # every cell checked before anything trains
    for config in configs:
        check_config_size(config)
    root = Path(args.runs_dir) if args.runs_dir else None
    sweep = create_sweep(plan, base.name or "sweep", root)
    print(f"sweep {sweep.id}: {plan.size} runs, {plan.budget_text} each (record: {sweep.path / 'sweep.json'})")
    for index, config in enumerate(configs):
        print(f"[{index + 1}/{plan.size}] {config.name}")
        trainer = Trainer(config, None)
        recorder = RunRecorder.create(config, root, kind="cli")
        trainer.run_dir = recorder.run
        sweep.record_run(index, recorder.run)
        code = train_in_terminal(trainer, recorder)
        if code != 0:  # Ctrl+C: this run is checkpointed and stopped; the rest are not started
            print(f"sweep {sweep.id} stopped after {index + 1} of {plan.size} runs", file=sys.stderr)
            return code
    print_result(sweep_cells(sweep))
    return 0


def print_result(cells: list) -> None:
    """One line per run with its final quality; the winner marked."""
    from ganlab.runs.sweeps import winner

    best = winner(cells)
    for cell in cells:
        q = cell.quality
        score = f"{q['fid']:.2f} ({q.get('extractor', '?')}, step {q.get('step', 0):,})" if q else "no quality number"
        mark = "  <- winner" if best is not None and cell is best else ""
        print(f"{cell.label:<40} {cell.run.id if cell.run else '-':<36} {score}{mark}")
    if best is None:
        print("no winner: no run has a quality number (quality_every=0, or the runs ended before the first one)")


def add_commands(sub: argparse._SubParsersAction) -> None:
    sweep = sub.add_parser("sweep", help="train every combination of up to two settings' values, one after another",
                           description="e.g. python -m ganlab sweep --set lr_d=1e-4,2e-4,4e-4 --set loss=bce,hinge "
                                       "--minutes 3 --dataset fashion-mnist. Runs differ only in the swept settings "
                                       "(no recipe is loaded for a swept loss or architecture).")
    sweep.add_argument("--set", action="append", required=True, metavar="FIELD=V1,V2,...",
                       help="a setting and its values (at most two --set; list settings join items with '/')")
    budget = sweep.add_mutually_exclusive_group(required=True)
    budget.add_argument("--minutes", type=float, help="minutes of training per run (fair on one machine)")
    budget.add_argument("--steps", type=int, help="iterations per run")
    sweep.add_argument("--config", help="start from a config.json (flags override it)")
    sweep.add_argument("--preset", help="apply a named preset before the flags")
    sweep.add_argument("--runs-dir", help="where run folders go (default: $GANLAB_HOME/runs)")
    add_config_flags(sweep, skip={"max_steps", "max_minutes", "epochs"})
    sweep.set_defaults(func=cmd_sweep)
