"""Exponential moving average of G (see ganlab.nets.calibrate for the BatchNorm statistics it needs)."""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, decay: float, updates: int) -> None:
    """ema <- decay_t * ema + (1 - decay_t) * model, with a warm-up so early averages do not lag far behind.

    decay_t = min(decay, (1 + updates) / (10 + updates)): a short run averages over its recent steps
    instead of over its random initialisation.
    """
    decay_t = min(decay, (1 + updates) / (10 + updates))
    torch._foreach_lerp_(list(ema.parameters()), [p.detach() for p in model.parameters()], 1.0 - decay_t)
    for b_ema, b in zip(ema.buffers(), model.buffers()):
        b_ema.copy_(b)
