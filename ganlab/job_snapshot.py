"""What the UI sees of a training job: an immutable snapshot, and the bounded history it carries."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ganlab.config import TrainConfig

FINAL_STATES = ("finished", "stopped", "failed", "diverged")


@dataclass(frozen=True)
class JobSnapshot:
    """An immutable view of a job for the UI; records in history are never mutated after creation."""

    job_id: str
    run_id: str
    state: str  # queued | starting | running | paused | stopping | finished | stopped | failed | diverged
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
    d_updates: int = 0
    g_updates: int = 0
    updated: float = field(default_factory=time.time)

    @property
    def active(self) -> bool:
        return self.state not in FINAL_STATES

    @property
    def progress(self) -> float:
        return min(1.0, self.step / self.total_steps) if self.total_steps else 0.0

    @property
    def latest(self) -> dict[str, Any]:
        return self.history[-1] if self.history else {}


def downsample(history: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """Keep memory bounded: past the limit, drop every other record of the older half."""
    if len(history) <= limit:
        return history
    half = len(history) // 2
    return history[:half:2] + history[half:]
