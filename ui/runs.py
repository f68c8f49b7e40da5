"""Runs page helpers: live state per run, table rows, cached metrics, config diffs, shared sample steps."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import streamlit as st

from ganlab.checkpoint import load_checkpoint
from ganlab.config import TrainConfig
from ganlab.manager import JobManager
from ganlab.runs import ACTIVE_STATES, Run, RunError
from ui.widgets import format_duration

# States in which a run must not be resumed, deleted or double-started ("queued" exists only in the manager).
BUSY_STATES = (*ACTIVE_STATES, "queued", "stopping")


def live_states(manager: JobManager) -> dict[Path, str]:
    """State of every unfinished job of this process, by run folder (ids repeat across GANLAB_HOMEs)."""
    out: dict[Path, str] = {}
    for job in manager.jobs():
        snap = job.snapshot()
        if snap.active:
            out[job.run.path.resolve()] = snap.state
    return out


def run_state(run: Run, live: dict[Path, str]) -> str:
    """The manager's view for a live job (it knows 'queued'), else status.json (dead owners -> interrupted)."""
    return live.get(run.path.resolve()) or str(run.status().get("state", "unknown"))


@st.cache_data(max_entries=512, show_spinner=False)
def _read_metrics(path: str, mtime_ns: int, size: int) -> list[dict[str, Any]]:
    # mtime + size in the key: an appended line invalidates the entry, an unchanged file is parsed once.
    return Run(Path(path)).read_metrics()


def cached_metrics(run: Run) -> list[dict[str, Any]]:
    """run.read_metrics(), re-parsed only when metrics.jsonl changed."""
    try:
        stat = run.metrics_path.stat()
    except OSError:
        return []
    return _read_metrics(str(run.path), stat.st_mtime_ns, stat.st_size)


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


def run_step(run: Run, records: list[dict[str, Any]] | None = None) -> int:
    """Steps trained so far: status.json (written by jobs) or the newest metric record, whichever is larger."""
    records = cached_metrics(run) if records is None else records
    last = last_value(records, "step")
    return max(int(run.status().get("step") or 0), int(last or 0))


def run_row(run: Run, state: str) -> dict[str, Any]:
    """One row of the runs table; a run with a broken config still gets a row (marked, not hidden)."""
    status = run.status()
    records = cached_metrics(run)
    try:
        cfg: TrainConfig | None = run.config()
    except RunError:
        cfg, state = None, "broken config"
    total = status.get("total_steps") or (cfg.max_steps if cfg else 0)
    step = run_step(run, records)
    elapsed = status.get("elapsed") or last_value(records, "elapsed")
    return {
        "Name": run.display_name,
        "Status": state,
        "Dataset": cfg.dataset if cfg else "—",
        "Model": f"{cfg.arch} / {cfg.loss}" if cfg else "—",
        "Size": f"{cfg.img_size}px" if cfg else "—",
        "Steps": f"{step:,} / {total:,}" if total else f"{step:,}",
        "Time": format_duration(elapsed),
        "loss_d": last_value(records, "loss_d"),
        "loss_g": last_value(records, "loss_g"),
        "FID": last_value(records, "fid"),
        "Run id": run.id,
    }


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


def common_steps(runs: list[Run]) -> list[int]:
    """Every step at which at least one of the runs saved a sample grid, ascending."""
    return sorted({step for run in runs for step, _ in run.sample_paths()})


def resume_blocker(run: Run, state: str) -> str | None:
    """Why this run cannot be resumed now (None if it can)."""
    if state in BUSY_STATES:
        return f"run {run.display_name!r} is {state}; it cannot be resumed twice"
    if run.latest_checkpoint is None:
        return f"run {run.display_name!r} has no checkpoint yet, so there is nothing to resume from"
    return None


def checkpoint_step(run: Run) -> int:
    """The step stored in latest.pt (exact, unlike status.json after a crash); 0 without a checkpoint."""
    path = run.latest_checkpoint
    return int(load_checkpoint(path).get("step", 0)) if path else 0


def resume_overrides(run: Run, extra_steps: int) -> dict[str, Any]:
    """Config overrides for a resume: extend max_steps by extra_steps beyond the checkpoint, or none."""
    if isinstance(extra_steps, bool) or not isinstance(extra_steps, int) or extra_steps < 0:
        raise ValueError(f"extra steps={extra_steps!r}: give a whole number >= 0 (0 = finish the planned steps)")
    if extra_steps == 0:
        return {}
    return {"max_steps": checkpoint_step(run) + extra_steps}
