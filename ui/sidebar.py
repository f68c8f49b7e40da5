"""The frame every page shares: page config, navigation with labels and icons, and the live jobs panel."""

from __future__ import annotations

import streamlit as st

from ganlab.train import JobManager
from ui import guard
from ui.jobs import get_manager
from ui.live import job_label

# (script, label, icon): Streamlit's pages/ convention routes by file; these give the sidebar its labels.
PAGES = (
    ("app.py", "Home", ":material/home:"),
    ("pages/1_Train.py", "Train", ":material/model_training:"),
    ("pages/2_Runs.py", "Runs", ":material/history:"),
    ("pages/3_Explore.py", "Explore", ":material/explore:"),
    ("pages/4_Playground.py", "Playground", ":material/scatter_plot:"),
)
HOME, TRAIN, RUNS, EXPLORE, PLAYGROUND = (p[0] for p in PAGES)
POLL_S = 2.0  # the sidebar's job summary refreshes this often while a job is active
# On Train, whose live panel shows the job every second: each refresh of a fragment costs the browser about as much
# as the elements it redraws plus a fixed part (docs/architecture.md, "Watching must not slow training"), and this
# one would repeat what the panel shows.
SLOW_POLL_S = 10.0


def page(title: str, *, jobs_here: bool = False) -> None:
    """Call first on every page: wide layout, the tab title, who may use the app, and the shared sidebar.
    jobs_here: the page itself shows the jobs live (Train), so the sidebar's summary refreshes seldom there."""
    st.set_page_config(page_title=f"{title} · GAN Lab" if title != "Home" else "GAN Lab",
                       page_icon=":material/auto_awesome:", layout="wide")
    guard.check()  # stops the page (nothing else rendered) for a foreign Host or a missing token
    params = guard.link_params()
    with st.sidebar:
        for script, label, icon in PAGES:
            st.page_link(script, label=label, icon=icon, query_params=params)
        st.divider()
        jobs_panel(every=SLOW_POLL_S if jobs_here else POLL_S)


def _busy(manager: JobManager) -> bool:
    """Whether a job or a torchrun launch of this app is still going (the panel polls while one is)."""
    return any(s.active for s in manager.snapshots()) or any(launch.running for launch in manager.launches())


def _jobs_body(had_active: bool) -> None:
    manager = get_manager()
    snaps = manager.snapshots()
    active = [s for s in snaps if s.active]
    if _busy(manager) != had_active:
        st.rerun(scope="app")  # a job started or ended: refresh the page and switch polling on/off
    st.subheader("Training jobs")
    if not snaps and not manager.launches():
        st.caption("No jobs yet.")
    shown = active or snaps[:1]
    for snap in shown:
        st.caption(job_label(snap))
        if snap.total_steps or snap.config.max_minutes:
            st.progress(snap.progress)
    if len(snaps) > len(shown):
        st.caption(f"{len(snaps) - len(shown)} more finished or stopped")
    for launch in manager.launches()[:3]:  # runs on several GPUs: their runs are on the Runs page
        st.caption(launch.describe())
    if snaps:
        st.page_link(TRAIN, label="Open Train", icon=":material/monitoring:", query_params=guard.link_params())


def jobs_panel(every: float = POLL_S) -> None:
    """Sidebar summary of this process's jobs (state, step/total), polled every `every` s while one is active."""
    had_active = _busy(get_manager())
    st.fragment(_jobs_body, run_every=every if had_active else None)(had_active)
