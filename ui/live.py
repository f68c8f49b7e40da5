"""The Train page's live panel: controls, curves, progress, errors, redrawn in place while a job trains (a polled fragment)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from ganlab.train import JobSnapshot, JobState, TrainingJob
from ui import state
from ui.charts import DEFAULT_SMOOTHING
from ui.jobs import get_manager
from ui.live_grids import earlier_steps, grid_picker, pinned_step, show_grid
from ui.live_vega import CHART_HEIGHT, curve_table, loss_spec, score_keys, scores_spec
from ui.quality import quality_curve, quality_readout
from ui.widgets import format_duration, show_error, show_progress

POLL_RUNNING_S = 1.0  # live panel refresh while a job trains: new points show within about a second
POLL_QUEUED_S = 2.0
POLL_PAUSED_S = 3.0  # nothing changes while paused, except through this tab's own step buttons
STREAM_S = 10.0  # while a job trains, one run of the fragment redraws the panel in place for up to this long
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


def panel_body(job_id: str, every: float | None, shown_state: str, steps: tuple[int, ...] = (),
               pinned: int | None = None) -> None:
    """The body of the polled fragment: the panel's data views for a job. While it trains, a run of the fragment
    by itself redraws them in place every `every` seconds for up to STREAM_S (steps: the grids the page's picker
    lists; pinned: its choice); a run of the whole page draws them once, so the page below is not held up.

    Why in place: each run of a fragment costs the browser a fixed part (about 0.05 s of its main thread at one
    refresh a second, whatever the fragment holds) on top of redrawing the elements; replacing the elements of
    one running fragment skips that part. Widgets inside would answer only when the run ends, so there are none.
    """
    job = get_manager().get(job_id)
    if job is None:
        st.warning("This job is gone (the app was restarted); its run is listed on the Runs page.")
        return
    snap = _watch(job, every, shown_state)
    charts = _charts(snap)
    places = _Places()
    stream = STREAM_S > 0 and not st.session_state.get(state.LIVE_INLINE, False)
    deadline = time.monotonic() + (STREAM_S if stream else 0.0)
    while True:
        _fill(places, job, snap, charts, pinned)
        if snap.state != JobState.RUNNING or every is None or time.monotonic() + every > deadline:
            break
        time.sleep(every)
        snap = _watch(job, every, shown_state)
        charts = _charts(snap)
        if [key for key, _, _ in charts] != list(places.charts or ()):
            st.rerun(scope="fragment")  # a curve appeared (the first points, ADA's p, a second quality figure)
    if stream and snap.active and set(earlier_steps(job, snap)) - set(steps):
        st.rerun(scope="app")  # grids the page's picker does not list yet: redraw it (about every STREAM_S)


def _watch(job: TrainingJob, every: float | None, shown_state: str) -> JobSnapshot:
    """The job's snapshot for one redraw; reruns the page when its state (and so its controls) changed."""
    # A CPU run shares a core while pages show it (TrainingJob.watched says why); one viewer per browser session.
    job.watched(st.session_state.setdefault(state.VIEWER, uuid.uuid4().hex))
    snap = job.snapshot()
    if poll_interval(snap) != every or snap.state != shown_state:
        st.rerun(scope="app")  # new controls above, and the fragment redefined with the new interval
    return snap


def _charts(snap: JobSnapshot) -> list[tuple[str, dict, pd.DataFrame]]:
    """[(element key, Vega-Lite spec, data)] of every live curve the snapshot has data for."""
    if not snap.history:
        return []
    log_y, smoothing = st.session_state[state.LOG_Y], st.session_state[state.SMOOTHING]
    charts = list(live_charts(snap.job_id, snap.updated, bool(log_y), float(smoothing), snap.history))
    quality = quality_curve(list(snap.history))
    return charts + ([quality] if quality else [])


@dataclass
class _Places:
    """The panel's places in one run of the fragment, each made where its first redraw draws it, then refilled.

    Nothing is drawn empty first: an empty placeholder would replace the previous run's element in the browser
    (a blank moment, and a chart would be re-embedded, losing its zoom) until its content arrives. A chart is
    redrawn through the element its first draw returned (same place, same key: the browser swaps its data and
    keeps the view); a curve's keyed box names it in the page, and a key may appear once per run."""

    head: DeltaGenerator | None = None
    charts: dict[str, DeltaGenerator] | None = None
    quality: DeltaGenerator | None = None
    footer: DeltaGenerator | None = None
    grid: DeltaGenerator | None = None
    grid_shown: tuple | None = None


def _fill(places: _Places, job: TrainingJob, snap: JobSnapshot, charts: list[tuple[str, dict, pd.DataFrame]],
          pinned: int | None) -> None:
    """One redraw: head (state, progress, numbers), curves (two side by side, then full width), quality read-out,
    footer, grid (re-sent only when it changed)."""
    places.head = st.empty() if places.head is None else places.head
    with places.head.container():
        _head(job, snap)
    if places.charts is None:
        places.charts = {}
        lines = [chart for chart in charts if chart[0] != "live.fid"]
        for place, (key, spec, table) in zip((*st.columns(2), st.container()) if lines else (), lines):
            places.charts[key] = place.container(key=f"{key}.box").vega_lite_chart(
                table, spec, key=key, width="stretch", height=CHART_HEIGHT)
    else:
        for key, spec, table in charts:
            if key != "live.fid":
                places.charts[key].vega_lite_chart(table, spec, key=key, width="stretch", height=CHART_HEIGHT)
    places.quality = st.empty() if places.quality is None else places.quality
    with places.quality.container():
        if snap.history:
            quality_readout(list(snap.history), snap.quality_note)
    for key, spec, table in charts:
        if key == "live.fid":
            chart = places.charts[key] if key in places.charts else st.container(key=f"{key}.box")
            places.charts[key] = chart.vega_lite_chart(table, spec, key=key, width="stretch", height=CHART_HEIGHT)
    places.footer = st.empty() if places.footer is None else places.footer
    with places.footer.container():
        _footer(snap)
    if places.grid is None or places.grid_shown != (snap.grid_step, snap.grid is None):  # else re-sent for nothing
        places.grid = st.empty() if places.grid is None else places.grid
        with places.grid.container():
            show_grid(job, snap, pinned)
        places.grid_shown = (snap.grid_step, snap.grid is None)


def _head(job: TrainingJob, snap: JobSnapshot) -> None:
    """State line, queue position or error, progress and the numbers row."""
    st.markdown(f"**{job.run.display_name}** · {STATE_ICONS.get(snap.state, '')} `{snap.state}`"
                + (f" · {snap.hardware}" if snap.hardware else "") + (f" · {snap.message}" if snap.message else ""))
    if snap.state == "queued":
        pos = get_manager().queue_position(job.job_id)
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


def _footer(snap: JobSnapshot) -> None:
    footer = {JobState.RUNNING: "Training continues if you leave this page or close the tab.",
              JobState.PAUSED: "Paused: it holds its place until you press Unpause (or Stop).",
              JobState.QUEUED: "It starts by itself when the job ahead of it ends.",
              JobState.STARTING: "Loading data and building the networks."}.get(snap.state)
    if footer and snap.all_threads and snap.threads < snap.all_threads:
        footer += (f" While several pages show this panel it trains on {snap.threads} of {snap.all_threads} CPU threads, "
                   "so drawing the page does not stall it; it takes all back when no page shows it.")
    if footer:
        elapsed = format_duration(snap.latest.get("elapsed"))
        st.caption(f"Updated {time.strftime('%H:%M:%S')} · trained {elapsed}. {footer}")


def live_panel(job: TrainingJob) -> None:
    """The controls and chart settings, the data views as a fragment that polls only while the job is active
    (run_every=None otherwise), then the grid picker.

    Only what changes between refreshes is in the fragment: every element in it is sent and re-rendered by the
    browser at each refresh (React and its styling were most of a watching tab's CPU, docs/architecture.md), so
    the buttons, chart settings and the grid picker stay outside; a change of state reruns the page to redraw them.
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
    steps = earlier_steps(job, snap)
    st.session_state[state.LIVE_INLINE] = True  # this run of the page draws the panel once and goes on
    try:
        st.fragment(panel_body, run_every=every)(job.job_id, every, str(snap.state), steps,
                                                 pinned_step(job.job_id, steps))
    finally:
        st.session_state[state.LIVE_INLINE] = False  # the fragment's own runs (every `every` s) stream
    grid_picker(job.job_id, steps)  # below the panel, outside the fragment (ui/live_grids.py says why)
