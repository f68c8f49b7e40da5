"""Train: pick data, model and hyperparameters, start a job, and watch it train live."""

from __future__ import annotations

import streamlit as st

from ganlab import data
from ganlab.config import TrainConfig
from ganlab.train import queue_sweep
from ui import form_state, forms, state
from ui.jobs import get_manager, pick_job, start_training
from ui.live import live_panel
from ui.sidebar import page
from ui.sweep_form import sweep_box
from ui.widgets import dataset_preview_or_error, scroll_into_view, show_dataset_preview, show_error, show_flash

page("Train", jobs_here=True)
st.title("Train")
form_state.init_state()

# ---- the job that trains (then the queue, then past jobs): every tab sees every job of this app.
# One keyed container whatever it holds, so the form below keeps its place in the page's element tree, and
# after Start the page scrolls here: the result shows where the eye is.
with st.container(key="live_area"):
    show_flash(state.FLASH)
    job = pick_job()
    if job is not None:
        live_panel(job)
    else:
        st.info("No training job yet. Choose a dataset and settings below and press **Start training** "
                "(or use the quick start on the Home page).")
    if st.session_state.pop(state.SCROLL_TO_LIVE, False):  # inside the container: the form keeps its place
        scroll_into_view("live_area")

# ---- a new run: every value is checked by TrainConfig itself, and Start stays off while anything is wrong
st.divider()


def new_run_form() -> None:
    """The New-run form: data, model, objective, optimisation, the rest in expanders, the sweep box and Start."""
    st.header("New training run")
    forms.preset_picker()
    forms.normalise_data_fields()
    form = form_state.values()
    preview, data_error = dataset_preview_or_error(form)
    errors = form_state.errors(form, data_error)
    data_col, preview_col = st.columns([3, 2], gap="large")
    with data_col:
        st.subheader("Data")
        forms.dataset_section(errors)
    with preview_col:
        st.subheader("Preview")
        show_dataset_preview(preview, data_error)
    info = data.dataset_info(form["dataset"])

    st.subheader("Model")
    forms.model_section(errors, labelled=info["labelled"] or info["needs_path"])  # folders may have class subfolders
    st.subheader("Objective")
    forms.objective_section(errors)
    st.subheader("Optimisation")
    forms.optimisation_section(errors)
    small_fields = ("augment_parts", "ada_target", "ada_interval", "ada_kimg", "init_from", "freeze_d")
    small_box, hardware_box, logging_box = state.FORM_BOXES
    forms.open_if_wrong(small_box, small_fields, errors)
    with st.expander("Few images? Augmentation and a trained starting point", key=small_box):
        forms.augmentation_section(errors)
        forms.start_from_section(errors, forms.start_from_choices())
    # Keyed expanders keep their identity (and the user's open/closed choice) whatever the page draws above them;
    # one whose fields hold a problem opens itself.
    forms.open_if_wrong(hardware_box, ("threads",), errors)
    with st.expander("Device and precision", key=hardware_box):
        devices = forms.hardware_section(errors)
    forms.open_if_wrong(logging_box, ("log_every", "sample_every", "checkpoint_every", "keep_checkpoints",
                                              "num_samples", "quality_every", "name"), errors)
    with st.expander("Logging, samples and checkpoints", key=logging_box):
        forms.logging_section(errors)

    with st.container(border=True):
        plan, sweep_error = sweep_box(form, form_ok=not errors)

    problems = list(errors.values()) + ([f"sweep: {sweep_error}"] if sweep_error else [])
    start_col, summary_col = st.columns([1, 4], vertical_alignment="center")
    label = f"Start sweep ({plan.size} runs)" if plan else "Start training"
    clicked = start_col.button(label, key="train.start", type="primary", icon=":material/play_arrow:",
                               disabled=bool(problems), width="stretch")
    if problems:
        summary_col.error("Start is off until these are fixed: " + " · ".join(problems), icon=":material/block:")
    if clicked and not problems and plan is not None:
        sweep = queue_sweep(get_manager(), TrainConfig.from_dict(form), plan, form.get("name") or "sweep")
        st.session_state[state.FLASH] = ("success", f"Queued sweep {sweep.id}: {plan.size} runs, {plan.budget_text} "
                                                    "each, one after another. Runs → Sweeps shows them side by side."
                                                    + (" A sweep's runs train on one device each: Devices for this run "
                                                       "is not used for them." if devices > 1 else ""))
        st.session_state[state.FOLLOW_NEWEST] = sweep.runs[0]
        st.session_state[state.SCROLL_TO_LIVE] = True
        st.rerun()
    if clicked and not problems:
        try:  # one job (queued while its device is busy), or one run on several GPUs through torchrun
            level, message, follow = start_training(TrainConfig.from_dict(form), devices)
        except ValueError as exc:  # the device is missing, or the GPUs of a multi-GPU run are busy
            show_error(exc, hint="Pick another device, or wait until the jobs on those GPUs end.")
        else:
            st.session_state[state.FLASH] = (level, message)
            st.toast(message.split(":")[0] if level == "info" else message, icon=":material/play_arrow:")
            if follow is not None:
                st.session_state[state.FOLLOW_NEWEST] = follow
                st.session_state[state.SCROLL_TO_LIVE] = True
            st.rerun()


def form_folded(job) -> bool:
    """While the job shown trains, the form stays folded unless the user opens it.

    The browser redraws every element of the page at each refresh of the live panel, and this form was about a
    fifth of a watching tab's work (docs/architecture.md, "Watching must not slow training"). The folded form's
    widget values are parked and handed back when it is drawn again (form_state.park/unpark): without that the
    browser remounts them at their defaults and the form came back showing an empty name and a batch of 0.
    """
    if job is None or not job.snapshot().active:
        return False
    opened = st.toggle("Set up another run", key=state.FORM_OPEN,
                       help="Opens the New-run form (your settings are kept) to start or queue the next run. "
                            "While it is open, each refresh of the live panel costs the browser more.")
    if not opened:
        st.caption("The New-run form is folded while a job trains, so watching takes less from training.")
    return not opened


st.divider()
if form_folded(job):
    form_state.park()
else:
    form_state.unpark()
    new_run_form()
    form_state.drawn()  # only once drawn to the end: a run cut short by a newer one parks nothing away
