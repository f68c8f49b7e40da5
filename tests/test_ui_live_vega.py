"""The live panel's Vega-Lite curves: tables in the order of their metrics, specs that do not depend on the data
(so a refresh only swaps the data in the browser), log axes that cannot receive values <= 0."""

from __future__ import annotations

import json

import pytest

from ui.live_vega import curve_table, loss_spec, quality_spec, score_keys, scores_spec

BCE = [{"step": s, "loss_d": 1.0 - s / 100, "loss_g": 2.0, "d_real": 0.8, "d_fake": 0.2} for s in range(0, 100, 10)]
WGAN = [{"step": s, "loss_d": -3.0 + s / 100, "loss_g": 1.0, "critic_real": 2.0, "critic_fake": -1.0,
         "wasserstein": 3.0, "gp": 0.1} for s in range(0, 100, 10)]


def test_curve_table_is_long_form_in_the_order_of_the_metrics_and_downsampled_per_metric() -> None:
    table = curve_table(BCE * 1, ("loss_d", "loss_g"), max_points=4)
    assert list(table.columns) == ["step", "value", "series"]
    assert list(table["series"].unique()) == ["D loss", "G loss"]
    d = table[table["series"] == "D loss"]
    assert len(d) <= 4 and d["step"].iloc[-1] == 90  # the newest point is always kept
    assert curve_table(BCE, ("ada_p",)).empty  # a metric the run does not log gives no rows


def test_smoothing_and_magnitudes_change_values_not_steps() -> None:
    raw = curve_table(WGAN, ("loss_d",))
    smooth = curve_table(WGAN, ("loss_d",), smoothing=0.9)
    assert list(raw["step"]) == list(smooth["step"]) and list(raw["value"]) != list(smooth["value"])
    assert (curve_table(WGAN, ("loss_d",), magnitudes=True)["value"] > 0).all()


@pytest.mark.parametrize("history", [BCE, WGAN], ids=["bce", "wgan-gp"])
def test_specs_do_not_depend_on_the_data_so_a_refresh_only_swaps_the_table(history) -> None:
    longer = history + [{**history[-1], "step": 1000}]
    assert json.dumps(scores_spec(score_keys(history))) == json.dumps(scores_spec(score_keys(longer)))
    assert json.dumps(loss_spec()) == json.dumps(loss_spec())
    assert "data" not in loss_spec() and "values" not in json.dumps(loss_spec())


def test_scores_are_probabilities_with_the_half_line_or_critic_scores_with_the_penalty_on_its_own_axis() -> None:
    assert score_keys(BCE) == ("d_real", "d_fake")
    bce = scores_spec(score_keys(BCE))
    assert bce["layer"][0]["encoding"]["y"]["scale"]["domain"] == [0, 1.02]
    assert bce["layer"][1]["mark"]["type"] == "rule" and bce["layer"][1]["data"]["values"] == [{"y": 0.5}]
    keys = score_keys(WGAN)
    assert keys == ("critic_real", "critic_fake", "wasserstein", "gp")
    wgan = scores_spec(keys)
    assert wgan["resolve"] == {"scale": {"y": "independent"}}
    assert "gradient penalty" not in wgan["layer"][0]["encoding"]["color"]["scale"]["domain"]
    assert wgan["layer"][1]["encoding"]["y"]["title"] == "gradient penalty"
    assert set(curve_table(WGAN, keys)["series"]) == {"critic(x)", "critic(G(z))", "Wasserstein estimate",
                                                     "gradient penalty"}


def test_a_log_axis_says_when_it_shows_magnitudes() -> None:
    assert loss_spec(log_y=True)["layer"][0]["encoding"]["y"]["scale"] == {"type": "log"}
    assert loss_spec(log_y=True, magnitudes=True)["layer"][0]["encoding"]["y"]["title"] == "|loss| (log)"
    assert loss_spec()["layer"][0]["encoding"]["y"]["scale"] == {"zero": False}


def test_quality_curve_keeps_only_records_with_the_metric_and_names_it_on_the_axis() -> None:
    table = curve_table([{"step": 1, "fid": 90.0}, {"step": 2, "loss_d": 1.0}, {"step": 3, "fid": 60.0}], ("fid",))
    assert table["step"].tolist() == [1, 3] and table["value"].tolist() == [90.0, 60.0]
    spec = quality_spec("FD")
    assert spec["layer"][0]["encoding"]["y"]["title"] == "FD (lower is better)"
    assert spec["layer"][0]["mark"]["point"] is True
