"""Exponential moving average of G (see ganlab.nets.calibrate for the BatchNorm statistics it needs)."""

from __future__ import annotations

import math

import torch
from torch import nn


def ema_decay(decay: float, updates: int, rampup: float = 0.0) -> float:
    """The decay used at G update number `updates` (1-based) for a nominal `decay`.

    rampup = 0: decay_t = min(decay, (1 + updates) / (10 + updates)), a short run averages over its recent
    steps instead of over its random initialisation (the window is then about 8% of the steps so far).
    rampup > 0 (StyleGAN's ema_rampup): the half-life of the average is at most `rampup` times the G updates
    so far, decay_t = min(decay, 0.5 ** (1 / (rampup * updates))); early samples follow G closely, later ones
    average over the nominal window (0.999: a half-life of 693 updates).
    """
    if rampup <= 0:
        return min(decay, (1 + updates) / (10 + updates))
    half_life = rampup * max(updates, 1)
    return min(decay, math.pow(0.5, 1.0 / half_life))


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float, updates: int, rampup: float = 0.0) -> None:
    """ema <- decay_t * ema + (1 - decay_t) * model, with decay_t = ema_decay(decay, updates, rampup)."""
    decay_t = ema_decay(decay, updates, rampup)
    torch._foreach_lerp_(list(ema.parameters()), [p.detach() for p in model.parameters()], 1.0 - decay_t)
    for b_ema, b in zip(ema.buffers(), model.buffers()):
        b_ema.copy_(b)
