"""Run lifecycle: one writer of status.json, liveness from an OS lock, changes refused while another process holds it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ganlab.runs import (
    RunBusyError,
    RunRecorder,
    RunState,
    create_run,
    delete_run,
    is_live,
    read_status,
    rename_run,
    state_of,
)
from ganlab.runs.lock import RunLock
from tests.helpers import tiny_config

ROOT = Path(__file__).resolve().parent.parent

HOLD = """
import sys, time
from ganlab.runs.lock import RunLock
RunLock(__import__("pathlib").Path(sys.argv[1])).acquire(kind="cli")
print("held", flush=True)
time.sleep(600)
"""


def hold_in_subprocess(folder: Path) -> subprocess.Popen:
    """Another process that holds the run's lock until it is killed."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_recorded_live_state_without_a_lock_holder_reads_as_interrupted() -> None:
    recorder = RunRecorder.create(tiny_config())
    recorder.record(RunState.RUNNING, step=3)
    assert state_of(recorder.run) == RunState.RUNNING and is_live(recorder.run)
    recorder.release()  # what the kernel does when the process dies
    assert state_of(recorder.run) == RunState.INTERRUPTED and not is_live(recorder.run)
    assert json.loads((recorder.run.path / "status.json").read_text())["state"] == "running"  # never written


def test_final_states_stay_final_without_a_holder() -> None:
    recorder = RunRecorder.create(tiny_config())
    recorder.record(RunState.STOPPED, step=4)
    recorder.release()
    assert state_of(recorder.run) == RunState.STOPPED


def test_paused_stays_paused_for_any_length_of_time_while_held() -> None:
    recorder = RunRecorder.create(tiny_config())
    recorder.record(RunState.PAUSED, step=2)
    status = recorder.run.path / "status.json"
    long_ago = time.time() - 10 * 24 * 3600
    os.utime(status, (long_ago, long_ago))  # no heartbeat: time since the last write does not matter
    assert state_of(recorder.run) == RunState.PAUSED
    recorder.release()


def test_a_run_held_by_another_process_refuses_delete_resume_and_rename_naming_the_holder() -> None:
    run = create_run(tiny_config())
    holder = hold_in_subprocess(run.path)
    try:
        assert is_live(run)
        with pytest.raises(RunBusyError, match=rf"delete.*another process \(pid {holder.pid}, the command line\)"):
            delete_run(run)
        with pytest.raises(RunBusyError, match=rf"resume.*pid {holder.pid}"):
            RunRecorder.attach(run)
        with pytest.raises(RunBusyError, match="rename"):
            rename_run(run, "new name")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    deadline = time.monotonic() + 1.0  # the kernel released the lock with the process
    while is_live(run) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not is_live(run)
    rename_run(run, "new name")
    delete_run(run)


def test_this_process_can_rename_a_run_its_own_recorder_holds_but_not_delete_it() -> None:
    recorder = RunRecorder.create(tiny_config())
    rename_run(recorder.run, "renamed while training")
    assert recorder.run.display_name == "renamed while training"
    with pytest.raises(RunBusyError, match="this app"):
        delete_run(recorder.run)
    recorder.release()


def test_recorder_is_the_only_writer_and_refuses_after_release() -> None:
    recorder = RunRecorder.create(tiny_config())
    assert read_status(recorder.run)["state"] == RunState.QUEUED
    recorder.record(RunState.RUNNING, step=1, total_steps=8)
    status = read_status(recorder.run)
    assert (status["step"], status["total_steps"], status["owner"]["pid"]) == (1, 8, os.getpid())
    recorder.release()
    with pytest.raises(Exception, match="released"):
        recorder.record(RunState.FINISHED)
    with pytest.raises(ValueError, match="derived"):
        RunRecorder.attach(recorder.run).record(RunState.INTERRUPTED)


def test_two_recorders_cannot_hold_one_run() -> None:
    recorder = RunRecorder.create(tiny_config())
    with pytest.raises(RunBusyError):
        RunRecorder.attach(recorder.run)
    recorder.release()
    again = RunRecorder.attach(recorder.run)
    assert again.held
    again.release()


def test_lock_is_exclusive_within_one_process_too() -> None:
    run = create_run(tiny_config())
    first = RunLock(run.path).acquire()
    assert not RunLock(run.path).try_acquire()
    first.release()
    assert RunLock(run.path).try_acquire()
