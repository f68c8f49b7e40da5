"""JobManager: all training jobs of this process, one training at a time, the rest queued in order."""

from __future__ import annotations

import threading
from typing import Any

from ganlab.config import TrainConfig
from ganlab.runs import Run
from ganlab.train.job import TrainingJob
from ganlab.train.snapshot import JobSnapshot, JobState

# One job trains at a time: two jobs on the same cores would each run at under half speed
# (torch's thread pools oversubscribe), so a second job waits in a queue and starts on its own.


class JobManager:
    """Thread-safe registry shared by every browser session (held in st.cache_resource by the UI)."""

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode  # where jobs train: "process" (default) or "thread" (see ganlab.train.runner)
        self._lock = threading.RLock()
        self._jobs: dict[str, TrainingJob] = {}
        self._queue: list[str] = []

    def submit(self, config: TrainConfig) -> TrainingJob:
        """Create a run for config and start it now, or queue it behind the job that holds the slot."""
        job = TrainingJob(config, on_finish=self._job_ended, mode=self.mode)
        return self._enqueue(job)

    def resume(self, run: Run, overrides: dict[str, Any] | None = None) -> TrainingJob:
        """Continue a stopped run from its latest checkpoint (queued like any other job)."""
        with self._lock:  # check and register under one lock: two tabs clicking Resume together get one job
            existing = self._jobs.get(run.id)
            if existing is not None and existing.snapshot().active:
                raise ValueError(f"run {run.id} is already training (state {existing.snapshot().state})")
            # The run's lock refuses a run another process (or another job here) holds: RunBusyError names it.
            job = TrainingJob(run=run, overrides=overrides, on_finish=self._job_ended, mode=self.mode)
            return self._enqueue(job)

    def _enqueue(self, job: TrainingJob) -> TrainingJob:
        with self._lock:
            self._jobs[job.job_id] = job
            self._queue.append(job.job_id)
            self._start_next()
        return job

    def _slot_holder(self) -> TrainingJob | None:
        for job in self._jobs.values():
            if JobState(job.snapshot().state).holds_slot:
                return job
        return None

    def _start_next(self) -> None:
        with self._lock:
            if self._slot_holder() is not None:
                return
            while self._queue:
                job = self._jobs[self._queue.pop(0)]
                if job.snapshot().state == JobState.QUEUED:
                    job.start()
                    return

    def _job_ended(self, job: TrainingJob) -> None:
        # Runs on the ending job's thread; starting the next job there is safe (it only spawns a thread).
        threading.Thread(target=self._start_next_after, args=(job,), daemon=True).start()

    def _start_next_after(self, job: TrainingJob) -> None:
        job.join(timeout=60)
        self._start_next()

    def get(self, job_id: str) -> TrainingJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def jobs(self) -> list[TrainingJob]:
        """Every job of this process, newest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: j.job_id, reverse=True)

    def snapshots(self) -> list[JobSnapshot]:
        return [job.snapshot() for job in self.jobs()]

    def active(self) -> list[TrainingJob]:
        return [job for job in self.jobs() if job.snapshot().active]

    def queue_position(self, job_id: str) -> int | None:
        """1-based place in the queue, or None when the job is not waiting."""
        with self._lock:
            return self._queue.index(job_id) + 1 if job_id in self._queue else None

    def stop(self, job_id: str) -> None:
        """Stop a running job (checkpointing it) or drop a queued one."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise ValueError(f"no job {job_id!r}")
            if job_id in self._queue:
                self._queue.remove(job_id)
        job.stop(timeout=30)

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop every job (each leaves a checkpoint); used at exit and by tests."""
        for job in self.jobs():
            if job.snapshot().active:
                self.stop(job.job_id)
