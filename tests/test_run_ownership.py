"""One owner per run across the app, the CLI and crashes: a run trained by another process is seen as running,
cannot be deleted or resumed, and reads interrupted as soon as that process dies (no pid or heartbeat guess)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ganlab.runs import RunBusyError, RunState, delete_run, list_runs, read_status, state_of
from ganlab.train import JobManager
from tests.helpers import tiny_config

ROOT = Path(__file__).resolve().parent.parent
CLI_TRAIN = [sys.executable, "-m", "ganlab", "train", "--img-size", "16", "--g-channels", "8", "--d-channels", "8",
             "--z-dim", "16", "--batch-size", "16", "--max-steps", "1000000", "--checkpoint-every", "5",
             "--sample-every", "100000", "--log-every", "1", "--threads", "1", "--precision", "fp32"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ganlab", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=120, env=dict(os.environ))


def _start_cli_training() -> tuple[subprocess.Popen, object]:
    proc = subprocess.Popen(CLI_TRAIN, cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        runs = list_runs()
        if runs and runs[0].latest_checkpoint is not None and len(runs[0].read_metrics()) >= 6:
            return proc, runs[0]
        time.sleep(0.1)
    proc.kill()
    pytest.fail("the CLI trainer never logged 6 steps")


def _check_cli_run_is_owned_then_interrupted(wait_s: float) -> None:
    proc, run = _start_cli_training()
    try:
        time.sleep(wait_s)  # liveness does not fade with time: no heartbeat to miss
        assert state_of(run) == RunState.RUNNING
        listed = _cli("runs").stdout
        assert run.id in listed and "running" in listed.split(run.id, 1)[1].splitlines()[0]
        with pytest.raises(RunBusyError, match=rf"another process \(pid {proc.pid}, the command line\)"):
            delete_run(run)
        out = _cli("delete", run.id, "--yes")
        assert out.returncode == 2 and out.stderr.count("\n") == 1 and f"pid {proc.pid}" in out.stderr
        out = _cli("resume", run.id, "--max-steps", "10")
        assert out.returncode == 2 and "cannot resume" in out.stderr and "Traceback" not in out.stderr
        manager = JobManager(mode="thread")
        with pytest.raises(RunBusyError, match=f"pid {proc.pid}"):
            manager.resume(run)
        assert run.path.is_dir()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 1.0
    while state_of(run) != RunState.INTERRUPTED:
        assert time.monotonic() < deadline, f"still {state_of(run)} a second after SIGKILL"
        time.sleep(0.02)
    manager = JobManager(mode="thread")
    step = read_status(run).get("step", 0)
    job = manager.resume(run, overrides={"max_steps": 1_000_000_000})
    job.wait_for(lambda s: s.step > step, timeout=120)
    manager.shutdown()
    assert state_of(run) == RunState.STOPPED


def test_a_cli_trained_run_is_running_for_the_app_and_cli_and_interrupted_after_sigkill() -> None:
    _check_cli_run_is_owned_then_interrupted(wait_s=1.0)


@pytest.mark.slow
def test_a_cli_trained_run_is_still_running_past_the_old_heartbeat_window() -> None:
    _check_cli_run_is_owned_then_interrupted(wait_s=125.0)  # the old guess called it dead after 120 s


def test_two_concurrent_resumes_yield_exactly_one_job() -> None:
    manager = JobManager(mode="thread")
    first = manager.submit(tiny_config(max_steps=3))
    first.wait_for(lambda s: not s.active, timeout=60)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def click() -> None:
        barrier.wait()
        try:
            outcomes.append(manager.resume(first.run, overrides={"max_steps": 6}))
        except ValueError as exc:  # RunBusyError or "already training"
            outcomes.append(exc)

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    jobs = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(jobs) == 1 and len(outcomes) == 2, outcomes
    assert jobs[0].wait_for(lambda s: not s.active, timeout=60).state == "finished"
    manager.shutdown()


def test_a_paused_app_job_stays_paused_however_long() -> None:
    manager = JobManager(mode="thread")
    job = manager.submit(tiny_config(max_steps=1_000_000, checkpoint_every=1_000_000))
    job.wait_for(lambda s: s.step >= 2, timeout=60)
    job.pause()
    job.wait_for(lambda s: s.state == "paused", timeout=30)
    status = job.run.path / "status.json"
    long_ago = time.time() - 7 * 24 * 3600
    os.utime(status, (long_ago, long_ago))  # as if it had been paused for a week
    assert state_of(job.run) == RunState.PAUSED
    manager.shutdown()
