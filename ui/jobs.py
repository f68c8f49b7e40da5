"""The process-wide JobManager, shared by every browser session through st.cache_resource."""

from __future__ import annotations

import streamlit as st

from ganlab.config import TrainConfig
from ganlab.device import cuda_device_count
from ganlab.train.manager import JobManager


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
