"""ui/charts.py: smoothing, downsampling and the figures' traces (pure functions, no Streamlit run)."""

from __future__ import annotations

import math

import pytest

from ui.charts import downsample_points, ema, loss_figure, quality_figure, scores_figure, series


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


def test_scores_figure_uses_probabilities_for_bce() -> None:
    fig = scores_figure(bce_history())
    assert [t.name for t in fig.data] == ["D(x)", "D(G(z))"]
    assert tuple(fig.layout.yaxis.range) == (0, 1.02)


def test_scores_figure_shows_critic_scores_and_penalty_for_wgan_gp() -> None:
    history = [{"step": i, "critic_real": 1.0, "critic_fake": -1.0, "wasserstein": 2.0, "gp": 0.1}
               for i in range(10)]
    fig = scores_figure(history)
    assert [t.name for t in fig.data] == ["critic(x)", "critic(G(z))", "Wasserstein estimate", "gradient penalty"]
    assert fig.data[-1].yaxis == "y2"


def test_quality_figure_plots_only_records_with_the_metric() -> None:
    fig = quality_figure([{"step": 1, "fid": 90.0}, {"step": 2}, {"step": 3, "fid": 60.0}])
    assert list(fig.data[0].x) == [1, 3]
