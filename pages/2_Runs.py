"""Runs page: every run on disk, side-by-side comparison, and resume / rename / export / download / delete."""

from __future__ import annotations

import streamlit as st

from ganlab import paths
from ganlab.runs import Run, RunError, busy_message, delete_run, is_live, list_runs, rename_run
from ganlab.runs.summary import common_steps, config_diff, loss_records, resume_blocker, unique_labels
from ganlab.train import extra_steps_overrides
from ui import state as ui_state
from ui.charts import DEFAULT_SMOOTHING, loss_figure
from ui.jobs import get_manager
from ui.run_exports import export_panel, run_download
from ui.runs import cached_metrics, live_states, quality_compare, run_rows, run_state
from ui.sidebar import page
from ui.state import keep_valid
from ui.sweeps import sweeps_section
from ui.widgets import show_error, show_flash, show_grid

COMPARE = "runs.compare"  # multiselect of run ids
COMPARE_KEPT = "runs.compare_kept"  # the same selection, kept while the page is not shown (widget state is not)
MANAGE = "runs.manage"  # run id picked for resume / rename / delete
CONFIRM_DELETE = "runs.confirm_delete"  # run id waiting for the second click
SAMPLE_STEP = "runs.sample_step"
FLASH = "runs.flash"  # (level, text) shown once after an action's rerun


def _flash(level: str, text: str) -> None:
    ui_state.flash(FLASH, level, text)
    st.rerun()


def compare(selected: list[Run], labels: dict[str, str]) -> None:
    """Quality numbers, overlaid loss curves, sample grids at one step, and the config fields that differ."""
    quality_compare(selected, labels)
    left, right = st.columns(2)
    log_y = left.toggle("Log-scale y axis", key="runs.log_y")
    smoothing = right.slider("Smoothing", 0.0, 0.99, DEFAULT_SMOOTHING, 0.01, key="runs.smoothing")
    histories = {labels[r.id]: loss_records(cached_metrics(r)) for r in selected}
    if any(histories.values()):
        fig = loss_figure(histories, ("loss_d", "loss_g"), log_y=log_y, smoothing=smoothing,
                          title="D and G losses")
        st.plotly_chart(fig, key="runs.chart")
    else:
        st.caption("None of these runs has logged losses yet.")

    steps = common_steps(selected)
    if steps:
        keep_valid(SAMPLE_STEP, steps)
        step = steps[0]
        if len(steps) > 1:
            step = st.select_slider("Sample grids at step", options=steps, value=steps[-1], key=SAMPLE_STEP,
                                    help="Each run shows its grid saved at this step, or the nearest one before it.")
        cols = st.columns(min(len(selected), 4))
        for i, run in enumerate(selected):
            with cols[i % len(cols)]:
                near = run.sample_near(step)
                if near is None:
                    st.caption(f"{labels[run.id]}: no sample grids yet")
                else:
                    show_grid(near[1], caption=f"{labels[run.id]} · step {near[0]:,}", min_width=192,
                              width="stretch")

    if len(selected) >= 2:
        configs = {}
        for run in selected:
            try:
                configs[labels[run.id]] = run.config()
            except RunError as exc:
                show_error(exc, hint="Its config.json was edited or damaged; delete the run or restore the file.")
        rows = config_diff(configs)
        st.markdown("**Config fields that differ**")
        if rows:
            st.dataframe(rows, hide_index=True, key="runs.diff")
        else:
            st.caption("These runs use identical configurations.")


def resume_panel(run: Run, state: str, label: str) -> None:
    if run.latest_checkpoint is None:
        st.caption("No checkpoint: this run never trained far enough to save one, so there is nothing to resume. "
                   "Start a new run on the Train page.")
        return
    extra = st.number_input("Extra steps beyond the last checkpoint (0 = finish the planned steps)",
                            min_value=0, max_value=10_000_000, value=0, step=100, key="runs.extra_steps")
    if not st.button("Resume from the last checkpoint", key="runs.resume", icon=":material/play_arrow:"):
        st.caption("Training continues with the optimiser state and random streams of the checkpoint.")
        return
    blocker = resume_blocker(run)
    if blocker:
        show_error(blocker, hint="Pick a stopped, finished or interrupted run that has a checkpoint.")
        return
    if state == "finished" and int(extra) == 0:
        show_error(f"run {label!r} already trained all its planned steps",
                   hint="Set extra steps above 0 to train it further.")
        return
    try:
        job = get_manager().resume(run, extra_steps_overrides(run, int(extra)))
    except ValueError as exc:  # CheckpointError, ConfigError and RunError are all ValueErrors
        show_error(exc, hint="Check that the run's checkpoint is intact, or start a new run on the Train page.")
        return
    st.session_state[ui_state.SELECTED_JOB] = job.job_id  # the Train page's live panel follows it
    where = "queued behind the current job" if job.snapshot().state == "queued" else "training"
    _flash("success", f"Resumed **{label}** ({where}). Open the Train page to watch it live.")


def rename_panel(run: Run, label: str) -> None:
    name = st.text_input("Display name", value=run.display_name, max_chars=80, key=f"runs.name.{run.id}")
    if st.button("Rename", key="runs.rename", icon=":material/edit:"):
        try:
            rename_run(run, name)
        except RunError as exc:
            show_error(exc, hint="Use 1 to 80 characters; the folder name stays the same.")
            return
        _flash("success", f"Renamed {label!r} to {name.strip()!r}.")


def delete_panel(run: Run, state: str, label: str) -> None:
    if st.session_state.get(CONFIRM_DELETE) != run.id:
        if st.button("Delete…", key="runs.delete", icon=":material/delete:"):
            if is_live(run):
                show_error(busy_message(run, "delete"), hint="Stop it first (on the Train page, or in the "
                           "terminal that trains it), then delete it here.")
            else:
                st.session_state[CONFIRM_DELETE] = run.id
                st.rerun()
        return
    st.warning(f"Delete **{label}** with all its checkpoints, samples and metrics? This cannot be undone.")
    yes, no = st.columns(2)
    if yes.button("Yes, delete it", type="primary", key="runs.delete_yes"):
        st.session_state.pop(CONFIRM_DELETE, None)
        try:
            delete_run(run)
        except (RunError, OSError) as exc:  # RunBusyError (a RunError too) when it started training meanwhile
            show_error(exc, hint=f"Stop the run, or close programs using files in {run.path}, and try again.")
            return
        _flash("success", f"Deleted {label!r}.")
    if no.button("Cancel", key="runs.delete_no"):
        st.session_state.pop(CONFIRM_DELETE, None)
        st.rerun()


page("Runs")
st.title("Runs")
show_flash(FLASH)

runs = list_runs()
if not runs:
    st.info(f"No runs yet. Start one on the **Train** page: every run is kept in `{paths.runs_dir()}` "
            "and listed here, also after the app restarts.")
    st.stop()

live = live_states(get_manager())
states = {r.id: run_state(r, live) for r in runs}
labels = unique_labels(runs)
by_id = {r.id: r for r in runs}

st.dataframe(run_rows(runs, states, labels), hide_index=True, key="runs.table")
st.caption("Columns after the losses are the settings that differ between these runs. A quality number says "
           "where (step) and with what (feature extractor) it was measured: compare runs only by numbers of the "
           "same extractor and dataset.")
if any(s == "interrupted" for s in states.values()):
    st.caption("*interrupted*: the process training it ended without stopping it; resume it below.")

sweeps_section()

st.subheader("Compare")
if COMPARE not in st.session_state and COMPARE_KEPT in st.session_state:
    st.session_state[COMPARE] = st.session_state[COMPARE_KEPT]  # back from another page: the same selection
keep_valid(COMPARE, by_id, multi=True)
chosen = st.multiselect("Runs to compare", list(by_id), format_func=labels.get, key=COMPARE,
                        placeholder="Pick two or more runs")
st.session_state[COMPARE_KEPT] = list(chosen)
if chosen:
    compare([by_id[i] for i in chosen], labels)

st.subheader("Manage")
keep_valid(MANAGE, by_id)
picked = st.selectbox("Run", list(by_id), format_func=labels.get, key=MANAGE)
run, state, label = by_id[picked], states[picked], labels[picked]
st.caption(f"Status **{state}** · folder `{run.path}`")
tab_resume, tab_rename, tab_export, tab_delete = st.tabs(["Resume", "Rename", "Export & download", "Delete"])
with tab_resume:
    resume_panel(run, state, label)
with tab_rename:
    rename_panel(run, label)
with tab_export:
    export_panel(run, label)
    st.divider()
    run_download(run)
with tab_delete:
    delete_panel(run, state, label)
