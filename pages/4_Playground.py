"""Playground: GAN Lab's 2-D view; step D and G on toy data and watch D's field, G's mapping and its gradients."""

from __future__ import annotations

import streamlit as st

from ui import playground
from ui.sidebar import page

page("Playground")
st.title("Playground")
st.caption("A tiny GAN on 2-D points, trained on the CPU as you watch (each browser tab has its own): green is "
           "where the discriminator sees real data, purple where it sees generated points; arrows show where the "
           "generator wants to move its samples. Step D and G one at a time, or press Play.")
playground.init_state()
playground.preset_picker()

data_col, model_col = st.columns([2, 3], gap="large")
with data_col:
    data = playground.data_picker()
with model_col, st.expander("Model and training", expanded=False):
    model = playground.model_form()
if data is None:
    st.stop()
config = playground.build_config(data, model)
if config is None:
    st.stop()

playground.ensure_trainer(config)
notice = st.session_state.pop(playground.NOTICE, None)
if notice:
    st.info(notice)
playground.controls()
playground.live_view()
