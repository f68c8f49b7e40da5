"""Exponential moving average of G, and BatchNorm re-calibration so averaged weights sample correctly."""

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


@torch.no_grad()
def recalibrate_batchnorm(generator: nn.Module, *, batches: int = 8, batch_size: int = 64, seed: int = 0,
                          autocast: torch.autocast | None = None) -> None:
    """Recompute BatchNorm running statistics of a generator from its own samples.

    Averaged (EMA) weights do not match running statistics collected with the live weights, which
    makes eval-mode samples washed out; a few forward passes in train mode with cumulative averaging
    give statistics that belong to the averaged weights. Uses a local RNG (training RNG untouched).
    """
    norms = [m for m in generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    device = next(generator.parameters()).device
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average over the calibration batches
    was_training = generator.training
    generator.train()
    rng = torch.Generator(device=device).manual_seed(seed)
    classes = int(getattr(generator, "num_classes", 0) or 0)
    for _ in range(batches):
        z = torch.randn(batch_size, int(generator.z_dim), generator=rng, device=device)
        labels = torch.randint(0, classes, (batch_size,), generator=rng, device=device) if classes else None
        if autocast is not None:
            with autocast:
                generator(z, labels)
        else:
            generator(z, labels)
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    generator.train(was_training)
