"""Faults: SIGKILL mid-checkpoint, full disk, NaN/inf losses, out-of-memory and a crashing training thread."""

from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from ganlab import files
from ganlab.explore import load_generator
from ganlab.runs import list_runs, read_status, state_of
from ganlab.runs.checkpoint import load_checkpoint, save_checkpoint
from ganlab.train.job import TrainingJob
from ganlab.train.manager import JobManager
from ganlab.train.resume import resume_trainer
from ganlab.train.trainer import Trainer
from tests.helpers import tiny_config

ROOT = Path(__file__).resolve().parent.parent
LONG = dict(max_steps=100_000, checkpoint_every=10_000)  # a job that only ends when told to

# Saves {"step": n, "blob": n repeated} to argv[1] forever, printing n after each completed save.
WRITER = textwrap.dedent("""
    import sys, torch
    from ganlab.runs.checkpoint import save_checkpoint
    path, step = sys.argv[1], int(sys.argv[2])
    while True:
        step += 1
        save_checkpoint(path, {"step": step, "blob": torch.full((2_500_000,), float(step))})  # 10 MB
        print(step, flush=True)
""")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def manager():
    """Jobs in thread mode: these tests patch the trainer or the file layer in this process."""
    m = JobManager(mode="thread")
    yield m
    m.shutdown(timeout=30)


def test_sigkill_while_writing_checkpoints_always_leaves_a_complete_version(tmp_path: Path) -> None:
    path = tmp_path / "latest.pt"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    rng = random.Random(7)
    last_seen = 0
    for _ in range(4):
        proc = subprocess.Popen([sys.executable, str(script), str(path), str(last_seen)], env=_env(),
                                stdout=subprocess.PIPE, text=True)
        first = int(proc.stdout.readline())  # one save completed in this round
        time.sleep(rng.uniform(0.0, 0.4))  # then kill at a random moment, usually mid-write
        proc.send_signal(signal.SIGKILL)
        reported = [first, *map(int, proc.stdout.read().split())]
        proc.wait()
        data = load_checkpoint(path)  # must always load
        step = data["step"]
        # The newest acknowledged save or the one in flight (renamed before its print): never older, never mixed.
        assert reported[-1] <= step <= reported[-1] + 1
        assert torch.equal(data["blob"], torch.full((2_500_000,), float(step)))
        assert step > last_seen  # nothing saved earlier was lost
        last_seen = step
    save_checkpoint(path, {"step": last_seen + 1})
    assert _temps(tmp_path) == []  # temp files of killed writers are cleaned by the next save


def test_sigkill_of_a_real_training_run_then_resume_works() -> None:
    cmd = [sys.executable, "-m", "ganlab", "train", "--img-size", "16", "--g-channels", "8", "--d-channels", "8",
           "--z-dim", "16", "--batch-size", "16", "--max-steps", "100000", "--checkpoint-every", "1",
           "--sample-every", "100000", "--log-every", "1", "--threads", "1", "--precision", "fp32"]
    proc = subprocess.Popen(cmd, env=_env(), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            runs = list_runs()
            if runs and len(runs[0].read_metrics()) >= 5:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the training subprocess never logged 5 steps")
        time.sleep(random.Random(3).uniform(0.0, 0.3))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    run = list_runs()[0]
    assert state_of(run) == "interrupted"  # its process is gone: not shown as running forever
    saved = load_checkpoint(run.latest_checkpoint)["step"]
    logged = max(r["step"] for r in run.read_metrics())
    assert 4 <= saved <= logged  # checkpoint N is written after step N is logged

    trainer = resume_trainer(run, config_overrides={"max_steps": saved + 3})
    assert trainer.step == saved
    trainer.run()
    assert load_checkpoint(run.latest_checkpoint)["step"] == saved + 3
    steps = [r["step"] for r in run.read_metrics() if "loss_d" in r]
    assert steps == list(range(1, saved + 4))  # records logged after the last checkpoint are replaced, not doubled
    assert _temps(run.checkpoints_dir) == []
    assert load_generator(run.latest_checkpoint).step == saved + 3


def test_disk_full_during_checkpoint_fails_the_job_visibly_and_keeps_previous(
        manager: JobManager, monkeypatch: pytest.MonkeyPatch) -> None:
    job = manager.submit(tiny_config(max_steps=100_000, checkpoint_every=3, log_every=1))
    job.wait_for(lambda s: s.step >= 4, timeout=60)
    before = load_checkpoint(job.run.latest_checkpoint)["step"]

    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full_disk)  # every atomic write now fails like a full disk
    snap = job.wait_for(lambda s: not s.active, timeout=60)
    monkeypatch.undo()
    assert snap.state == "failed"
    assert "No space left on device" in snap.error and "disk" in snap.error
    saved = load_checkpoint(job.run.latest_checkpoint)["step"]
    assert saved >= before and snap.step - 3 <= saved <= snap.step and saved % 3 == 0  # the last complete one
    assert _temps(job.run.checkpoints_dir) == []
    # Space is back: the run resumes from its intact checkpoint and the manager still serves.
    resumed = manager.resume(job.run, overrides={"max_steps": snap.step + 2})
    assert resumed.wait_for(lambda s: not s.active, timeout=60).state == "finished"


def test_a_full_disk_reads_the_same_whether_a_checkpoint_or_another_file_failed() -> None:
    from ganlab.runs.checkpoint import CheckpointError
    from ganlab.train.worker import error_message

    raw = OSError(errno.ENOSPC, "No space left on device")
    try:
        raise CheckpointError("could not write checkpoint latest.pt") from raw
    except CheckpointError as wrapped:
        for exc in (raw, wrapped):  # which write hits the full disk first depends on timing
            message = error_message(exc)
            assert message.startswith("the disk is full (No space left on device)") and "resume" in message


def test_nan_losses_in_a_job_end_it_as_diverged_keeping_last_good_checkpoint(
        monkeypatch: pytest.MonkeyPatch) -> None:
    original = Trainer.d_step

    def poisoned(self: Trainer, *args, **kwargs):
        result = original(self, *args, **kwargs)
        if self.step >= 7:  # from iteration 8 on, the discriminator loss is NaN
            self.meter.sums["loss_d"] = self.meter.sums["loss_d"] * float("nan")
        return result

    monkeypatch.setattr(Trainer, "d_step", poisoned)
    job = TrainingJob(tiny_config(max_steps=50, checkpoint_every=3, log_every=1), mode="thread")
    job.start()
    snap = job.wait_for(lambda s: not s.active, timeout=60)
    assert snap.state == "diverged"
    assert snap.error.startswith("diverged at step 8") and "loss_d" in snap.error
    assert "last good checkpoint: step 6" in snap.error
    saved = load_checkpoint(job.run.latest_checkpoint)
    assert saved["step"] == 6
    assert all(torch.isfinite(t).all() for t in saved["G"].values() if t.is_floating_point())
    assert job.join(30) and read_status(job.run)["state"] == "failed" and "diverged" in read_status(job.run)["error"]
    assert all(r["step"] <= 7 for r in snap.history)  # the NaN record never reaches the chart


@pytest.mark.parametrize(
    "error",
    [torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"),
     RuntimeError("[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory"),
     MemoryError()],
    ids=["cuda", "cpu-allocator", "python"],
)
def test_out_of_memory_suggests_smaller_batch_or_image_size(error: BaseException,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    original = Trainer.train_step

    def exhausted(self: Trainer, progress=None) -> None:
        if self.step >= 3:
            raise error
        original(self, progress)

    monkeypatch.setattr(Trainer, "train_step", exhausted)
    job = TrainingJob(tiny_config(**LONG), mode="thread")
    job.start()
    snap = job.wait_for(lambda s: not s.active, timeout=60)
    assert snap.state == "failed" and snap.step == 3
    assert "ran out of memory" in snap.error
    assert "smaller batch size or image size" in snap.error
    assert job.join(30)  # the status file is written just after the snapshot changes
    assert read_status(job.run)["error"] == snap.error


def test_crashing_training_thread_shows_error_and_other_jobs_keep_working(
        manager: JobManager, monkeypatch: pytest.MonkeyPatch) -> None:
    original = Trainer.train_step

    def crashes_for_boom(self: Trainer, progress=None) -> None:
        if self.config.name == "boom" and self.step >= 2:
            raise KeyError("weights")  # an unexpected bug, not a user error
        original(self, progress)

    monkeypatch.setattr(Trainer, "train_step", crashes_for_boom)
    boom = manager.submit(tiny_config(name="boom", **LONG))
    fine = manager.submit(tiny_config(name="fine", max_steps=5))
    snap = boom.wait_for(lambda s: not s.active, timeout=60)
    assert snap.state == "failed" and snap.error == "KeyError: 'weights'"
    assert "Traceback" in snap.error_detail and "crashes_for_boom" in snap.error_detail
    assert boom.join(30) and read_status(boom.run)["state"] == "failed"
    # The queued job starts once the slot frees, and the manager keeps accepting work.
    assert fine.wait_for(lambda s: not s.active, timeout=60).state == "finished"
    third = manager.submit(tiny_config(max_steps=2))
    assert third.wait_for(lambda s: not s.active, timeout=60).state == "finished"
    assert {s.state for s in manager.snapshots()} == {"failed", "finished"}


def test_resume_after_crash_replaces_records_logged_after_the_checkpoint() -> None:
    config = tiny_config(max_steps=6, checkpoint_every=3)
    job = TrainingJob(config, mode="thread")
    job.start()
    job.wait_for(lambda s: not s.active, timeout=60)
    run = job.run
    # What a crash between logging and checkpointing leaves: records past the checkpoint, a cut line.
    run.append_metrics([{"step": 7, "loss_d": 9.0, "loss_g": 9.0}, {"step": 8, "loss_d": 9.0, "loss_g": 9.0}])
    with open(run.metrics_path, "a") as fh:
        fh.write('{"step": 9, "loss_d"')
    resumed = TrainingJob(run=run, overrides={"max_steps": 9}, mode="thread")
    resumed.start()
    snap = resumed.wait_for(lambda s: not s.active, timeout=60)
    assert snap.state == "finished"
    assert [r["step"] for r in snap.history] == list(range(1, 10))
    records = [r for r in run.read_metrics() if "loss_d" in r]
    assert [r["step"] for r in records] == list(range(1, 10))
    assert all(r["loss_d"] != 9.0 for r in records)  # the stale values are gone, not merged


def test_system_exit_inside_training_thread_still_reaches_the_snapshot(manager: JobManager,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def exits(self: Trainer, progress=None) -> None:
        raise SystemExit(3)  # a library calling sys.exit() must not leave a job "running" forever

    monkeypatch.setattr(Trainer, "train_step", exits)
    job = manager.submit(tiny_config(max_steps=5))
    queued = manager.submit(tiny_config(max_steps=5))
    snap = job.wait_for(lambda s: not s.active, timeout=60)
    assert snap.state == "failed" and snap.error == "SystemExit: 3"
    assert queued.wait_for(lambda s: not s.active, timeout=60).state == "failed"  # the slot was released


def test_a_killed_worker_process_ends_the_job_visibly_and_the_run_reads_interrupted() -> None:
    from ganlab.runs import RunState

    job = TrainingJob(tiny_config(max_steps=100_000, checkpoint_every=2, log_every=1), mode="process")
    job.start()
    job.wait_for(lambda s: s.step >= 3 and job.run.latest_checkpoint is not None, timeout=120)
    os.kill(job._runner.proc.pid, signal.SIGKILL)
    snap = job.wait_for(lambda s: not s.active, timeout=60)
    assert snap.state == "failed" and "ended unexpectedly (killed by signal 9)" in snap.error
    assert state_of(job.run) == RunState.INTERRUPTED  # released by its lifecycle owner, no final state written
    resumed = TrainingJob(run=job.run, overrides={"max_steps": load_checkpoint(job.run.latest_checkpoint)["step"] + 2})
    resumed.start()
    assert resumed.wait_for(lambda s: not s.active, timeout=120).state == "finished"
