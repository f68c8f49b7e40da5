"""Concurrency: simultaneous sessions, per-job controls, explorer reads during training, run folders."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import torch

from ganlab import paths
from ganlab.explore import load_generator
from ganlab.train import JobManager, JobState
from ganlab.train.job import TrainingJob
from tests.helpers import tiny_config

ROOT = Path(__file__).resolve().parent.parent
LONG = dict(max_steps=100_000, checkpoint_every=10_000)  # a job that only ends when told to


@pytest.fixture
def manager():
    m = JobManager()
    yield m
    m.shutdown(timeout=30)


def _in_parallel(*calls):
    """Run the calls on threads released together by a barrier; returns their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    if errors:
        raise errors[0]
    return results


def test_two_sessions_submitting_at_once_get_distinct_runs_one_running_one_queued(manager: JobManager) -> None:
    a, b = _in_parallel(lambda: manager.submit(tiny_config(name="tab-a", **LONG)),
                        lambda: manager.submit(tiny_config(name="tab-b", max_steps=3)))
    assert a.run.id != b.run.id and a.run.path != b.run.path
    states = sorted(j.snapshot().state for j in (a, b))
    assert sum(JobState(s).holds_slot for s in states) == 1 and "queued" in states
    first, second = (a, b) if a.snapshot().state != "queued" else (b, a)
    assert manager.queue_position(second.job_id) == 1
    first.wait_for(lambda s: s.step >= 1, timeout=60)
    manager.stop(first.job_id)
    second.wait_for(lambda s: s.step >= 1, timeout=60)  # the queued one starts once the slot is free
    manager.stop(second.job_id)
    final = second.snapshot()
    assert final.state in ("finished", "stopped") and final.error is None
    assert {a.run.config().name, b.run.config().name} == {"tab-a", "tab-b"}


def test_many_sessions_submitting_at_once_queue_every_job_exactly_once(manager: JobManager) -> None:
    jobs = _in_parallel(*[lambda: manager.submit(tiny_config(**LONG)) for _ in range(6)])
    assert len({j.run.id for j in jobs}) == 6
    assert sum(j.snapshot().state.holds_slot for j in jobs) == 1
    waiting = sorted(manager.queue_position(j.job_id) for j in jobs if j.snapshot().state == "queued")
    assert waiting == [1, 2, 3, 4, 5]


def test_pause_and_stop_affect_only_the_targeted_job() -> None:
    # Two jobs training side by side (as two processes' worth of work would): one tab's control, one job.
    a = TrainingJob(tiny_config(**LONG))
    b = TrainingJob(tiny_config(**LONG))
    a.start()
    b.start()
    try:
        a.wait_for(lambda s: s.state == "running" and s.step >= 2, timeout=60)
        b.wait_for(lambda s: s.state == "running" and s.step >= 2, timeout=60)
        a.pause()
        paused = a.wait_for(lambda s: s.state == "paused", timeout=30)
        b_step = b.snapshot().step
        b.wait_for(lambda s: s.step >= b_step + 3, timeout=60)  # b keeps training while a is paused
        assert a.snapshot().step == paused.step and a.snapshot().state == "paused"
        assert b.stop(timeout=30) and b.snapshot().state == "stopped"
        assert a.snapshot().state == "paused"  # stopping b did not touch a
        a.unpause()
        a.wait_for(lambda s: s.state == "running" and s.step >= paused.step + 2, timeout=60)
    finally:
        a.stop(timeout=30)
        b.stop(timeout=30)
    assert a.snapshot().state == "stopped" and a.snapshot().error is None


def test_manager_controls_of_one_job_leave_the_queued_one_alone(manager: JobManager) -> None:
    running = manager.submit(tiny_config(**LONG))
    queued = manager.submit(tiny_config(max_steps=3))
    running.wait_for(lambda s: s.step >= 1, timeout=60)
    queued.pause()  # a control on a queued job is a no-op for both jobs
    time.sleep(0.3)
    assert queued.snapshot().state == "queued" and running.snapshot().state == "running"
    running.pause()
    running.wait_for(lambda s: s.state == "paused", timeout=30)
    assert queued.snapshot().state == "queued"  # a paused job keeps its slot; nothing else starts
    manager.stop(queued.job_id)
    assert queued.snapshot().state == "stopped" and queued.snapshot().step == 0
    assert running.snapshot().state == "paused"
    running.unpause()
    step = running.snapshot().step
    running.wait_for(lambda s: s.step >= step + 2, timeout=60)


def test_explorer_loads_only_complete_checkpoints_while_a_job_checkpoints_every_step() -> None:
    job = TrainingJob(tiny_config(max_steps=100_000, checkpoint_every=1, log_every=1, sample_every=1000))
    job.start()
    try:
        job.wait_for(lambda s: s.step >= 1 and job.run.latest_checkpoint is not None, timeout=60)
        latest = job.run.latest_checkpoint
        steps: list[int] = []
        deadline = time.monotonic() + 60
        while len(set(steps)) < 15 and time.monotonic() < deadline:
            loaded = load_generator(latest)  # never raises: each read sees a whole file
            steps.append(loaded.step)
        assert len(set(steps)) >= 15, "the job did not advance while the explorer was reading"
        assert steps == sorted(steps)  # every load is the newest or a newer complete version
        # The live model is in the job's worker process: what the explorer holds is always a file's copy.
        frozen = [p.detach().clone() for p in loaded.generator.parameters()]
        job.wait_for(lambda s: s.step >= steps[-1] + 3, timeout=60)
        assert all(torch.equal(a, b) for a, b in zip(frozen, loaded.generator.parameters()))
    finally:
        job.stop(timeout=30)


def test_run_folders_never_collide_across_processes() -> None:
    script = textwrap.dedent("""
        from ganlab.config import TrainConfig
        from ganlab.runs import create_run
        for _ in range(15):
            print(create_run(TrainConfig(dataset="digits", max_steps=1)).id, flush=True)
    """)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    procs = [subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    ids = [line for p in procs for line in p.communicate(timeout=120)[0].split()]
    assert all(p.returncode == 0 for p in procs)
    assert len(ids) == 30 and len(set(ids)) == 30  # 2 processes x 15 runs
    folders = sorted(p.name for p in paths.runs_dir().iterdir())
    assert folders == sorted(ids)
    assert all((paths.runs_dir() / i / "config.json").is_file() for i in ids)
