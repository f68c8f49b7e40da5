"""EMA of G: the fixed warm-up, StyleGAN's ramp-up (the window grows with the updates so far), and the update itself."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ganlab.config import ConfigError, TrainConfig
from ganlab.train.ema import ema_decay, update_ema


def half_life(decay: float) -> float:
    """Updates after which an old weight's share of the average has halved."""
    return math.log(0.5) / math.log(decay)


def test_without_rampup_the_decay_is_the_fixed_warm_up_capped_at_the_nominal_decay() -> None:
    assert ema_decay(0.999, 1) == pytest.approx(2 / 11)
    assert ema_decay(0.999, 100) == pytest.approx(101 / 110)
    assert ema_decay(0.999, 10**6) == 0.999


@pytest.mark.parametrize("updates", [1, 10, 100, 1000, 5000])
def test_rampup_half_life_is_that_share_of_the_updates_so_far(updates: int) -> None:
    assert half_life(ema_decay(0.9999, updates, rampup=0.05)) == pytest.approx(0.05 * updates, rel=1e-6)


def test_rampup_reaches_the_nominal_decay_and_never_exceeds_it() -> None:
    decays = [ema_decay(0.999, n, rampup=0.05) for n in range(1, 50_000, 97)]
    assert all(a <= b for a, b in zip(decays, decays[1:]))  # the window only grows
    assert max(decays) == 0.999 and decays[-1] == 0.999
    # 0.999 has a half-life of 693 updates: reached at 693 / 0.05 = 13,863 updates.
    assert ema_decay(0.999, 13_000, rampup=0.05) < 0.999 == ema_decay(0.999, 14_000, rampup=0.05)


def test_early_rampup_average_follows_the_model_closely() -> None:
    torch.manual_seed(0)
    model, average = nn.Linear(4, 4), nn.Linear(4, 4)
    for n in range(1, 201):  # the model drifts steadily; a stale average would lag far behind
        with torch.no_grad():
            model.weight.add_(0.01)
        update_ema(average, model, 0.999, n, rampup=0.05)
    lag = (model.weight - average.weight).abs().mean().item()
    assert lag < 0.01 * 0.05 * 200 * 2  # about one half-life (10 updates) of drift behind, not hundreds


def test_ema_rampup_is_validated_and_defaults_to_off() -> None:
    assert TrainConfig().ema_rampup >= 0
    assert TrainConfig.from_dict({"ema": 0.999}).ema_rampup == TrainConfig().ema_rampup  # old configs still load
    with pytest.raises(ConfigError, match="ema_rampup=2.0"):
        TrainConfig(ema_rampup=2.0)
