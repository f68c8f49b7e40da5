"""The Train page's job picker and live panel: controls, curves, grids, progress, errors (polled fragment)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import numpy as np
import pandas as pd
import streamlit as st

from ganlab.train import JobSnapshot, JobState, TrainingJob
from ui import state
from ui.charts import DEFAULT_SMOOTHING
from ui.jobs import get_manager
from ui.live_vega import CHART_HEIGHT, curve_table, loss_spec, score_keys, scores_spec
from ui.quality import quality_panel
from ui.widgets import format_duration, png_bytes, show_error, show_progress

POLL_RUNNING_S = 1.0  # live panel refresh while a job trains: new points show within about a second
POLL_QUEUED_S = 2.0
POLL_PAUSED_S = 3.0  # nothing changes while paused, except through this tab's own step buttons
LIVE_POINTS = 300  # points per curve on the live charts (the full history is on disk and on the Runs page); about
# 2 px apart on a half-width chart, and the browser re-ingests every point at each refresh
STATE_ICONS = {"queued": "⏳", "starting": "🔄", "running": "🟢", "paused": "⏸️", "stopping": "⏹️",
               "finished": "✅", "stopped": "⏹️", "failed": "❌", "diverged": "💥"}
ERROR_HINTS = {
    "failed": "Fix the setting the message names (dataset path, image size, batch size...) and start a new run.",
    "diverged": "Lower the learning rates, switch to the wgan-gp or hinge loss, or use fp32 precision; "
                "the last good checkpoint can be resumed from the Runs page.",
}


def job_label(snap: JobSnapshot) -> str:
    """'00012-dcgan-digits · cuda:1 · running · 120/500' for selectors and the sidebar (the device once pinned)."""
    total = f"/{snap.total_steps}" if snap.total_steps else ""
    device = f" · {snap.device}" if snap.device else ""
    return f"{STATE_ICONS.get(snap.state, '')} {snap.run_id}{device} · {snap.state} · {snap.step}{total}"


def default_job(jobs: list[TrainingJob]) -> TrainingJob:
    """The job a fresh page shows: the one training (or paused), then the next queued, then the newest."""
    snaps = [(job, job.snapshot()) for job in jobs]
    training = [job for job, snap in snaps if JobState(snap.state).holds_slot]
    queued = sorted((job for job, snap in snaps if snap.state == JobState.QUEUED),
                    key=lambda j: get_manager().queue_position(j.job_id) or 0)
    return (training or queued or jobs)[0]


def pick_job() -> TrainingJob | None:
    """Selector over every job of this process (all tabs see all jobs); the one training by default."""
    manager = get_manager()
    jobs = manager.jobs()
    if not jobs:
        return None
    ids = [job.job_id for job in jobs]
    follow = st.session_state.pop(state.FOLLOW_NEWEST, None)
    if follow in ids:
        st.session_state[state.SELECTED_JOB] = follow
    elif st.session_state.get(state.SELECTED_JOB) not in ids:
        st.session_state[state.SELECTED_JOB] = default_job(jobs).job_id
    # Labels stay constant (no state or step): in the browser a label that changed between runs was
    # seen to stay stale in the closed selectbox; the panel below shows the live state instead.
    names = {job.job_id: job.run.display_name for job in jobs}
    job_id = st.selectbox("Job", ids, key=state.SELECTED_JOB,
                          format_func=lambda i: i if names.get(i, i) == i else f"{names[i]} ({i})",
                          help="Every training job of this app, from every browser tab; newest first.")
    return manager.get(job_id)


def _act(job: TrainingJob, action: Callable[[], None], until: Callable[[JobSnapshot], bool]) -> None:
    """Run a control action, then wait briefly for the job to show its effect (snappy, testable UI)."""
    try:
        action()
        job.wait_for(until, timeout=10.0)
    except ValueError as exc:  # e.g. a single step on a job that just stopped being paused
        show_error(exc, hint="Pause the job first; single steps work only while it is paused.")
    except TimeoutError:
        pass  # the panel keeps polling; the effect shows on a later refresh


def controls(job: TrainingJob, snap: JobSnapshot) -> None:
    """Pause / Unpause / Stop, and while paused Step D / Step G / Step both."""
    manager = get_manager()
    cols = st.columns(5)
    if snap.state == "queued":
        if cols[0].button("Stop", key="job.stop", icon=":material/stop:", help="Take this run out of the queue"):
            manager.stop(job.job_id)
            st.rerun(scope="app")
        return
    if not snap.active:
        _resume_button(job, snap)
        return
    if snap.state == "paused":
        if cols[0].button("Unpause", key="job.unpause", icon=":material/play_arrow:", type="primary"):
            _act(job, job.unpause, lambda s: s.state != "paused")
            st.rerun(scope="app")
        d0, g0 = snap.d_updates, snap.g_updates
        if cols[2].button("Step D", key="job.step_d", help="One discriminator update"):
            _act(job, job.step_d, lambda s: s.d_updates > d0)
        if cols[3].button("Step G", key="job.step_g", help="One generator update"):
            _act(job, job.step_g, lambda s: s.g_updates > g0)
        if cols[4].button("Step both", key="job.step_both", help="One full iteration (D then G)"):
            _act(job, job.step_both, lambda s: s.step > snap.step)
    elif snap.state in ("starting", "running"):
        if cols[0].button("Pause", key="job.pause", icon=":material/pause:"):
            _act(job, job.pause, lambda s: s.state == "paused" or not s.active)
            st.rerun(scope="app")
    if snap.state != "stopping" and cols[1].button("Stop", key="job.stop", icon=":material/stop:"):
        with st.spinner("Stopping and saving a checkpoint…"):
            manager.stop(job.job_id)
        st.rerun(scope="app")


def _resume_button(job: TrainingJob, snap: JobSnapshot) -> None:
    """An ended job that left a checkpoint can be resumed here too (not only on the Runs page)."""
    if snap.state == JobState.FINISHED or job.run.latest_checkpoint is None:
        return
    if st.button("Resume from its checkpoint", key="job.resume", icon=":material/play_arrow:",
                 help="Continue this run with its optimiser state and random streams (a new job)"):
        try:
            resumed = get_manager().resume(job.run)
        except ValueError as exc:  # RunBusyError names who holds it; CheckpointError says what is wrong
            show_error(exc, hint="Look at the Runs page for this run's state.")
            return
        st.session_state[state.FOLLOW_NEWEST] = resumed.job_id
        st.rerun(scope="app")


def _grids(job: TrainingJob, snap: JobSnapshot) -> None:
    """One grid: the newest by default; the slider goes back through every grid saved earlier."""
    samples = job.run.sample_paths()
    steps = [s for s, _ in samples]
    if snap.grid is not None and snap.grid_step not in steps:
        steps.append(snap.grid_step)  # the newest, before its file is listed
    if not steps:
        if snap.active:
            st.info("The first sample grid appears once the data is loaded.")
        else:
            st.caption("No sample grid: this job ended before training started.")
        return
    newest = steps[-1]
    pin_key = f"{state.GRID_PIN}.{snap.job_id}"
    pinned = st.session_state.get(pin_key)
    target = pinned if pinned in steps else newest  # follow the newest unless the user moved the slider back
    step = newest
    if len(steps) > 1:
        # The key carries the value it opens at, so a new grid makes a new slider instead of the script moving a
        # live one: a moved widget races the browser, whose next refresh can send the old value back (seen on a
        # fast machine as a slider stuck on an early grid while training went on).
        key = f"{state.GRID_STEP}.{snap.job_id}.{target}"
        step = st.select_slider("Grid at step", steps, value=target, key=key, on_change=_pin_grid,
                                args=(key, pin_key, newest))
    if step == snap.grid_step and snap.grid is not None:
        st.image(grid_png(snap.job_id, snap.grid_step, snap.grid), caption=f"newest grid · step {step}")
        return
    path = dict(samples)[step]
    try:
        st.image(file_png(str(path), path.stat().st_mtime_ns), caption=f"step {step}")
    except (OSError, ValueError) as exc:  # thinned or deleted between listing and reading
        show_error(exc)


def _pin_grid(key: str, pin_key: str, newest: int) -> None:
    """The user moved the grid slider: stay on that grid, or follow new grids again when they chose the newest."""
    chosen = st.session_state.get(key)
    st.session_state[pin_key] = None if chosen == newest else chosen


def poll_interval(snap: JobSnapshot) -> float | None:
    """Seconds between live-panel refreshes for this job state; None (no polling) once it has ended."""
    if not snap.active:
        return None
    return {"queued": POLL_QUEUED_S, "starting": POLL_QUEUED_S, "paused": POLL_PAUSED_S}.get(str(snap.state),
                                                                                           POLL_RUNNING_S)


# Built once per snapshot version and shared by every tab that shows the job: a refresh that finds nothing new
# re-sends the same tables instead of rebuilding them. The specs stay the same while the user leaves the toggles
# alone, so the browser only swaps each chart's data (ui/live_vega.py says why that matters).
@st.cache_resource(max_entries=16, show_spinner=False)
def live_charts(job_id: str, version: float, log_y: bool, smoothing: float,
                _history: tuple[dict, ...]) -> list[tuple[str, dict, pd.DataFrame]]:
    """[(element key, Vega-Lite spec, data)] of the live curves: losses, D's outputs, ADA's p when it runs."""
    history = list(_history)
    charts = []
    for key, keys, title in (("live.loss", ("loss_d", "loss_g"), "Losses"),
                             ("live.ada", ("ada_p", "ada_rt"), "ADA: augmentation probability p and r_t")):
        table = curve_table(history, keys, smoothing=smoothing, max_points=LIVE_POINTS)
        if key == "live.ada" and table.empty:
            continue
        log = log_y and key == "live.loss"  # the toggle is for losses; p and r_t stay on a linear axis
        magnitudes = bool(log and (table["value"] <= 0).any())  # a log axis cannot show a critic's loss
        if magnitudes:
            table = curve_table(history, keys, smoothing=smoothing, max_points=LIVE_POINTS, magnitudes=True)
        charts.append((key, loss_spec(keys, log_y=log, title=title, magnitudes=magnitudes), table))
    keys = score_keys(history)
    charts.insert(1, ("live.scores", scores_spec(keys),
                      curve_table(history, keys, smoothing=smoothing, max_points=LIVE_POINTS)))
    return charts


@st.cache_resource(max_entries=32, show_spinner=False)
def grid_png(job_id: str, grid_step: int, _grid: np.ndarray) -> bytes:
    """The newest grid of a job as upscaled PNG bytes, encoded once for every tab."""
    return png_bytes(_grid)


@st.cache_resource(max_entries=64, show_spinner=False)
def file_png(path: str, mtime_ns: int) -> bytes:
    """A saved sample grid as upscaled PNG bytes, encoded once per file version."""
    return png_bytes(path)


def panel_body(job_id: str, every: float | None, shown_state: str) -> None:
    """One refresh of the live panel's data views for a job (the body of the polled fragment)."""
    job = get_manager().get(job_id)
    if job is None:
        st.warning("This job is gone (the app was restarted); its run is listed on the Runs page.")
        return
    # A CPU run shares a core while pages show it (TrainingJob.watched says why); one viewer per browser session.
    job.watched(st.session_state.setdefault(state.VIEWER, uuid.uuid4().hex))
    snap = job.snapshot()
    if poll_interval(snap) != every or snap.state != shown_state:
        st.rerun(scope="app")  # new controls above, and the fragment redefined with the new interval
    st.markdown(f"**{job.run.display_name}** · {STATE_ICONS.get(snap.state, '')} `{snap.state}`"
                + (f" · {snap.hardware}" if snap.hardware else "") + (f" · {snap.message}" if snap.message else ""))
    if snap.state == "queued":
        pos = get_manager().queue_position(job_id)
        st.info(f"Queued{f' (position {pos})' if pos else ''}: one job trains at a time; this one starts "
                "by itself when the running job ends. Stop that job to start this one sooner.")
    if snap.state in ERROR_HINTS and snap.error:
        show_error(snap.error, hint=ERROR_HINTS[snap.state])
    show_progress(snap.progress, snap.step, snap.total_steps, snap.latest, snap.state)
    latest = snap.latest
    cols = st.columns(5)
    training = snap.state == JobState.RUNNING
    cols[0].metric("images / s", f"{latest.get('img_s', 0):,.0f}" if latest and training else "—",
                   help=None if training else "Shown while the job trains")
    cols[1].metric("D updates", f"{snap.d_updates:,}")
    cols[2].metric("G updates", f"{snap.g_updates:,}")
    cols[3].metric("D loss", f"{latest['loss_d']:.3f}" if "loss_d" in latest else "—")
    cols[4].metric("G loss", f"{latest['loss_g']:.3f}" if "loss_g" in latest else "—")
    history = list(snap.history)
    if history:
        log_y, smoothing = st.session_state[state.LOG_Y], st.session_state[state.SMOOTHING]
        charts = live_charts(snap.job_id, snap.updated, bool(log_y), float(smoothing), snap.history)
        for place, (key, spec, table) in zip((*st.columns(2), st.container()), charts):
            # The chart's key keeps its identity (and so its browser view) across refreshes; the box's key names
            # it in the page (a keyed chart gets no st-key-* class of its own).
            place.container(key=f"{key}.box").vega_lite_chart(table, spec, key=key, width="stretch",
                                                               height=CHART_HEIGHT)
        quality_panel(history, snap.quality_note)
    _grids(job, snap)
    footer = {JobState.RUNNING: "Training continues if you leave this page or close the tab.",
              JobState.PAUSED: "Paused: it holds its place until you press Unpause (or Stop).",
              JobState.QUEUED: "It starts by itself when the job ahead of it ends.",
              JobState.STARTING: "Loading data and building the networks."}.get(snap.state)
    if footer and snap.all_threads and snap.threads < snap.all_threads:
        footer += (f" While several pages show this panel it trains on {snap.threads} of {snap.all_threads} CPU threads, "
                   "so drawing the page does not stall it; it takes all back when no page shows it.")
    if footer:
        st.caption(f"Updated {time.strftime('%H:%M:%S')} · trained {format_duration(latest.get('elapsed'))}. {footer}")


def live_panel(job: TrainingJob) -> None:
    """The controls and chart settings, then the data views as a fragment that polls only while the job is
    active (run_every=None otherwise).

    Only what changes between refreshes is in the fragment: every element in it is sent and re-rendered by the
    browser at each refresh (React and its styling were most of a watching tab's CPU, docs/architecture.md), so
    the buttons and chart settings stay outside; a change of state reruns the page to redraw them.
    """
    st.session_state.setdefault(state.LOG_Y, False)
    st.session_state.setdefault(state.SMOOTHING, DEFAULT_SMOOTHING)
    snap = job.snapshot()
    controls(job, snap)
    snap = job.snapshot()  # a single step just taken shows at once
    c1, c2 = st.columns([1, 3])
    c1.toggle("Log scale", key=state.LOG_Y, help="Losses on a log axis")
    c2.slider("Smoothing", 0.0, 0.99, step=0.01, key=state.SMOOTHING, help="Exponential smoothing of the curves")
    every = poll_interval(snap)
    st.fragment(panel_body, run_every=every)(job.job_id, every, str(snap.state))
