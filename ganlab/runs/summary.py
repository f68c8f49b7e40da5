"""Reading runs for people: one summary per run (the Runs table and `ganlab runs`), and what differs between runs."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from ganlab.config import TrainConfig
from ganlab.runs.lifecycle import busy_message, is_live, read_status
from ganlab.runs.store import Run, RunError


def loss_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Only the records that carry losses (quality records are logged on their own lines)."""
    return [r for r in records if "loss_d" in r or "loss_g" in r]


def last_value(records: list[dict[str, Any]], key: str) -> float | None:
    """The newest finite value of key, or None."""
    for record in reversed(records):
        value = record.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    return None


def run_step(status: dict[str, Any], records: list[dict[str, Any]]) -> int:
    """Steps trained so far: status.json or the newest metric record, whichever is larger."""
    last = last_value(records, "step")
    return max(int(status.get("step") or 0), int(last or 0))


@dataclass(frozen=True)
class RunSummary:
    """What a list of runs shows about one run (values, not formatting)."""

    id: str
    name: str
    state: str
    config: TrainConfig | None  # None when config.json is damaged
    step: int
    total_steps: int
    elapsed: float | None
    loss_d: float | None
    loss_g: float | None
    fid: float | None
    hardware: str = ""  # where it trains or trained: "cuda:1 · bf16", "2 processes (torchrun) · cuda · bf16"


def summarise(run: Run, state: str | None, records: list[dict[str, Any]]) -> RunSummary:
    """A run's summary (state: a job queue's finer view, else the recorded one); a broken config is marked."""
    status = read_status(run)
    state = str(state or status["state"])
    try:
        config: TrainConfig | None = run.config()
    except RunError:
        config, state = None, "broken config"
    total = int(status.get("total_steps") or (config.max_steps if config else 0) or 0)
    elapsed = status.get("elapsed") or last_value(records, "elapsed")
    return RunSummary(id=run.id, name=run.display_name, state=state, config=config, step=run_step(status, records),
                      total_steps=total, elapsed=elapsed, loss_d=last_value(records, "loss_d"),
                      loss_g=last_value(records, "loss_g"), fid=last_value(records, "fid"),
                      hardware=str(status.get("hardware") or ""))


def unique_labels(runs: list[Run]) -> dict[str, str]:
    """Display names, made unique with the run id where two runs share a name (legends must not merge)."""
    names = [r.display_name for r in runs]
    return {r.id: (n if names.count(n) == 1 or n == r.id else f"{n} ({r.id})") for r, n in zip(runs, names)}


def _cell(value: Any) -> str:
    # Text cells: a column mixing numbers, strings and lists would not convert to Arrow cleanly.
    return json.dumps(value) if isinstance(value, (list, tuple, dict)) else str(value)


def config_diff(configs: dict[str, TrainConfig]) -> list[dict[str, str]]:
    """Rows {'field': name, <label>: value, ...} for the config fields whose values differ between runs."""
    dicts = {label: cfg.to_dict() for label, cfg in configs.items()}
    if len(dicts) < 2:
        return []
    names = list(next(iter(dicts.values())))
    rows = []
    for name in names:
        values = [d.get(name) for d in dicts.values()]
        if any(v != values[0] for v in values[1:]):
            rows.append({"field": name, **{label: _cell(d.get(name)) for label, d in dicts.items()}})
    return rows


# Fields that tell runs apart but are not settings to compare (the run's own name, where its logs go).
_NOT_SETTINGS = {"name", "log_every", "sample_every", "checkpoint_every", "keep_checkpoints", "num_samples",
                 "quality_every", "threads"}


def varying_fields(configs: list[TrainConfig], limit: int = 8) -> list[str]:
    """The settings whose values differ among these runs (declaration order, at most `limit`): table columns."""
    if len(configs) < 2:
        return []
    dicts = [c.to_dict() for c in configs]
    names = [n for n in dicts[0] if n not in _NOT_SETTINGS]
    return [n for n in names if any(d.get(n) != dicts[0].get(n) for d in dicts[1:])][:limit]


def common_steps(runs: list[Run]) -> list[int]:
    """Every step at which at least one of the runs saved a sample grid, ascending."""
    return sorted({step for run in runs for step, _ in run.sample_paths()})


def resume_blocker(run: Run) -> str | None:
    """Why this run cannot be resumed here now (None if it can)."""
    if is_live(run):
        return busy_message(run, "resume")
    if run.latest_checkpoint is None:
        return f"run {run.display_name!r} has no checkpoint yet, so there is nothing to resume from"
    processes = read_status(run).get("processes") or 1
    if isinstance(processes, int) and processes > 1:  # a job is one process; its checkpoint holds N processes' state
        return (f"run {run.display_name!r} was trained by {processes} processes through torchrun; resume it the same "
                f"way: torchrun --nproc-per-node {processes} -m ganlab resume {run.id}")
    return None
