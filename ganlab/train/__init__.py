"""Training: losses, the Trainer (steps, ticks, state), EMA, background jobs, the job queue and its snapshots."""

from ganlab.train.events import DivergedError, TrainEvent
from ganlab.train.job import TrainingJob
from ganlab.train.losses import LOSSES, get_loss, gradient_penalty
from ganlab.train.manager import JobManager
from ganlab.train.resume import (
    RESUMABLE,
    checkpoint_step,
    extra_steps_overrides,
    resume_trainer,
)
from ganlab.train.snapshot import JobSnapshot, JobState
from ganlab.train.sweep import queue_sweep
from ganlab.train.trainer import Trainer

__all__ = [
    "LOSSES", "RESUMABLE", "DivergedError", "JobManager", "JobSnapshot", "JobState", "TrainEvent", "Trainer",
    "TrainingJob", "checkpoint_step", "extra_steps_overrides", "get_loss", "gradient_penalty", "queue_sweep",
    "resume_trainer",
]
