"""Shared pytest set-up: an isolated GANLAB_HOME per test session and deterministic torch."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(autouse=True)
def ganlab_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own GANLAB_HOME so runs, caches and data never leak between tests."""
    home = tmp_path_factory.mktemp("ganlab_home")
    monkeypatch.setenv("GANLAB_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def no_worker_outlives_its_test():
    """A job's worker process left running by a test would train on after it (and load the machine): kill it
    and fail the test that leaked it."""
    yield
    from ganlab.train.runner import live_workers

    leaked = live_workers(grace=10.0)
    for runner in leaked:
        runner.kill()
    assert not leaked, f"{len(leaked)} training worker process(es) outlived the test: stop every job it starts"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: long-running test (run with -m slow)")
    config.addinivalue_line("markers", "e2e: real-browser end-to-end test")
    os.environ.setdefault("GANLAB_TEST", "1")


@pytest.fixture
def manager():
    """A fresh JobManager for core tests (no Streamlit imported); every job stopped afterwards."""
    from ganlab.train import JobManager

    m = JobManager()
    yield m
    m.shutdown()
    assert not any(job.snapshot().active for job in m.jobs()), "a training thread outlived its test"


@pytest.fixture
def app_manager():
    """The app-wide JobManager the pages use (ui.jobs.get_manager's cached one), fresh; jobs stopped afterwards."""
    from ui.jobs import get_manager

    get_manager.clear()
    m = get_manager()
    yield m
    m.shutdown()
    assert not any(job.snapshot().active for job in m.jobs()), "a training thread outlived its test"
    get_manager.clear()
