"""JobManager: all training jobs of this process, one per GPU and one on the CPU at a time, the rest queued in order."""

from __future__ import annotations

import subprocess
import threading
from typing import Any

from ganlab.config import TrainConfig
from ganlab.device import check_available, pick_device
from ganlab.runs import Run, is_live
from ganlab.runs.summary import resume_blocker
from ganlab.train.job import TrainingJob
from ganlab.train.launch import Launch, launch_devices, launch_torchrun
from ganlab.train.snapshot import JobSnapshot, JobState

# One job per device: two jobs on the same cores would each run at under half speed (torch's thread pools
# oversubscribe), and two on one GPU would share its memory and time. With N GPUs up to N jobs train at once,
# each pinned to its own GPU (device "cuda" or "auto" takes any free one, "cuda:K" waits for GPU K), plus one
# on the CPU; a job whose device is busy waits in the queue and starts on its own.


class JobManager:
    """Thread-safe registry shared by every browser session (held in st.cache_resource by the UI)."""

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode  # where jobs train: "process" (default) or "thread" (see ganlab.train.runner)
        self._lock = threading.RLock()
        self._jobs: dict[str, TrainingJob] = {}
        self._queue: list[str] = []
        self._launches: list[Launch] = []  # runs on several devices, trained by torchrun subprocesses

    def submit(self, config: TrainConfig) -> TrainingJob:
        """Create a run for config and start it now, or queue it until its device is free."""
        check_available(config.device)  # a device this machine lacks is refused now, not after waiting
        job = TrainingJob(config, on_finish=self._job_ended, mode=self.mode)
        return self._enqueue(job)

    def resume(self, run: Run, overrides: dict[str, Any] | None = None) -> TrainingJob:
        """Continue a stopped run from its latest checkpoint (queued like any other job)."""
        with self._lock:  # check and register under one lock: two tabs clicking Resume together get one job
            existing = self._jobs.get(run.id)
            if existing is not None and existing.snapshot().active:
                raise ValueError(f"run {run.id} is already training (state {existing.snapshot().state})")
            blocker = resume_blocker(run)  # e.g. a run of several torchrun processes: resumed through torchrun
            if blocker and not is_live(run):  # a live run is refused below by its lock, naming the holder
                raise ValueError(blocker)
            check_available(str((overrides or {}).get("device", run.config().device)))
            # The run's lock refuses a run another process (or another job here) holds: RunBusyError names it.
            job = TrainingJob(run=run, overrides=overrides, on_finish=self._job_ended, mode=self.mode)
            return self._enqueue(job)

    def _enqueue(self, job: TrainingJob) -> TrainingJob:
        with self._lock:
            self._jobs[job.job_id] = job
            self._queue.append(job.job_id)
            self._start_next()
        return job

    def busy_devices(self) -> set[str]:
        """Devices a job or a torchrun launch of this process occupies now ("cpu", "cuda:0"...)."""
        with self._lock:
            busy = {job.device for job in self._jobs.values()
                    if job.device is not None and JobState(job.snapshot().state).holds_slot}
            return busy.union(*(launch.occupies for launch in self._launches if launch.running))

    def launch(self, config: TrainConfig, devices: int) -> Launch:
        """Train config as one run on `devices` GPUs through torchrun (see ganlab.train.launch); refused while a
        job or another launch uses one of those GPUs."""
        with self._lock:
            taken = sorted(launch_devices(config, devices) & self.busy_devices())
            if taken:
                raise ValueError(f"devices={devices}: {', '.join(taken)} {'is' if len(taken) == 1 else 'are'} busy "
                                 "training another run here; stop it or wait until it ends")
            launch = launch_torchrun(config, devices, on_exit=lambda _: self._start_next())
            self._launches.append(launch)
            return launch

    def launches(self) -> list[Launch]:
        """torchrun launches of this process, newest first."""
        with self._lock:
            return list(reversed(self._launches))

    def _start_next(self) -> None:
        """Start every queued job whose device is free, in queue order (a job waiting for GPU 1 does not hold
        back one that may take GPU 0)."""
        with self._lock:
            busy = self.busy_devices()
            for job_id in list(self._queue):
                job = self._jobs[job_id]
                if job.snapshot().state != JobState.QUEUED:
                    self._queue.remove(job_id)
                    continue
                device = pick_device(job.requested_device, busy)
                if device is not None:
                    self._queue.remove(job_id)
                    busy.add(device)
                    job.start(device)

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
        """Stop every job and launch (each leaves a checkpoint); used at exit and by tests."""
        for job in self.jobs():
            if job.snapshot().active:
                self.stop(job.job_id)
        for launch in self.launches():
            launch.stop()
            try:
                launch.wait(timeout)
            except subprocess.TimeoutExpired:  # still saving: it holds its run's lock, the Runs page shows it
                pass
