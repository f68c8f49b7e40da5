"""Writing files safely: atomic replace (temp file, fsync, rename), caches that may fail, orphaned temp cleanup."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

_TEMP_NAME = re.compile(r"\..+\.(\d+)\.[a-z0-9_]{8}\.tmp")  # .<target>.<pid>.<mkstemp random>.tmp


def atomic_write(path: str | Path, write: Callable[[BinaryIO], object]) -> None:
    """Call write(fh) on a temp file beside path, then rename it over path: a crash leaves the old or the new file.

    The temp file is removed on any failure (a full disk must not also leave a partial file behind).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The writer's pid is part of the temp name so a later write can tell an orphan (writer killed) from
    # a write in progress.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
        _fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    remove_orphaned_temps(path.parent)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """atomic_write of a bytes payload."""
    atomic_write(path, lambda fh: fh.write(data))


def write_cache(path: str | Path, write: Callable[[BinaryIO], object]) -> bool:
    """atomic_write for a cache file: a full or read-only disk only costs the next load its speed (returns False)."""
    try:
        atomic_write(path, write)
        return True
    except OSError:
        return False


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (POSIX; True when it exists but belongs to someone else)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive but someone else's
        return True
    return True


def remove_orphaned_temps(folder: Path) -> None:
    """Delete temp files left in folder by writers that died (SIGKILL, power loss): crashes must not fill the disk."""
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        return
    for tmp in folder.glob(".*.tmp"):
        match = _TEMP_NAME.fullmatch(tmp.name)
        if match and int(match.group(1)) != os.getpid() and not pid_alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                tmp.unlink()


def _fsync_dir(directory: Path) -> None:
    # Directory fsync makes the rename itself durable; not supported on every OS (e.g. Windows).
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
