"""End to end in real Chromium: a 2 x 2 sweep (lr_d x loss) with a minutes budget per run, started on the Train
page, then its view on Runs: four final grids, a quality number per cell, and the winner."""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.test_e2e_app import choose, click_key, open_page, settle, shot, type_into

pytestmark = pytest.mark.e2e
SWEEP_CELLS = ".st-key-runs-sweep_view [data-testid='stImage'] img"


def start_sweep(page, minutes: float) -> None:
    open_page(page, "Train")
    choose(page, "Dataset", "digits")
    choose(page, "Image size (px)", "16")
    for label, value in {"G width (channels)": 16, "D width (channels)": 16, "Batch size": 32,
                         "Sample grid every (steps)": 50, "Quality (FID) every (0 = off)": 50,
                         "Run name (optional)": "e2e-sweep"}.items():
        type_into(page, label, value)
    page.get_by_text("Sweep: train every combination", exact=False).click()
    settle(page)
    choose(page, "Rows: setting", "lr_d")
    type_into(page, "Values (comma-separated)", "1e-4, 4e-4")
    choose(page, "Columns: setting", "loss")
    chosen = page.locator(".st-key-sweep-values-1").inner_text()
    assert "bce" in chosen and "wgan-gp" in chosen, f"the loss values start as the form's and the next: {chosen!r}"
    type_into(page, "Minutes per run", minutes)
    button = page.locator(".st-key-train-start button")
    assert re.search(r"Start sweep \(4 runs\)", button.inner_text()), button.inner_text()
    click_key(page, "train.start")
    page.get_by_text(re.compile(r"Queued sweep \S+: 4 runs")).wait_for(timeout=60_000)


def wait_for_winner(page, timeout_s: float) -> str:
    """Open Runs and wait until every cell of the newest sweep shows a grid and the sweep names its winner."""
    open_page(page, "Runs")
    deadline = time.monotonic() + timeout_s
    view = page.locator(".st-key-runs-sweep_view")
    while True:
        text = view.inner_text() if view.count() else ""
        done = len(re.findall(r"· finished", text))
        if re.search(r"^Winner: ", text, re.M) and done >= 4:
            break
        assert time.monotonic() < deadline, f"no winner after {timeout_s:.0f} s ({done} of 4 runs finished)"
        page.wait_for_timeout(2000)  # the sweep view redraws itself every few seconds while its runs train
    assert page.locator(SWEEP_CELLS).count() == 4, "one final grid per cell"
    return next(line for line in text.splitlines() if line.startswith("Winner: "))


def check_sweep(page, minutes: float) -> None:
    start_sweep(page, minutes)
    text = wait_for_winner(page, timeout_s=4 * (60 * minutes + 90))
    assert re.search(r"Winner: lr_d=0\.000[14] · loss=\S+", text), text
    cells = page.locator(".st-key-runs-sweep_view").inner_text()
    assert cells.count("FD ") + cells.count("FID ") >= 4, cells  # a number per cell
    assert "winner" in cells
    page.locator(".st-key-runs-sweep_view").first.evaluate("el => el.scrollIntoView({block: 'start'})")
    shot(page, "sweep")


def test_sweep_of_four_runs_from_the_train_page_shows_four_grids_and_a_winner(page) -> None:
    check_sweep(page, minutes=0.1)  # six seconds of training per run: the minutes path, at test speed


@pytest.mark.slow
def test_sweep_of_four_one_minute_runs_shows_four_grids_and_a_winner(page) -> None:
    check_sweep(page, minutes=1.0)
