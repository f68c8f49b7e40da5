"""What the trainer reports while it runs: progress events, and the error for diverged losses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


class DivergedError(RuntimeError):
    """Losses became NaN or infinite; training stopped and the last good checkpoint was kept."""


@dataclass(frozen=True)
class TrainEvent:
    """What the trainer reports to its progress callback."""

    kind: str  # "log" | "sample" | "checkpoint" | "done"
    step: int
    record: dict[str, Any] | None = None
    grid: np.ndarray | None = None  # uint8 (H, W, C) fixed-noise grid for "sample"


ProgressFn = Callable[[TrainEvent], None]
AbortFn = Callable[[], bool]
