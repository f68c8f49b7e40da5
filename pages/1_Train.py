"""Train: pick data, model and hyperparameters, start a job, and watch it train live."""

from __future__ import annotations

import streamlit as st

from ganlab import data
from ui import forms, state
from ui.jobs import start_training
from ui.live import live_panel, pick_job
from ui.sidebar import page
from ui.widgets import show_dataset_preview, show_error, show_flash

page("Train")
st.title("Train")
forms.init_state()

# ---- running and past jobs of this app (every tab sees all of them)
# One container whatever it holds, so the form below keeps its place in the page's element tree and
# its expanders stay open when a flash message and a live panel replace the "no job yet" note.
with st.container():
    show_flash(state.FLASH)
    job = pick_job()
    if job is not None:
        live_panel(job)
    else:
        st.info("No training job yet. Choose a dataset and settings below and press **Start training** "
                "(or use the quick start on the Home page).")

# ---- a new run
st.divider()
st.header("New training run")
forms.preset_picker()
data_col, preview_col = st.columns([3, 2], gap="large")
with data_col:
    st.subheader("Data")
    ds = forms.dataset_section()
with preview_col:
    st.subheader("Preview")
    show_dataset_preview(ds["dataset"], int(ds["img_size"]), int(ds["channels"]), ds["data_path"],
                         ds["data_subset"], ds["fit"])
info = data.dataset_info(ds["dataset"])

st.subheader("Model")
forms.model_section(labelled=info["labelled"] or info["needs_path"])  # folders may have class subfolders
st.subheader("Objective")
forms.objective_section()
st.subheader("Optimisation")
forms.optimisation_section()
with st.expander("Device and precision"):
    devices = forms.hardware_section()
with st.expander("Logging, samples and checkpoints"):
    forms.logging_section()

form_values = forms.values()
if st.button("Start training", key="train.start", type="primary", icon=":material/play_arrow:"):
    config = forms.build_config(form_values)
    if config is not None:
        try:
            level, message, follow = start_training(config, devices)
        except ValueError as exc:  # the device is missing, or the GPUs of a multi-GPU run are busy
            show_error(exc, hint="Pick another device, or wait until the jobs on those GPUs end.")
        else:
            st.session_state[state.FLASH] = (level, message)
            if follow is not None:
                st.session_state[state.FOLLOW_NEWEST] = follow
            st.rerun()
