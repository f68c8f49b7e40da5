"""A run's lifecycle: one RunState enum, one writer of status.json (RunRecorder), and changes made under its lock.

Whoever trains a run (an app job, `python -m ganlab train|resume`, a script) creates a RunRecorder. It holds
the run's lock (ganlab.runs.lock) from the moment the run is queued until the job ends, and it is the only
code that writes status.json. Everyone else derives liveness from the lock: a run whose recorded state is not
final and whose lock nobody holds is *interrupted* (its process died, however it died).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any

from ganlab import paths
from ganlab.config import TrainConfig
from ganlab.files import atomic_write_bytes
from ganlab.runs.lock import RunBusyError, RunLock, describe_holder, is_locked
from ganlab.runs.store import Run, RunError, create_run, make_run_folder

STATUS_FILE = "status.json"


class RunState(str, Enum):
    """Where a run is; compares equal to its text ("running" == RunState.RUNNING)."""

    QUEUED = "queued"  # waiting for its turn in a job queue (its process holds the lock)
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"  # trained all its planned steps
    STOPPED = "stopped"  # stopped by the user with a checkpoint; can be resumed
    FAILED = "failed"  # ended with an error (bad data, out of memory, diverged...); see status["error"]
    INTERRUPTED = "interrupted"  # derived, never written: not final, and nobody holds the lock

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @property
    def final(self) -> bool:
        return self in (RunState.FINISHED, RunState.STOPPED, RunState.FAILED)


def read_status(run: Run) -> dict[str, Any]:
    """status.json with its state made true: a live-looking state nobody holds the lock for is 'interrupted'.

    A folder without status.json (made, then its process died before queueing it) counts as queued.
    """
    try:
        status = json.loads((run.path / STATUS_FILE).read_text(encoding="utf-8"))
        if not isinstance(status, dict):
            raise ValueError("not an object")
    except (OSError, ValueError):
        status = {}
    try:
        state = RunState(status.get("state", RunState.QUEUED))
    except ValueError:  # a hand-edited or future state: treat as not final
        state = RunState.QUEUED
    if not state.final and not is_locked(run.path):
        state = RunState.INTERRUPTED
    status["state"] = state
    return status


def state_of(run: Run) -> RunState:
    return read_status(run)["state"]


def is_live(run: Run) -> bool:
    """Some process holds the run (queued, training or paused): it must not be deleted or resumed now."""
    return is_locked(run.path)


def busy_message(run: Run, action: str) -> str:
    """'cannot delete run X: it is training in another process (pid 12, the command line)'."""
    return f"cannot {action} run {run.id}: it is {describe_holder(run.path)}"


# ------------------------------------------------------------------ changes made under the lock
_held: dict[Path, RunLock] = {}  # locks this process holds through its recorders
_held_guard = threading.Lock()


@contextlib.contextmanager
def changing(run: Run, action: str) -> Iterator[None]:
    """Hold the run's lock while changing it: free runs are locked for the block; a run this process's own
    recorder holds may be changed (rename, export, truncate on resume); a run held elsewhere is refused."""
    key = run.path.resolve()
    with _held_guard:
        ours = key in _held
    if ours:
        yield
        return
    lock = RunLock(run.path)
    if not lock.try_acquire(kind="app"):
        raise RunBusyError(busy_message(run, action))
    try:
        yield
    finally:
        lock.release()


def adopt_lock(run: Run, fd: int) -> None:
    """Register a lock descriptor inherited from the job that spawned this worker process as held here.

    flock belongs to the open file, which parent and child now share: the run stays locked while either lives.
    """
    with _held_guard:
        _held[run.path.resolve()] = RunLock.adopt(run.path, fd)


def delete_run(run: Run, root: Path | None = None) -> None:
    """Remove a run folder: only inside the runs root, and only when no process holds it (this one included)."""
    root = (Path(root) if root else paths.runs_dir()).resolve()
    target = run.path.resolve()
    if target.parent != root:
        raise RunError(f"refusing to delete {target}: not a run folder inside {root}")
    lock = RunLock(run.path)
    if not lock.try_acquire(kind="app"):
        raise RunBusyError(busy_message(run, "delete"))
    try:
        shutil.rmtree(target)
    finally:
        lock.release()


def rename_run(run: Run, new_name: str) -> None:
    """Change the display name (name.txt; the folder keeps its id), under the run's lock."""
    new_name = new_name.strip()
    if not new_name or len(new_name) > 80:
        raise RunError(f"name {new_name!r} must be 1 to 80 characters")
    with changing(run, "rename"):
        atomic_write_bytes(run.path / "name.txt", new_name.encode())


# ------------------------------------------------------------------ the one writer of status.json
class RunRecorder:
    """Holds a run's lock and writes its status.json; create() a new run or attach() to one to resume it."""

    def __init__(self, run: Run, lock: RunLock, kind: str) -> None:
        self.run, self._lock, self.kind = run, lock, kind
        self._status: dict[str, Any] = {}
        with _held_guard:
            _held[run.path.resolve()] = lock

    @classmethod
    def create(cls, config: TrainConfig, root: Path | None = None, kind: str = "app") -> "RunRecorder":
        """A new run folder, locked before its config is written (no one can see it unowned), state queued."""
        folder = make_run_folder(config, root)
        lock = RunLock(folder).acquire(kind)
        recorder = cls(create_run(config, folder=folder), lock, kind)
        recorder._write(state=RunState.QUEUED, step=0, created=time.time())
        return recorder

    @classmethod
    def attach(cls, run: Run, kind: str = "app", queue: bool = True) -> "RunRecorder":
        """Take an existing run to train it again (resume); RunBusyError when another process holds it.

        queue=True records it as queued now (an app job waiting for its turn); queue=False leaves status.json
        alone until the caller records a state (the command line resumes at once, or gives up untouched).
        """
        lock = RunLock(run.path)
        if not lock.try_acquire(kind):
            raise RunBusyError(busy_message(run, "resume"))
        recorder = cls(run, lock, kind)
        previous = read_status(run)
        previous.pop("error", None)
        if previous["state"] == RunState.INTERRUPTED:  # derived, never written
            previous["state"] = RunState.QUEUED
        recorder._status = previous
        if queue:
            recorder._write(state=RunState.QUEUED)
        return recorder

    @property
    def held(self) -> bool:
        return self._lock.held

    @property
    def lock_fd(self) -> int | None:
        """The lock's descriptor, for a worker process to inherit (see adopt_lock)."""
        return self._lock.fd

    def _write(self, **fields: Any) -> None:
        if not self._lock.held:
            raise RunError(f"run {self.run.id}: its recorder was released; status.json is not written any more")
        self._status.update(fields, owner={"pid": os.getpid(), "kind": self.kind})
        data = {k: (str(v) if isinstance(v, RunState) else v) for k, v in self._status.items()}
        atomic_write_bytes(self.run.path / STATUS_FILE, json.dumps(data, indent=2).encode())

    def record(self, state: RunState | None = None, **info: Any) -> None:
        """Write state (if given) and progress fields (step, total_steps, elapsed, last, hardware...)."""
        if state is not None:
            if state == RunState.INTERRUPTED:
                raise ValueError("interrupted is derived from the lock, never recorded")
            info["state"] = state
            if state == RunState.RUNNING and "started" not in self._status:
                info.setdefault("started", time.time())
            if RunState(state).final:
                info.setdefault("ended", time.time())
        self._write(**info)

    def failed(self, error: str, **info: Any) -> None:
        self.record(RunState.FAILED, error=error, **info)

    def release(self) -> None:
        """Give the run back (the job or command ended); safe to call twice."""
        with _held_guard:
            _held.pop(self.run.path.resolve(), None)
        self._lock.release()
