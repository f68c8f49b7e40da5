"""TrainingJob and JobManager: start, pause, single steps, resume, stop, errors, queueing."""

from __future__ import annotations

import time

import pytest

from ganlab.runs import read_status
from ganlab.train.job import TrainingJob
from ganlab.train.manager import JobManager
from ganlab.train.snapshot import downsample
from tests.helpers import tiny_config


@pytest.fixture
def manager():
    m = JobManager()
    yield m
    m.shutdown(timeout=30)


def test_job_pause_step_resume_stop_cycle() -> None:
    job = TrainingJob(tiny_config(max_steps=100_000, checkpoint_every=10_000))
    job.start()
    job.wait_for(lambda s: s.step >= 3, timeout=60)
    job.pause()
    paused = job.wait_for(lambda s: s.state == "paused", timeout=30)
    with pytest.raises(ValueError, match="single steps need a paused job"):
        TrainingJob(tiny_config()).step_d()
    job.step_d()
    after_d = job.wait_for(lambda s: s.d_updates == paused.d_updates + 1, timeout=30)
    assert after_d.step == paused.step and after_d.g_updates == paused.g_updates
    job.step_g()
    after_g = job.wait_for(lambda s: s.g_updates == paused.g_updates + 1, timeout=30)
    job.step_both()
    both = job.wait_for(lambda s: s.step == paused.step + 1, timeout=30)
    assert both.grid is not None and after_g.state == "paused"
    job.unpause()
    job.wait_for(lambda s: s.state == "running" and s.step > both.step + 2, timeout=60)
    assert job.stop(timeout=30)
    final = job.snapshot()
    assert final.state == "stopped" and final.error is None
    assert job.run.latest_checkpoint is not None
    assert read_status(job.run)["state"] == "stopped"


def test_job_runs_to_completion_and_reports_finished() -> None:
    job = TrainingJob(tiny_config(max_steps=6))
    job.start()
    snap = job.wait_for(lambda s: not s.active, timeout=60)
    assert snap.state == "finished" and snap.step == 6 and snap.progress == 1.0
    assert [r["step"] for r in snap.history][-1] == 6
    assert not snap.grid.flags.writeable


def test_exception_in_thread_is_visible_in_snapshot() -> None:
    job = TrainingJob(tiny_config(dataset="folder", data_path="/nonexistent/images"))
    job.start()
    snap = job.wait_for(lambda s: not s.active, timeout=60)
    assert snap.state == "failed"
    assert "/nonexistent/images" in snap.error
    assert read_status(job.run)["state"] == "failed"


def test_manager_queues_second_job_until_first_ends(manager: JobManager) -> None:
    first = manager.submit(tiny_config(max_steps=100_000, checkpoint_every=10_000))
    second = manager.submit(tiny_config(max_steps=3))
    assert first.run.id != second.run.id
    assert second.snapshot().state == "queued" and manager.queue_position(second.job_id) == 1
    first.wait_for(lambda s: s.step >= 1, timeout=60)
    manager.stop(first.job_id)
    assert first.snapshot().state == "stopped"
    assert second.wait_for(lambda s: s.state == "finished", timeout=60).step == 3


def test_manager_cancel_of_queued_job_never_starts_it(manager: JobManager) -> None:
    first = manager.submit(tiny_config(max_steps=100_000, checkpoint_every=10_000))
    second = manager.submit(tiny_config(max_steps=3))
    manager.stop(second.job_id)
    assert second.snapshot().state == "stopped"
    manager.stop(first.job_id)
    assert second.snapshot().step == 0


def test_resume_through_manager_continues_from_checkpoint(manager: JobManager) -> None:
    job = manager.submit(tiny_config(max_steps=4))
    job.wait_for(lambda s: s.state == "finished", timeout=60)
    resumed = manager.resume(job.run, overrides={"max_steps": 7})
    snap = resumed.wait_for(lambda s: s.state == "finished", timeout=60)
    assert snap.step == 7
    assert [r["step"] for r in job.run.read_metrics() if "loss_d" in r] == list(range(1, 8))


def test_history_downsampling_keeps_memory_bounded() -> None:
    history = [{"step": i} for i in range(5000)]
    for _ in range(10):
        history = downsample(history + [{"step": 1}], 2000)
    assert len(history) <= 2000


def test_a_watched_cpu_run_on_all_cpus_gives_up_one_thread_and_takes_it_back_when_unwatched(monkeypatch) -> None:
    import ganlab.train.job as job_module
    from ganlab.device import usable_cpus

    if usable_cpus() < 2:
        pytest.skip("one usable CPU: there is no thread to give up")
    monkeypatch.setattr(job_module, "WATCH_GRACE_S", 1.0)
    monkeypatch.setattr(job_module, "SHARE_FROM_VIEWERS", 1)
    job = TrainingJob(tiny_config(threads=0, max_steps=1_000_000, checkpoint_every=1_000_000))
    job.start()
    everyone = job.wait_for(lambda s: s.state == "running" and s.step >= 2, timeout=60)
    assert everyone.threads == everyone.all_threads == usable_cpus()  # unwatched: every CPU
    job.watched()
    shared = job.wait_for(lambda s: s.threads == usable_cpus() - 1, timeout=30)  # the worker says it applied it
    step = shared.step
    job.wait_for(lambda s: s.step >= step + 3, timeout=60)  # and it trains on
    job.wait_for(lambda s: s.threads == usable_cpus(), timeout=30)  # no refresh for a second: all back
    assert job.stop(timeout=30)


def test_a_run_gives_up_a_thread_only_once_enough_distinct_pages_watch(monkeypatch) -> None:
    import ganlab.train.job as job_module
    from ganlab.device import usable_cpus

    if usable_cpus() < 2:
        pytest.skip("one usable CPU: there is no thread to give up")
    monkeypatch.setattr(job_module, "WATCH_GRACE_S", 2.0)
    monkeypatch.setattr(job_module, "SHARE_FROM_VIEWERS", 2)
    job = TrainingJob(tiny_config(threads=0, max_steps=1_000_000, checkpoint_every=1_000_000))
    job.start()
    job.wait_for(lambda s: s.state == "running" and s.step >= 2, timeout=60)
    job.watched("tab-a")
    job.watched("tab-a")  # the same page twice is one viewer
    step = job.snapshot().step
    job.wait_for(lambda s: s.step >= step + 3, timeout=60)
    assert job.viewers() == 1 and job.snapshot().threads == usable_cpus()
    job.watched("tab-b")
    assert job.viewers() == 2
    job.wait_for(lambda s: s.threads == usable_cpus() - 1, timeout=30)
    job.wait_for(lambda s: s.threads == usable_cpus(), timeout=30)  # under two pages again: all back
    time.sleep(2.1)
    assert job.viewers() == 0
    assert job.stop(timeout=30)


def test_a_run_with_a_fixed_thread_count_is_never_changed_by_watching(monkeypatch) -> None:
    import ganlab.train.job as job_module

    monkeypatch.setattr(job_module, "WATCH_GRACE_S", 1.0)
    job = TrainingJob(tiny_config(threads=1, max_steps=1_000_000, checkpoint_every=1_000_000))
    job.start()
    job.wait_for(lambda s: s.state == "running" and s.step >= 2, timeout=60)
    for _ in range(3):
        job.watched()
        step = job.snapshot().step
        job.wait_for(lambda s, step=step: s.step > step, timeout=30)
    snap = job.snapshot()
    assert (snap.threads, snap.all_threads) == (1, 0)
    assert job.stop(timeout=30)
