"""One job per GPU, without a GPU: the CUDA device count is faked and the worker's trainer records the device the
queue pinned, then trains on the CPU. N jobs train at once, the (N+1)-th waits; the CPU keeps one job at a time."""

from __future__ import annotations

from typing import Any

import pytest

import ganlab.device
import ganlab.train.resume
import ganlab.train.worker
from ganlab.config import ConfigError
from ganlab.device import available_devices, check_available, pick_device
from ganlab.train import JobManager, Trainer
from tests.helpers import tiny_config

LONG = dict(max_steps=100_000, checkpoint_every=100_000, sample_every=100_000, log_every=1)


@pytest.fixture
def fake_gpus(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Two fake GPUs; returns the devices the workers' trainers were asked to use, in order."""
    monkeypatch.setattr(ganlab.device, "cuda_device_count", lambda: 2)
    asked: list[str | None] = []

    class RecordingTrainer(Trainer):
        def __init__(self, *args: Any, device: str | None = None, **kwargs: Any) -> None:
            asked.append(device)
            super().__init__(*args, device="cpu", **kwargs)  # no GPU here: train on the CPU

    monkeypatch.setattr(ganlab.train.worker, "Trainer", RecordingTrainer)  # new runs
    monkeypatch.setattr(ganlab.train.resume, "Trainer", RecordingTrainer)  # resumed runs
    return asked


@pytest.fixture
def gpu_manager(fake_gpus: list[str | None]):
    manager = JobManager(mode="thread")  # thread mode: the patched trainer is the one that runs
    yield manager
    manager.shutdown()
    assert not manager.active()


def _training(job: Any, steps: int = 2) -> Any:
    return job.wait_for(lambda s: s.state == "running" and s.step >= steps, timeout=120)


def test_pick_device_gives_each_job_a_free_gpu_and_one_the_cpu(fake_gpus: list[str | None]) -> None:
    assert available_devices() == ["cuda", "cuda:0", "cuda:1", "cpu"]
    assert pick_device("cuda", set()) == "cuda:0"
    assert pick_device("cuda", {"cuda:0"}) == "cuda:1"
    assert pick_device("auto", {"cuda:0", "cuda:1"}) is None  # auto waits for a GPU rather than crawl on the CPU
    assert pick_device("cuda:1", {"cuda:1"}) is None and pick_device("cuda:1", {"cuda:0"}) == "cuda:1"
    assert pick_device("cpu", {"cuda:0", "cuda:1"}) == "cpu"
    assert pick_device("cpu", {"cpu"}) is None


def test_n_gpus_train_n_jobs_at_once_each_pinned_and_the_next_waits(gpu_manager: JobManager,
                                                                     fake_gpus: list[str | None]) -> None:
    first, second, third = (gpu_manager.submit(tiny_config(device="cuda", **LONG)) for _ in range(3))
    a, b = _training(first), _training(second)
    assert {a.device, b.device} == {"cuda:0", "cuda:1"}
    assert sorted(fake_gpus) == ["cuda:0", "cuda:1"]  # each worker was told its own GPU
    assert third.snapshot().state == "queued" and gpu_manager.queue_position(third.job_id) == 1
    # Both train at once: each moves on while the other is running.
    a_step, b_step = first.snapshot().step, second.snapshot().step
    first.wait_for(lambda s: s.step > a_step + 2, timeout=120)
    second.wait_for(lambda s: s.step > b_step + 2, timeout=120)
    assert first.snapshot().state == second.snapshot().state == "running"

    freed = first.snapshot().device
    gpu_manager.stop(first.job_id)
    assert _training(third).device == freed  # the waiting job starts by itself on the GPU that freed
    assert fake_gpus[-1] == freed and gpu_manager.busy_devices() == {"cuda:0", "cuda:1"}


def test_a_job_pinned_to_a_busy_gpu_waits_while_others_pass_it(gpu_manager: JobManager) -> None:
    on_one = gpu_manager.submit(tiny_config(device="cuda:1", **LONG))
    also_one = gpu_manager.submit(tiny_config(device="cuda:1", **LONG))
    any_gpu = gpu_manager.submit(tiny_config(device="cuda", **LONG))
    assert _training(on_one).device == "cuda:1"
    assert _training(any_gpu).device == "cuda:0"  # queued behind also_one, but its GPU was free
    assert also_one.snapshot().state == "queued"
    gpu_manager.stop(on_one.job_id)
    assert _training(also_one).device == "cuda:1"


def test_cpu_jobs_stay_one_at_a_time_beside_gpu_jobs(gpu_manager: JobManager) -> None:
    cpu_a = gpu_manager.submit(tiny_config(device="cpu", **LONG))
    cpu_b = gpu_manager.submit(tiny_config(device="cpu", **LONG))
    gpu = gpu_manager.submit(tiny_config(device="cuda", **LONG))
    assert _training(cpu_a).device == "cpu" and _training(gpu).device == "cuda:0"
    assert cpu_b.snapshot().state == "queued"
    gpu_manager.stop(cpu_a.job_id)
    assert _training(cpu_b).device == "cpu"


def test_a_resumed_job_is_pinned_too(gpu_manager: JobManager, fake_gpus: list[str | None]) -> None:
    job = gpu_manager.submit(tiny_config(device="cuda:1", max_steps=3))
    assert job.wait_for(lambda s: not s.active, timeout=120).state == "finished"
    resumed = gpu_manager.resume(job.run, {"max_steps": 5})
    snap = resumed.wait_for(lambda s: not s.active, timeout=120)
    assert snap.state == "finished" and snap.device == "cuda:1" and snap.step == 5 and fake_gpus == ["cuda:1", "cuda:1"]


def test_a_device_this_machine_lacks_is_refused_before_a_run_is_made(gpu_manager: JobManager,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"device='cuda:2' is not available.*cuda, cuda:0, cuda:1, cpu"):
        gpu_manager.submit(tiny_config(device="cuda:2"))
    monkeypatch.setattr(ganlab.device, "cuda_device_count", lambda: 0)
    with pytest.raises(ConfigError, match="device='cuda' is not available"):
        check_available("cuda")
    assert gpu_manager.jobs() == []
