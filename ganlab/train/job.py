"""Background training: a TrainingJob supervises a worker (a child process by default) behind a locked snapshot.

The job owns the run's lifecycle (a RunRecorder: the lock and status.json) from the moment it is queued;
the worker trains and writes checkpoints, metrics and grids. A thread of the app's process reads the worker's
messages and replaces the immutable JobSnapshot the UI polls; controls become messages to the worker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ganlab.config import TrainConfig
from ganlab.runs import Run, RunRecorder, RunState
from ganlab.train.runner import Runner, make_runner
from ganlab.train.snapshot import JobSnapshot, JobState, downsample
from ganlab.train.worker import WorkOrder

WATCH_GRACE_S = 5.0  # the live panel refreshes every second while a job trains: 5 s without one = nobody watches
# A CPU run on all cores gives one up while at least this many pages show its panel. Measured on 2 cores
# (docs/architecture.md): one tab costs a two-thread run ~16% and the thread given up ~40%, so one page keeps
# every thread; with three tabs giving one up is what keeps training near 60% instead of ~40%.
SHARE_FROM_VIEWERS = 2
STATUS_EVERY_S = 5.0  # progress written to status.json at most this often (liveness comes from the lock)
RUN_STATES = {JobState.FINISHED: RunState.FINISHED, JobState.STOPPED: RunState.STOPPED,
              JobState.FAILED: RunState.FAILED, JobState.DIVERGED: RunState.FAILED}


class TrainingJob:
    """One run trained in the background: start, pause/unpause, stop, and single steps while paused."""

    def __init__(self, config: TrainConfig | None = None, *, run: Run | None = None,
                 overrides: dict[str, Any] | None = None, max_history: int = 2000,
                 on_finish: Callable[["TrainingJob"], None] | None = None, mode: str | None = None) -> None:
        """A new run for `config`, or `run` resumed from its latest checkpoint (with allowed `overrides`).

        The run is locked from here on (RunBusyError when another process holds it); mode is "process"
        (default, or $GANLAB_JOB_MODE) or "thread".
        """
        if (config is None) == (run is None):
            raise ValueError("a job needs either a config (new run) or a run (resume)")
        self.recorder = RunRecorder.create(config) if config is not None else RunRecorder.attach(run)
        self.run = self.recorder.run
        self.config = config if config is not None else self.run.config()
        self.requested_device = str((overrides or {}).get("device", self.config.device))  # cuda = any free GPU
        self.device: str | None = None  # pinned by the job queue when it starts (see JobManager)
        self.job_id = self.run.id
        self._order = WorkOrder(str(self.run.path), config.to_dict() if config is not None else None,
                                dict(overrides or {}))
        self._runner: Runner = make_runner(mode)
        self._max_history = max_history
        self._on_finish = on_finish
        self._lock = threading.Lock()
        self._paused = False
        self._thread: threading.Thread | None = None
        self._history: list[dict[str, Any]] = (
            [r for r in self.run.read_metrics() if "loss_d" in r] if config is None else [])
        self._snap = JobSnapshot(self.job_id, self.run.id, JobState.QUEUED, 0, 0, self.config,
                                 history=tuple(self._history))
        self._last_status = 0.0
        self._ended = threading.Event()
        self._watched_at: dict[str, float] = {}  # viewer -> time.monotonic() of its newest refresh of this job
        self._all_threads = 0  # a CPU run on all CPUs (threads=0) that may share them: how many; 0 = never shares
        self._asked_threads = 0  # the thread count last asked of the worker

    # ------------------------------------------------------------------ controls
    def start(self, device: str | None = None) -> None:
        """Start training, on `device` when given (the queue pins a job to one GPU: "cuda:1")."""
        with self._lock:
            if self._thread is not None or self._ended.is_set():
                raise ValueError(f"job {self.job_id} was already started")
            self.device = device
            order = WorkOrder(**{**self._order.__dict__, "paused": self._paused, "lock_fd": self.recorder.lock_fd,
                                 "device": device})
            self._runner.start(order)
            self._thread = threading.Thread(target=self._supervise, name=f"ganlab-{self.job_id}", daemon=True)
            self._set(state=JobState.STARTING, message="starting the training process", device=device or "")
        self._thread.start()

    def pause(self) -> None:
        with self._lock:
            if self._snap.state in (JobState.QUEUED, JobState.STARTING, JobState.RUNNING):
                self._paused = True
                if self._thread is not None:
                    self._runner.send("pause")

    def unpause(self) -> None:
        with self._lock:
            self._paused = False
            if self._thread is not None and self._snap.active:
                self._runner.send("unpause")

    def stop(self, timeout: float = 30.0) -> bool:
        """Checkpoint and end (a job that never started just ends); True when it ended within timeout."""
        with self._lock:
            if self._thread is None and not self._ended.is_set():
                self._end(JobState.STOPPED, {"message": "stopped before it started"})
                return True
            if self._snap.active and self._snap.state != JobState.STOPPING:
                self._set(state=JobState.STOPPING)
                self._runner.send("stop")
        return self.join(timeout)

    def step_d(self) -> None:
        self._command("step_d")

    def step_g(self) -> None:
        self._command("step_g")

    def step_both(self) -> None:
        self._command("step_both")

    def _command(self, command: str) -> None:
        with self._lock:
            if self._snap.state != JobState.PAUSED:
                raise ValueError(f"single steps need a paused job; job {self.job_id} is {self._snap.state}")
            self._runner.send(command)

    def watched(self, viewer: str = "") -> None:
        """A page (`viewer`: one per browser session) shows this job's live panel now.

        On a CPU the page's own work (script reruns, the browser drawing charts) takes one core for moments at a
        time, and a run on every core then waits at each operator for its descheduled thread. So while at least
        SHARE_FROM_VIEWERS pages watch, a run set to all CPUs trains on one fewer, and takes it back WATCH_GRACE_S
        after the refreshes stop. A run with a fixed thread count is left alone.
        """
        with self._lock:
            self._watched_at[viewer] = time.monotonic()
            self._share_cpu()

    def viewers(self) -> int:
        """Pages that refreshed this job's panel within the last WATCH_GRACE_S."""
        with self._lock:
            now = time.monotonic()
            return sum(now - t < WATCH_GRACE_S for t in self._watched_at.values())

    def _share_cpu(self) -> None:
        """Give up or take back one CPU thread as watching starts or stops (caller holds the lock)."""
        if not self._all_threads or self._snap.state not in (JobState.RUNNING, JobState.PAUSED):
            return
        now = time.monotonic()
        self._watched_at = {v: t for v, t in self._watched_at.items() if now - t < WATCH_GRACE_S}
        watched = len(self._watched_at) >= SHARE_FROM_VIEWERS
        threads = self._all_threads - 1 if watched else self._all_threads
        if threads != self._asked_threads:
            self._runner.send(f"threads {threads}")  # the worker answers ("threads", n) once it applied it
            self._asked_threads = threads

    def join(self, timeout: float | None = None) -> bool:
        return self._ended.wait(timeout) if self._thread is not None or self._ended.is_set() else True

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

    # ------------------------------------------------------------------ supervisor side
    def _set(self, **changes: Any) -> None:
        """Replace the snapshot (caller holds the lock)."""
        values = {**self._snap.__dict__, **changes, "updated": time.time()}
        self._snap = JobSnapshot(**values)

    def _record(self, state: RunState | None = None, force: bool = False, **extra: Any) -> None:
        """Write progress (and a state) to status.json through the run's recorder; never fatal for the job."""
        if not force and state is None and time.monotonic() - self._last_status < STATUS_EVERY_S:
            return
        self._last_status = time.monotonic()
        snap = self._snap
        try:
            self.recorder.record(state, step=snap.step, total_steps=snap.total_steps, last=snap.latest,
                                 elapsed=snap.latest.get("elapsed", 0.0), hardware=snap.hardware, **extra)
        except OSError:
            pass  # a full disk: the snapshot still shows the truth, and the lock still says who holds the run

    def _supervise(self) -> None:
        final: tuple[JobState, dict[str, Any]] | None = None
        try:
            while final is None:
                final = self._handle(self._runner.recv())  # EOFError when the worker is gone
        except (EOFError, OSError):
            code = self._runner.exit_code()
            how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            final = (JobState.FAILED, {"message": "the training process ended unexpectedly", "lost": True,
                                       "error": f"the training process ended unexpectedly ({how}); the run can be "
                                                "resumed from its last checkpoint"})
        finally:
            self._runner.join()
            with self._lock:
                self._end(*(final or (JobState.FAILED, {"lost": True})))
            if self._on_finish:
                self._on_finish(self)

    def _end(self, state: JobState, changes: dict[str, Any]) -> None:
        """Disk first, snapshot second (caller holds the lock): whoever sees the final state in the snapshot
        finds it in status.json too, and the run's lock already given back (so it can be resumed at once)."""
        lost = changes.pop("lost", False)
        self._set(**changes)
        if not lost:  # a worker that died wrote no final state: with the lock released the run reads interrupted
            self._record(RUN_STATES[state], force=True, **({"error": self._snap.error} if self._snap.error else {}))
        self.recorder.release()
        self._set(state=state)
        self._ended.set()

    def _handle(self, message: tuple) -> tuple[JobState, dict[str, Any]] | None:
        """Apply one worker message to the snapshot; the final one is returned (and applied by _end)."""
        kind = message[0]
        with self._lock:
            if kind == "progress":
                self._set(message=message[1])
            elif kind == "ready":
                info = message[1]
                self.config = TrainConfig.from_dict(info["config"])
                self._history = [r for r in self._history if r.get("step", 0) <= info["step"]]
                state = JobState.PAUSED if self._paused else JobState.RUNNING
                self._set(state=state, step=info["step"], total_steps=info["total_steps"], config=self.config,
                          d_updates=info["d_updates"], g_updates=info["g_updates"], hardware=info["hardware"],
                          quality_note=info["quality_note"], message=info["message"], history=tuple(self._history),
                          threads=info["threads"] if info["device"] == "cpu" else 0)
                if info["device"] == "cpu" and self.config.threads == 0 and info["threads"] >= 2:
                    self._all_threads = self._asked_threads = info["threads"]
                    self._set(all_threads=info["threads"])
                self._record(RunState.RUNNING, started=time.time())
            elif kind == "event":
                self._on_event(*message[1:])
            elif kind in ("paused", "running"):
                state = JobState.PAUSED if kind == "paused" else JobState.RUNNING
                self._set(state=state, **message[1])
                self._record(RunState(kind))
            elif kind == "threads":
                self._set(threads=message[1])
            elif kind == "ended":
                state = JobState(message[1])
                return state, {"message": f"{state} at step {message[2]['step']}", **message[2]}
            elif kind == "error":
                return JobState(message[1]), {"error": message[2], "error_detail": message[3], "message": message[2]}
            self._share_cpu()  # every message is a chance to take the thread back once nobody watches
        return None

    def _on_event(self, kind: str, step: int, counts: dict[str, int], record: dict | None, grid: Any) -> None:
        """A trainer event (caller holds the lock): history, newest grid, progress in status.json."""
        changes: dict[str, Any] = dict(counts)
        if kind == "log" and record is not None:
            if "loss_d" in record or "loss_g" in record:
                self._history.append(record)
            else:  # quality records are merged into the newest loss record for the charts
                self._history.append({**(self._history[-1] if self._history else {}), **record})
            self._history = downsample(self._history, self._max_history)
            changes["history"] = tuple(self._history)
        if kind == "sample" and grid is not None:
            grid.setflags(write=False)
            changes.update(grid=grid, grid_step=step)
        self._set(**changes)
        self._record(force=kind == "checkpoint")
