"""Optimiser construction: Adam with the fastest implementation the device supports."""

from __future__ import annotations

from collections.abc import Iterable

import torch


def make_adam(params: Iterable[torch.nn.Parameter], lr: float, betas: tuple[float, float],
              device: torch.device) -> torch.optim.Adam:
    """Adam, fused where available (one kernel for all parameters), else foreach."""
    params = list(params)
    if device.type in ("cuda", "cpu"):
        try:
            return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
        except (RuntimeError, TypeError, ValueError):
            pass  # older torch without fused Adam on this device
    return torch.optim.Adam(params, lr=lr, betas=betas, foreach=True)
