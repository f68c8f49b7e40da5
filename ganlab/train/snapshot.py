"""What the UI sees of a training job: an immutable snapshot, and the bounded history it carries."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from ganlab.config import TrainConfig


class JobState(str, Enum):
    """Where a training job is; compares equal to its text ("running" == JobState.RUNNING)."""

    QUEUED = "queued"  # waiting for its device (one job per GPU, one on the CPU)
    STARTING = "starting"  # loading data and building networks
    RUNNING = "running"
    PAUSED = "paused"  # holding its place; single steps allowed
    STOPPING = "stopping"  # writing its last checkpoint
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"
    DIVERGED = "diverged"

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def final(self) -> bool:
        return self in FINAL_STATES

    @property
    def holds_slot(self) -> bool:
        """Whether a job in this state occupies its device (queued and ended jobs do not)."""
        return self in (JobState.STARTING, JobState.RUNNING, JobState.PAUSED, JobState.STOPPING)


FINAL_STATES = frozenset({JobState.FINISHED, JobState.STOPPED, JobState.FAILED, JobState.DIVERGED})


@dataclass(frozen=True)
class JobSnapshot:
    """An immutable view of a job for the UI; records in history are never mutated after creation."""

    job_id: str
    run_id: str
    state: JobState
    step: int
    total_steps: int
    config: TrainConfig
    history: tuple[dict[str, Any], ...] = ()
    grid: np.ndarray | None = None  # newest fixed-noise grid, uint8 (H, W, C), read-only
    grid_step: int = 0
    error: str | None = None
    error_detail: str | None = None
    message: str = ""
    quality_note: str = ""  # why no live FID is shown (no extractor for this dataset), else empty
    hardware: str = ""
    device: str = ""  # where the queue pinned the job ("cuda:1", "cpu"); empty while queued
    d_updates: int = 0
    g_updates: int = 0
    threads: int = 0  # CPU threads the worker trains on now (0: not known yet, or not a CPU run)
    all_threads: int = 0  # ...and when nobody watches: a CPU run gives one up while a page shows its panel
    updated: float = field(default_factory=time.time)

    @property
    def active(self) -> bool:
        return not JobState(self.state).final

    @property
    def progress(self) -> float:
        """Share of the budget spent: of the steps, or of max_minutes when that ends the run first."""
        by_steps = self.step / self.total_steps if self.total_steps else 0.0
        budget = self.config.max_minutes * 60
        by_time = float(self.latest.get("elapsed", 0.0)) / budget if budget > 0 else 0.0
        return min(1.0, max(by_steps, by_time))

    @property
    def latest(self) -> dict[str, Any]:
        return self.history[-1] if self.history else {}


def downsample(history: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """Keep memory bounded: past the limit, drop every other record of the older half."""
    if len(history) <= limit:
        return history
    half = len(history) // 2
    return history[:half:2] + history[half:]
