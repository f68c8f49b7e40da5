"""Starting a sweep: every run checked first, then queued on the job manager (app) or trained in turn (CLI)."""

from __future__ import annotations

from pathlib import Path

from ganlab.config import TrainConfig
from ganlab.config.sweep import SweepPlan
from ganlab.runs.sweeps import Sweep, create_sweep
from ganlab.train.manager import JobManager


def queue_sweep(manager: JobManager, base: TrainConfig, plan: SweepPlan, name: str = "",
                root: Path | None = None) -> Sweep:
    """Queue one job per cell (they train one after another, each for the plan's budget); the sweep's record
    names each run as soon as it exists. A config error in any cell raises before anything is queued."""
    configs = plan.configs(base, name)
    sweep = create_sweep(plan, name, root)
    for index, config in enumerate(configs):
        job = manager.submit(config)
        sweep.record_run(index, job.run)
    return sweep
