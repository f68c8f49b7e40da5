"""Background training: a TrainingJob runs a Trainer in a daemon thread behind a locked snapshot."""

from __future__ import annotations

import errno
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import torch

from ganlab.config import TrainConfig
from ganlab.runs import Run, create_run
from ganlab.train.events import DivergedError, TrainEvent
from ganlab.train.resume import resume_trainer
from ganlab.train.snapshot import JobSnapshot, JobState, downsample
from ganlab.train.trainer import Trainer

STATUS_EVERY_S = 5.0  # heartbeat period for status.json while training


class TrainingJob:
    """One training run in a daemon thread with start/pause/resume/stop and single steps while paused."""

    def __init__(self, config: TrainConfig | None = None, *, run: Run | None = None, resume: bool = False,
                 overrides: dict[str, Any] | None = None, max_history: int = 2000,
                 on_finish: Callable[["TrainingJob"], None] | None = None) -> None:
        if config is None and run is None:
            raise ValueError("a job needs a config (new run) or a run (resume)")
        self.run = run if run is not None else create_run(config)
        self.config = config if config is not None else self.run.config()
        self.job_id = self.run.id
        self._resume = resume
        self._overrides = overrides or {}
        self._max_history = max_history
        self._on_finish = on_finish
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._commands: list[str] = []
        self._paused = False
        self._stop = False
        self._thread: threading.Thread | None = None
        self._trainer: Trainer | None = None
        self._history: list[dict[str, Any]] = [r for r in self.run.read_metrics() if "loss_d" in r] if resume else []
        self._snap = JobSnapshot(self.job_id, self.run.id, JobState.QUEUED, 0, 0, self.config,
                                 history=tuple(self._history))
        self._last_status = 0.0

    # ------------------------------------------------------------------ controls
    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                raise ValueError(f"job {self.job_id} was already started")
            self._thread = threading.Thread(target=self._main, name=f"ganlab-{self.job_id}", daemon=True)
            self._set(state=JobState.STARTING, message="loading data")
        self._thread.start()

    def pause(self) -> None:
        with self._lock:
            if self._snap.state in (JobState.STARTING, JobState.RUNNING):
                self._paused = True
                self._wake.notify_all()

    def unpause(self) -> None:
        with self._lock:
            self._paused = False
            self._wake.notify_all()

    def stop(self, timeout: float = 30.0) -> bool:
        """Ask the thread to checkpoint and end (a job that never started just ends); True when it ended in time."""
        with self._lock:
            self._stop = True
            never_started = self._thread is None
            if never_started:
                self._set(state=JobState.STOPPED, message="stopped before it started")
            elif self._snap.active:
                self._set(state=JobState.STOPPING)
            self._wake.notify_all()
        if never_started:
            self.run.update_status(state="stopped")
        return self.join(timeout)

    def step_d(self) -> None:
        self._command("d")

    def step_g(self) -> None:
        self._command("g")

    def step_both(self) -> None:
        self._command("both")

    def _command(self, kind: str) -> None:
        with self._lock:
            if self._snap.state != JobState.PAUSED:
                raise ValueError(f"single steps need a paused job; job {self.job_id} is {self._snap.state}")
            self._commands.append(kind)
            self._wake.notify_all()

    def join(self, timeout: float | None = None) -> bool:
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            return self._snap

    def wait_for(self, predicate: Callable[[JobSnapshot], bool], timeout: float = 60.0) -> JobSnapshot:
        """Block until predicate(snapshot) holds (for tests and the CLI); raises TimeoutError."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            snap = self.snapshot()
            if predicate(snap):
                return snap
            time.sleep(0.02)
        raise TimeoutError(f"job {self.job_id} did not reach the expected state; last state {self.snapshot().state}")

    # ------------------------------------------------------------------ thread side
    def _set(self, **changes: Any) -> None:
        """Replace the snapshot (caller holds the lock)."""
        values = {**self._snap.__dict__, **changes, "updated": time.time()}
        self._snap = JobSnapshot(**values)

    def _update(self, **changes: Any) -> None:
        with self._lock:
            self._set(**changes)

    def _on_event(self, event: TrainEvent) -> None:
        trainer = self._trainer
        with self._lock:
            changes: dict[str, Any] = {"step": event.step, "d_updates": trainer.d_updates,
                                       "g_updates": trainer.g_updates}
            if event.kind == "log" and event.record is not None:
                if "loss_d" in event.record or "loss_g" in event.record:
                    self._history.append(event.record)
                else:  # quality records are merged into the newest loss record for the charts
                    self._history.append({**(self._history[-1] if self._history else {}), **event.record})
                self._history = downsample(self._history, self._max_history)
                changes["history"] = tuple(self._history)
            if event.kind == "sample" and event.grid is not None:
                grid = event.grid.copy()
                grid.setflags(write=False)
                changes.update(grid=grid, grid_step=event.step)
            self._set(**changes)
        if time.monotonic() - self._last_status > STATUS_EVERY_S or event.kind == "checkpoint":
            self._write_status()

    def _write_status(self, state: str | None = None, **extra: Any) -> None:
        snap = self.snapshot()
        self._last_status = time.monotonic()
        self.run.update_status(state=str(state or snap.state), step=snap.step, total_steps=snap.total_steps,
                               elapsed=self._trainer.elapsed if self._trainer else 0.0,
                               last=snap.latest, hardware=snap.hardware, **extra)

    def _main(self) -> None:
        try:
            self._build_trainer()
            self._loop()
        except BaseException as exc:  # noqa: BLE001 - every failure (even SystemExit) must reach the snapshot
            self._fail(exc)
        finally:
            if self._on_finish:
                self._on_finish(self)

    def _build_trainer(self) -> None:
        def data_progress(done: int, total: int) -> None:
            self._update(message=f"loading data {done}/{total}")

        if self._resume:
            self._trainer = resume_trainer(self.run, config_overrides=self._overrides, data_progress=data_progress)
            self.config = self._trainer.config
        else:
            self._trainer = Trainer(self.config, self.run, data_progress=data_progress)
        t = self._trainer
        hw = f"{t.device.type} · {t.hardware.precision}" + (" · channels_last" if t.hardware.channels_last else "")
        with self._lock:  # records logged after the checkpoint (before a crash) are about to be redone
            self._history = [r for r in self._history if r.get("step", 0) <= t.step]
            self._set(state=JobState.PAUSED if self._paused else JobState.RUNNING, step=t.step, total_steps=t.total_steps,
                      config=self.config, hardware=hw, quality_note=t.quality_note,
                      message=f"{t.num_images} images from {t.dataset_name}" + _skip_note(t),
                      history=tuple(self._history))
        self.run.update_status(started=time.time(), state="running", hardware=hw, total_steps=t.total_steps)
        if t.step == 0:  # a grid before the first step shows the untrained generator
            grid = t.save_samples()
            self._on_event(TrainEvent("sample", 0, grid=grid))

    def _loop(self) -> None:
        trainer = self._trainer
        while True:
            with self._lock:
                while self._paused and not self._stop and not self._commands:
                    if self._snap.state != JobState.PAUSED:
                        # Counters may be up to log_every-1 steps behind the last event: show the truth.
                        self._set(state=JobState.PAUSED, step=trainer.step, d_updates=trainer.d_updates,
                                  g_updates=trainer.g_updates)
                        self._wake.release()
                        try:
                            self._write_status()
                        finally:
                            self._wake.acquire()
                    self._wake.wait(timeout=1.0)
                stop = self._stop
                command = self._commands.pop(0) if self._commands else None
                if not stop and command is None and self._snap.state != JobState.RUNNING:
                    self._set(state=JobState.RUNNING)
            if stop:
                self._finish(JobState.STOPPED)
                return
            if command is not None:
                self._single_step(command)
                continue
            if trainer.step >= trainer.total_steps:
                self._finish(JobState.FINISHED)
                return
            trainer.train_step(self._on_event)

    def _single_step(self, command: str) -> None:
        trainer = self._trainer
        if command == "both":
            trainer.train_step(self._on_event)
        elif command == "d":
            trainer.d_step()
        else:
            trainer.g_step()
        record = trainer.log_record()
        if record is not None:
            self._on_event(TrainEvent("log", trainer.step, record=record))
        grid = trainer.save_samples() if command != "d" else None
        self._on_event(TrainEvent("sample", trainer.step, grid=grid))

    def _finish(self, state: JobState) -> None:
        trainer = self._trainer
        record = trainer.log_record()
        if record is not None:
            self._on_event(TrainEvent("log", trainer.step, record=record))
        trainer.save()
        # Disk first, snapshot second: whoever sees the final state in the snapshot finds it on disk too.
        self._write_status(state=state, finished=time.time())
        self._update(state=state, message=f"{state} at step {trainer.step}")

    def _fail(self, exc: BaseException) -> None:
        state = JobState.DIVERGED if isinstance(exc, DivergedError) else JobState.FAILED
        message = str(exc) or type(exc).__name__
        if isinstance(exc, torch.cuda.OutOfMemoryError):
            message = "the GPU ran out of memory: choose a smaller batch size or image size, then start again"
        elif _out_of_memory(exc):
            message = "training ran out of memory: choose a smaller batch size or image size, then start again"
        elif isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            message = (f"the disk is full ({exc.strerror}): free some space, then resume the run from its "
                       f"last checkpoint")
        elif not isinstance(exc, ValueError) and state == JobState.FAILED:
            message = f"{type(exc).__name__}: {message}"
        try:
            self._write_status(state=state, error=message)
        except OSError:
            pass  # the snapshot still carries the error; a full disk must not hide it
        self._update(state=state, error=message, error_detail=traceback.format_exc(), message=message)


def _out_of_memory(exc: BaseException) -> bool:
    """CPU and MPS allocators raise plain RuntimeErrors; recognise them by their message."""
    if isinstance(exc, MemoryError):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and ("can't allocate memory" in text or "out of memory" in text)


def _skip_note(trainer: Trainer) -> str:
    """' (3 files skipped: a.jpg: not an image; ...)' so users learn which files were left out."""
    if not trainer.num_skipped:
        return ""
    return f" ({trainer.num_skipped} files skipped: {'; '.join(trainer.skipped[:3])})"
