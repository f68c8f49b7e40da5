"""Runs page glue: job states from this process's queue, cached metric files, and a table row per run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from ganlab.runs import Run, state_of
from ganlab.runs.quality import best_quality, kind, latest_alarm, metric_name, quality_records, quality_text
from ganlab.runs.summary import summarise, varying_fields
from ganlab.runs.tail import MetricsTail
from ganlab.train import JobManager
from ui.charts import quality_compare_figure
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


def _number(value: float | None, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def run_rows(runs: list[Run], states: dict[str, str], labels: dict[str, str]) -> list[dict[str, Any]]:
    """The runs table: one row per run, the settings that differ between the runs as columns, '—' where a run
    has nothing to show (never started, failed before its first step)."""
    summaries = {run.id: summarise(run, states[run.id], cached_metrics(run)) for run in runs}
    varying = varying_fields([s.config for s in summaries.values() if s.config is not None])
    alarms = {run.id: latest_alarm(cached_metrics(run)) for run in runs}
    rows = []
    for run in runs:
        s, cfg = summaries[run.id], summaries[run.id].config
        row = {
            "Name": labels[run.id],
            "Status": s.state,
            "Dataset": cfg.dataset if cfg else "—",
            "Model": f"{cfg.arch} / {cfg.loss}" if cfg else "—",
            "Device": s.hardware.split(" · channels_last")[0] or "—",
            "Steps": (f"{s.step:,} / {s.total_steps:,}" if s.total_steps else f"{s.step:,}") if s.step else "—",
            "Time": format_duration(s.elapsed),
            "Quality (lower is better)": quality_text(cached_metrics(run)),
            "D loss": _number(s.loss_d),
            "G loss": _number(s.loss_g),
        }
        if any(alarms.values()):  # a column only when some run has something to say
            row["Warning"] = f"⚠ {alarms[run.id]['message']}" if alarms[run.id] else ""
        for field in varying:
            value = getattr(cfg, field) if cfg else "—"
            row[field] = ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
        row["Run id"] = s.id
        rows.append(row)
    return rows


def quality_compare(selected: list[Run], labels: dict[str, str]) -> None:
    """The runs' quality numbers overlaid against steps or training time, and a table of final and best values.
    Only numbers of one extractor and sample count are drawn together; the others are named, not mixed in."""
    found = {labels[r.id]: quality_records(cached_metrics(r)) for r in selected}
    found = {label: records for label, records in found.items() if records}
    if not found:
        st.caption("None of these runs has a quality number yet (it is measured every `quality_every` steps).")
        return
    kinds = {label: kind(records[-1]) for label, records in found.items()}
    common = max(set(kinds.values()), key=list(kinds.values()).count)
    alike = {label: records for label, records in found.items() if kinds[label] == common}
    axis = st.segmented_control("Quality against", ["steps", "training time"], default="steps",
                                key="runs.quality_x") or "steps"
    metric = metric_name(next(iter(alike.values()))[-1])
    fig = quality_compare_figure(alike, "elapsed" if axis == "training time" else "step", metric=metric,
                                 title=f"Quality: {metric} in {common[0]} features, {common[1]} samples")
    st.plotly_chart(fig, key="runs.quality_chart")
    rows = []
    for label, records in alike.items():
        final, best = records[-1], best_quality(records)
        rows.append({"Run": label, f"Final {metric}": f"{final['fid']:.2f}", "at step": f"{int(final['step']):,}",
                     f"Best {metric}": f"{best['fid']:.2f}", "best at step": f"{int(best['step']):,}",
                     "best after": format_duration(best.get("elapsed"))})
    st.dataframe(rows, hide_index=True, key="runs.quality_table")
    others = [f"{label} ({kinds[label][0]}, {kinds[label][1]} samples)" for label in found if label not in alike]
    if others:
        st.caption("Not drawn: " + "; ".join(others) + f" — numbers of another feature space or sample count do "
                   f"not compare with {common[0]}'s.")
