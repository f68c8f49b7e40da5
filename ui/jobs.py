"""The process-wide JobManager, shared by every browser session through st.cache_resource; starting and picking jobs."""

from __future__ import annotations

import streamlit as st

from ganlab.config import TrainConfig
from ganlab.device import cuda_device_count
from ganlab.train import JobState, TrainingJob
from ganlab.train.manager import JobManager
from ui import state


def _release(manager: JobManager) -> None:
    # A cleared cache would orphan running threads nobody can see; stop them (each checkpoints).
    manager.shutdown()


@st.cache_resource(show_spinner=False, on_release=_release)
def get_manager() -> JobManager:
    """One manager per server process: jobs outlive page switches, reruns and closed tabs."""
    return JobManager()


def _where(device: str) -> str:
    """'every GPU', 'cuda:1', 'the CPU': what a queued job waits for."""
    if device == "cuda" or (device == "auto" and cuda_device_count()):
        return "every GPU"
    return "the CPU" if device in ("auto", "cpu") else device


def start_training(config: TrainConfig, devices: int = 1) -> tuple[str, str, str | None]:
    """Start config as a job (1 device) or through torchrun (2+ GPUs): (flash level, message, job id to follow)."""
    manager = get_manager()
    if devices > 1:
        launch = manager.launch(config, devices)  # ValueError (shown by the caller) when its GPUs are busy
        return ("success", f"Launched one run on {devices} GPUs through torchrun (pid {launch.pid}). It appears on "
                f"the **Runs** page once its data is loaded; torchrun's output goes to `{launch.log}`.", None)
    job = manager.submit(config)
    position = manager.queue_position(job.job_id)
    if position is not None:
        return ("info", f"{job.job_id} is queued (position {position}): {_where(job.requested_device)} is busy "
                "(one job trains per GPU, one on the CPU), and it starts by itself when a job there ends.", job.job_id)
    return ("success", f"Started {job.job_id}.", job.job_id)


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
