"""Where a job's worker runs: a child process (the default: the app's page reruns cannot starve it of the GIL)
or a thread of the calling process (tests that patch the trainer, benchmarks, platforms without fd passing)."""

from __future__ import annotations

import atexit
import multiprocessing
import os
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

from ganlab.train.worker import WorkOrder, work

MODES = ("process", "thread")
_LIVE: "weakref.WeakSet[ProcessRunner]" = weakref.WeakSet()  # workers of this process, killed when it exits


class Runner(Protocol):
    def start(self, order: WorkOrder) -> None: ...
    def send(self, command: str) -> None: ...
    def recv(self) -> Any: ...  # raises EOFError once the worker is gone and every message was read
    def exit_code(self) -> int | None: ...
    def join(self) -> None: ...


class _Channel:
    """The job's end of the connection: sends from any thread, one reader (the job's supervisor thread)."""

    conn: Connection

    def __init__(self) -> None:
        self._send_lock = threading.Lock()

    def send(self, command: str) -> None:
        with self._send_lock:
            try:
                self.conn.send(command)
            except (BrokenPipeError, OSError):
                pass  # the worker already ended; the supervisor reports how

    def recv(self) -> Any:
        return self.conn.recv()


class ProcessRunner(_Channel):
    """`python -m ganlab.train.spawned FD` with the connection (and the run's lock) inherited as descriptors."""

    def start(self, order: WorkOrder) -> None:
        parent, child = multiprocessing.Pipe()
        fds = [child.fileno()] + ([order.lock_fd] if order.lock_fd is not None else [])
        package_root = str(Path(__file__).resolve().parents[2])  # the worker imports this same ganlab
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH"))
                                                            if p)}
        self.proc = subprocess.Popen([sys.executable, "-m", "ganlab.train.spawned", str(child.fileno())],
                                     pass_fds=fds, env=env, stdin=subprocess.DEVNULL)
        _LIVE.add(self)
        child.close()  # only the worker holds its end now: its exit shows here as EOF
        self.conn = parent
        self.conn.send(order)

    def exit_code(self) -> int | None:
        try:
            return self.proc.wait(timeout=5)  # the connection closes a moment before the process is reaped
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def join(self) -> None:
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a worker that does not end after its last message
            self.proc.kill()
            self.proc.wait()
        self.conn.close()


class ThreadRunner(_Channel):
    """The same worker loop in a daemon thread of this process."""

    def start(self, order: WorkOrder) -> None:
        parent, child = multiprocessing.Pipe()
        self.conn = parent
        self.thread = threading.Thread(target=self._run, args=(child, replace(order, lock_fd=None)),
                                       name="ganlab-worker", daemon=True)
        self.thread.start()

    @staticmethod
    def _run(conn: Connection, order: WorkOrder) -> None:
        try:
            work(conn, order)
        finally:
            conn.close()

    def exit_code(self) -> int | None:
        return None if self.thread.is_alive() else 0

    def join(self) -> None:
        self.thread.join(timeout=30)
        self.conn.close()


def live_workers(grace: float = 0.0) -> list[ProcessRunner]:
    """Worker processes of this process still running after up to `grace` seconds (tests check none outlive
    their job; a worker that sent its last message may need a moment to exit)."""
    deadline = time.monotonic() + grace
    while True:
        alive = [r for r in list(_LIVE) if r.proc.poll() is None]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.05)


@atexit.register
def _kill_workers() -> None:
    # A worker also ends by itself when it sees this process's end of the connection close; this is sooner.
    for runner in live_workers():
        runner.kill()


def make_runner(mode: str | None = None) -> Runner:
    """mode, else $GANLAB_JOB_MODE, else "process" ("thread" where descriptors cannot be passed: Windows)."""
    mode = mode or os.environ.get("GANLAB_JOB_MODE") or ("thread" if os.name == "nt" else "process")
    if mode not in MODES:
        raise ValueError(f"job mode {mode!r} is not allowed; choose one of: {', '.join(MODES)}")
    return ProcessRunner() if mode == "process" else ThreadRunner()
