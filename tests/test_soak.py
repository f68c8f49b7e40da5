"""Soak (slow): a job trained for minutes while the real pages poll it keeps flat memory and a steady pace.

The "browser tab" is the app's own code: the Train page (its live panel) and the Runs page are rendered again
and again through AppTest, as the fragments' timers would. Memory is measured for the app's process and for
the job's worker process. Run with `pytest -m slow tests/test_soak.py -s`; GANLAB_SOAK_SECONDS sets the
duration (default 600).
"""

from __future__ import annotations

import os
import statistics
import time

import pytest

from ganlab.runs.checkpoint import load_checkpoint
from tests.helpers import open_page, tiny_config

POLL_S = 0.5  # how often the "browser tab" reads the snapshot (the live panel's fragment period or faster)
MEMORY_SLACK = (0.10, 50 * 1024 * 1024)  # last quarter may exceed the second by 10 % or 50 MB, whichever is larger
RATE_FLOOR = 0.5  # last-quarter step rate must stay above half the second quarter's (the CPU is shared)


def rss_bytes(pid: int | str = "self") -> int:
    """Resident set size of a process from /proc (psutil is not a dependency)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
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
def test_long_job_watched_by_the_real_pages_keeps_memory_flat_and_step_rate_steady(app_manager, monkeypatch) -> None:
    from streamlit import config

    # As the app runs (.streamlit/config.toml): no full gc.collect after each script run, so memory must stay flat
    # on Python's own collector.
    monkeypatch.setattr(config, "get_option", lambda key, _get=config.get_option: False
                        if key == "runner.postScriptGC" else _get(key))
    duration = float(os.environ.get("GANLAB_SOAK_SECONDS", "600"))
    interval = min(30.0, duration / 12)  # 30 s samples for the real soak, at least 12 samples for short checks
    job = app_manager.submit(tiny_config(max_steps=10**9, log_every=10, sample_every=100, checkpoint_every=500,
                                         keep_checkpoints=2, ema=0.99))
    polls = {"train": 0, "runs": 0, "max_history": 0}
    samples: list[tuple[float, int, int, int]] = []  # (seconds, app rss, worker rss, step)
    try:
        job.wait_for(lambda s: s.state == "running" and s.step > 0, timeout=120)
        worker = job._runner.proc.pid
        train, runs = open_page("pages/1_Train.py", 120).run(), open_page("pages/2_Runs.py", 120).run()
        start = last_sample = time.monotonic()
        samples.append((0.0, rss_bytes(), rss_bytes(worker), job.snapshot().step))
        while (elapsed := time.monotonic() - start) < duration:
            train.run()  # the live panel's fragment body, charts and grids included
            assert not train.exception, train.exception
            polls["train"] += 1
            if polls["train"] % 5 == 0:
                runs.run()  # the runs table reads every run's metrics through the incremental reader
                assert not runs.exception, runs.exception
                polls["runs"] += 1
            polls["max_history"] = max(polls["max_history"], len(job.snapshot().history))
            assert job.snapshot().active, job.snapshot().error
            if time.monotonic() - last_sample >= interval:
                last_sample = time.monotonic()
                samples.append((elapsed, rss_bytes(), rss_bytes(worker), job.snapshot().step))
            time.sleep(POLL_S)
        samples.append((time.monotonic() - start, rss_bytes(), rss_bytes(worker), job.snapshot().step))
    finally:
        app_manager.shutdown(timeout=60)

    print(f"\n{'t (s)':>8} {'app MB':>8} {'worker MB':>10} {'step':>8} {'steps/s':>8}")
    rates = []
    for (t0, _, _, s0), (t1, app, work, s1) in zip(samples, samples[1:]):
        rates.append((s1 - s0) / max(t1 - t0, 1e-9))
        print(f"{t1:8.1f} {app / 2**20:8.1f} {work / 2**20:10.1f} {s1:8d} {rates[-1]:8.1f}")
    print(f"page runs: Train {polls['train']}, Runs {polls['runs']}; longest history: {polls['max_history']}")

    assert polls["train"] >= duration / POLL_S * 0.2
    assert polls["max_history"] <= 2000  # the chart history is bounded
    for column, what in ((1, "the app"), (2, "the worker")):
        rss = [float(sample[column]) for sample in samples[1:]]
        second, last = quarter_means(rss)
        assert last <= second + max(second * MEMORY_SLACK[0], MEMORY_SLACK[1]), \
            f"memory of {what} grew from {second / 2**20:.0f} MB to {last / 2**20:.0f} MB"
    rate_second, rate_last = quarter_means(rates)
    assert rate_last >= RATE_FLOOR * rate_second, f"step rate fell from {rate_second:.1f}/s to {rate_last:.1f}/s"
    final = job.snapshot()
    assert final.state == "stopped" and final.error is None
    assert load_checkpoint(job.run.latest_checkpoint)["step"] == final.step
