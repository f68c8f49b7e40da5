"""Runs page glue: job states from this process's queue, cached metric files, and a table row per run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from ganlab.runs import Run, state_of
from ganlab.runs.summary import summarise
from ganlab.runs.tail import MetricsTail
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
    """This app's job view for its own live jobs (it knows 'starting', 'stopping'), else the run's recorded state
    (a run nobody holds the lock of while its state is not final reads 'interrupted')."""
    return live.get(run.path.resolve()) or str(state_of(run))


@st.cache_resource(show_spinner=False)
def _metrics_tail() -> MetricsTail:
    return MetricsTail(max_runs=64)  # shared by all sessions; thread-safe


def cached_metrics(run: Run) -> list[dict[str, Any]]:
    """run.read_metrics(), parsing only the lines appended since the last call (one copy per run)."""
    return _metrics_tail().records(run.metrics_path)


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
        "Device": s.hardware.split(" · channels_last")[0] or "—",
        "Steps": f"{s.step:,} / {s.total_steps:,}" if s.total_steps else f"{s.step:,}",
        "Time": format_duration(s.elapsed),
        "loss_d": s.loss_d,
        "loss_g": s.loss_g,
        "FID": s.fid,
        "Run id": s.id,
    }
