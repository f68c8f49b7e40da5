"""The process-wide JobManager, shared by every browser session through st.cache_resource."""

from __future__ import annotations

import streamlit as st

from ganlab.train.manager import JobManager


def _release(manager: JobManager) -> None:
    # A cleared cache would orphan running threads nobody can see; stop them (each checkpoints).
    manager.shutdown()


@st.cache_resource(show_spinner=False, on_release=_release)
def get_manager() -> JobManager:
    """One manager per server process: jobs outlive page switches, reruns and closed tabs."""
    return JobManager()
