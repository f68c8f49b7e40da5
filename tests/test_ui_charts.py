"""ui/charts.py: smoothing, downsampling and the figures' traces (pure functions, no Streamlit run)."""

from __future__ import annotations

import math

import pytest

from ui.charts import downsample_points, ema, loss_figure, series


def bce_history(n: int = 50) -> list[dict]:
    return [{"step": i * 10, "loss_d": 1.0 + 0.01 * i, "loss_g": 2.0 - 0.01 * i, "d_real": 0.7, "d_fake": 0.3}
            for i in range(n)]


def test_ema_of_constant_is_constant_from_the_first_point() -> None:
    assert ema([3.0] * 20, 0.9) == pytest.approx([3.0] * 20)


def test_ema_zero_smoothing_returns_input() -> None:
    assert ema([1, 5, 2], 0.0) == [1.0, 5.0, 2.0]


def test_ema_rejects_smoothing_of_one() -> None:
    with pytest.raises(ValueError, match="smoothing=1.0"):
        ema([1.0], 1.0)


def test_downsample_keeps_at_most_max_points_and_the_last_point() -> None:
    xs = list(range(10_001))
    dx, dy = downsample_points(xs, xs, 1500)
    assert len(dx) <= 1500
    assert dx[0] == 0 and dx[-1] == 10_000 and dy == dx


def test_series_skips_missing_and_nonfinite_values_and_merges_repeated_steps() -> None:
    history = [{"step": 0, "a": 1.0}, {"step": 1}, {"step": 2, "a": math.nan}, {"step": 3, "a": 4.0},
               {"step": 3, "a": 5.0}]
    assert series(history, "a") == ([0, 3], [1.0, 5.0])


def test_loss_figure_overlays_every_run_and_key() -> None:
    fig = loss_figure({"run-a": bce_history(), "run-b": bce_history(20)})
    assert [t.name for t in fig.data] == ["run-a · D loss", "run-a · G loss", "run-b · D loss", "run-b · G loss"]
    assert list(fig.data[2].x) == [i * 10 for i in range(20)]
    assert fig.layout.uirevision, "uirevision keeps zoom across refreshes"


def test_loss_figure_skips_runs_without_the_key() -> None:
    fig = loss_figure({"run": [{"step": 1, "loss_d": 0.5}]})
    assert [t.name for t in fig.data] == ["D loss"]


def test_loss_figure_downsamples_long_histories() -> None:
    fig = loss_figure({"run": bce_history(5000)}, max_points=300)
    assert all(len(t.x) <= 300 for t in fig.data)


def test_loss_figure_log_scale_plots_magnitudes_of_negative_losses() -> None:
    history = [{"step": i, "loss_d": -2.0 - i, "loss_g": 1.0} for i in range(5)]
    fig = loss_figure({"run": history}, log_y=True)
    assert fig.layout.yaxis.type == "log"
    assert min(fig.data[0].y) > 0
    assert "|" in fig.layout.yaxis.title.text


