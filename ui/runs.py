"""Runs page glue: job states from this process's queue, cached metric files, and a table row per run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from ganlab.runs import Run
from ganlab.runs.summary import summarise
from ganlab.train import JobManager
from ui.widgets import format_duration


def live_states(manager: JobManager) -> dict[Path, str]:
    """State of every unfinished job of this process, by run folder (ids repeat across GANLAB_HOMEs)."""
    out: dict[Path, str] = {}
    for job in manager.jobs():
        snap = job.snapshot()
        if snap.active:
            out[job.run.path.resolve()] = str(snap.state)
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


def run_row(run: Run, state: str) -> dict[str, Any]:
    """One row of the runs table."""
    s = summarise(run, state, cached_metrics(run))
    cfg = s.config
    return {
        "Name": s.name,
        "Status": s.state,
        "Dataset": cfg.dataset if cfg else "—",
        "Model": f"{cfg.arch} / {cfg.loss}" if cfg else "—",
        "Size": f"{cfg.img_size}px" if cfg else "—",
        "Steps": f"{s.step:,} / {s.total_steps:,}" if s.total_steps else f"{s.step:,}",
        "Time": format_duration(s.elapsed),
        "loss_d": s.loss_d,
        "loss_g": s.loss_g,
        "FID": s.fid,
        "Run id": s.id,
    }
