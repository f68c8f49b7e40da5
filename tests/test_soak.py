"""Soak (slow): a job trained for minutes while a poller reads snapshots keeps flat memory and a steady pace.

Run with `pytest -m slow tests/test_soak.py -s`; GANLAB_SOAK_SECONDS sets the duration (default 600).
"""

from __future__ import annotations

import os
import statistics
import threading
import time

import pytest

from ganlab.runs.checkpoint import load_checkpoint
from ganlab.train.manager import JobManager
from tests.helpers import tiny_config

POLL_S = 0.5  # how often the "browser tab" reads the snapshot (the live panel's fragment period or faster)
MEMORY_SLACK = (0.10, 50 * 1024 * 1024)  # last quarter may exceed the second by 10 % or 50 MB, whichever is larger
RATE_FLOOR = 0.5  # last-quarter step rate must stay above half the second quarter's (the CPU is shared)


def rss_bytes() -> int:
    """Resident set size of this process from /proc (psutil is not a dependency)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("VmRSS not found in /proc/self/status")


def quarter_means(values: list[float]) -> tuple[float, float]:
    """Means of the second and the last quarter of values (the first quarter is warm-up)."""
    q = max(1, len(values) // 4)
    return statistics.fmean(values[q:2 * q]), statistics.fmean(values[-q:])


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads VmRSS from /proc")
def test_long_job_with_snapshot_polling_keeps_memory_flat_and_step_rate_steady() -> None:
    duration = float(os.environ.get("GANLAB_SOAK_SECONDS", "600"))
    interval = min(30.0, duration / 12)  # 30 s samples for the real soak, at least 12 samples for short checks
    manager = JobManager()
    job = manager.submit(tiny_config(max_steps=10**9, log_every=10, sample_every=100, checkpoint_every=500,
                                     keep_checkpoints=2, ema=0.99))
    polls = {"count": 0, "max_history": 0}
    failures: list[BaseException] = []
    done = threading.Event()

    def poll() -> None:  # what the live panel does: read the snapshot, touch the history and the grid
        while not done.is_set():
            try:
                snap = job.snapshot()
                polls["max_history"] = max(polls["max_history"], len(snap.history))
                if snap.grid is not None:
                    int(snap.grid[::8, ::8].sum())
                _ = [r.get("loss_d") for r in snap.history[-200:]]
                polls["count"] += 1
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                failures.append(exc)
                return
            time.sleep(POLL_S)

    poller = threading.Thread(target=poll, daemon=True)
    samples: list[tuple[float, int, int]] = []  # (seconds, rss bytes, step)
    try:
        job.wait_for(lambda s: s.state == "running" and s.step > 0, timeout=120)
        poller.start()
        start = time.monotonic()
        while (elapsed := time.monotonic() - start) < duration:
            samples.append((elapsed, rss_bytes(), job.snapshot().step))
            assert job.snapshot().active, job.snapshot().error
            time.sleep(min(interval, max(0.0, duration - elapsed)))
        samples.append((time.monotonic() - start, rss_bytes(), job.snapshot().step))
    finally:
        done.set()
        manager.shutdown(timeout=60)
    poller.join(10)

    print(f"\n{'t (s)':>8} {'RSS (MB)':>9} {'step':>8} {'steps/s':>8}")
    rates = []
    for (t0, _, s0), (t1, rss, s1) in zip(samples, samples[1:]):
        rates.append((s1 - s0) / max(t1 - t0, 1e-9))
        print(f"{t1:8.1f} {rss / 2**20:9.1f} {s1:8d} {rates[-1]:8.1f}")
    print(f"polls: {polls['count']}, longest history: {polls['max_history']}")

    assert not failures, failures
    assert polls["count"] >= duration / POLL_S * 0.5
    assert polls["max_history"] <= 2000  # the chart history is bounded
    rss = [float(r) for _, r, _ in samples[1:]]
    second, last = quarter_means(rss)
    assert last <= second + max(second * MEMORY_SLACK[0], MEMORY_SLACK[1]), \
        f"memory grew from {second / 2**20:.0f} MB to {last / 2**20:.0f} MB"
    rate_second, rate_last = quarter_means(rates)
    assert rate_last >= RATE_FLOOR * rate_second, f"step rate fell from {rate_second:.1f}/s to {rate_last:.1f}/s"
    final = job.snapshot()
    assert final.state == "stopped" and final.error is None
    assert load_checkpoint(job.run.latest_checkpoint)["step"] == final.step
