"""Liveness from the operating system: a process that trains a run holds an exclusive lock on its `lock` file.

POSIX: `fcntl.flock` on <run>/lock. The kernel releases it when the holder exits or is killed (SIGKILL too),
so "nobody holds the lock" means "nobody is training this run" — no pid or heartbeat guessing, and a pid that
was reused after a restart cannot fool it. Locks are per open file: a second open of the same file in the same
process conflicts too, so the app's Runs page sees the lock of a job running in the same server process.

Windows fallback (not exercised by the tests here): `msvcrt.locking(fd, LK_NBLCK, 1)` on the first byte of
the same file; Windows also releases it when the process dies. The holder's identity (pid, host, kind) lives in
a separate `owner.json`, because a locked byte range cannot be read by others on Windows.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganlab.runs.store import RunError

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)


LOCK_FILE, OWNER_FILE = "lock", "owner.json"


class RunBusyError(RunError):
    """A run is held by a live process (training, queued or paused), so it cannot be changed now."""


@dataclass(frozen=True)
class Owner:
    """Who holds a run: enough to tell a user where the training happens."""

    pid: int
    host: str
    kind: str  # "app" (a job of the Streamlit app) or "cli" (python -m ganlab train/resume) or "script"
    since: float

    def describe(self) -> str:
        """'this app (pid 12)', 'another process (pid 34, the command line)' ..."""
        if self.pid == os.getpid() and self.host == socket.gethostname():
            return f"this app (pid {self.pid})"
        how = {"app": "a GAN Lab app", "cli": "the command line", "script": "a script"}.get(self.kind, self.kind)
        host = "" if self.host == socket.gethostname() else f" on {self.host}"
        return f"another process (pid {self.pid}{host}, {how})"


class RunLock:
    """An exclusive, OS-released lock on one run folder; acquire() or raise RunBusyError naming the holder."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._fd: int | None = None

    @classmethod
    def adopt(cls, folder: Path, fd: int) -> "RunLock":
        """A lock whose descriptor was inherited from the process that acquired it."""
        lock = cls(folder)
        lock._fd = fd
        return lock

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    @property
    def fd(self) -> int | None:
        return self._fd

    def try_acquire(self, kind: str = "app") -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            os.close(fd)
            return False
        self._fd = fd
        owner = {"pid": os.getpid(), "host": socket.gethostname(), "kind": kind, "since": time.time()}
        with contextlib.suppress(OSError):  # the identity is for messages only; the lock is what counts
            (self.folder / OWNER_FILE).write_text(json.dumps(owner), encoding="utf-8")
        return True

    def acquire(self, kind: str = "app") -> "RunLock":
        if not self.try_acquire(kind):
            raise RunBusyError(f"run {self.folder.name} is {describe_holder(self.folder)}")
        return self

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            _unlock(fd)
            os.close(fd)

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()


def is_locked(folder: Path) -> bool:
    """Whether any process (this one included) holds the run's lock right now."""
    try:
        fd = os.open(Path(folder) / LOCK_FILE, os.O_RDWR)
    except OSError:  # no lock file: nobody ever trained it (or the folder is gone)
        return False
    try:
        if _try_lock(fd):
            _unlock(fd)
            return False
        return True
    finally:
        os.close(fd)


def owner(folder: Path) -> Owner | None:
    """The holder's identity as it recorded it (None when unknown or unreadable)."""
    try:
        data = json.loads((Path(folder) / OWNER_FILE).read_text(encoding="utf-8"))
        return Owner(int(data["pid"]), str(data["host"]), str(data["kind"]), float(data["since"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def describe_holder(folder: Path) -> str:
    """'training in another process (pid 123, the command line)' style text for messages."""
    who = owner(folder)
    return f"training in {who.describe()}" if who else "training in another process"
