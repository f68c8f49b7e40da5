"""BatchNorm re-calibration: running statistics that belong to a generator's current (e.g. averaged) weights."""

from __future__ import annotations

import torch
from torch import nn


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
