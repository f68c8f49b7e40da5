"""Disturbed copies of real images (Heusel et al. 2017): the test that a metric means what users think it means.

Every function takes uint8 images (N, C, H, W) and returns a new uint8 tensor of the same shape; random ones
draw from a local generator seeded with `seed`, so a disturbance table is reproducible and no caller's RNG moves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


def _check(images: Tensor) -> Tensor:
    if not isinstance(images, Tensor) or images.dtype != torch.uint8 or images.dim() != 4:
        shape = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"images {shape}: expected uint8 (N, C, H, W)")
    return images


def _share(share: float) -> float:
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share={share!r}: give a fraction from 0 to 1")
    return float(share)


def gaussian_noise(images: Tensor, sigma: float, seed: int = 0) -> Tensor:
    """Add N(0, sigma^2) noise, sigma in grey levels (of 255), then round and clip."""
    x = _check(images).float()
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed)) * float(sigma)
    return (x + noise).round().clamp(0, 255).to(torch.uint8)


def box_blur(images: Tensor, k: int) -> Tensor:
    """k x k box filter (odd k), edges replicated so borders are blurred like the interior."""
    if k < 1 or k % 2 == 0:
        raise ValueError(f"k={k!r}: give an odd box size such as 3 or 5")
    x = _check(images).float()
    if k == 1:
        return images.clone()
    padded = F.pad(x, (k // 2,) * 4, mode="replicate")
    return F.avg_pool2d(padded, k, stride=1).round().clamp(0, 255).to(torch.uint8)


def salt_and_pepper(images: Tensor, share: float, seed: int = 0) -> Tensor:
    """Set a `share` of the pixel positions to black or white (half each), the same in every channel."""
    x = _check(images).clone()
    n, _, h, w = x.shape
    gen = torch.Generator().manual_seed(seed)
    hit = torch.rand((n, 1, h, w), generator=gen) < _share(share)
    white = torch.rand((n, 1, h, w), generator=gen) < 0.5
    value = torch.where(white, 255, 0).to(torch.uint8).expand_as(x)
    return torch.where(hit.expand_as(x), value, x)


def replace_share(images: Tensor, share: float, replacement: Tensor, seed: int = 0) -> Tensor:
    """Replace a random `share` of the images by images drawn (cycling) from `replacement` (N', C, H, W)."""
    x = _check(images).clone()
    rep = _check(replacement)
    if rep.shape[1:] != x.shape[1:] or rep.shape[0] < 1:
        raise ValueError(f"replacement {tuple(rep.shape)} must hold images shaped like {tuple(x.shape[1:])}")
    count = int(round(_share(share) * x.shape[0]))
    idx = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed))[:count]
    x[idx] = rep[torch.arange(count) % rep.shape[0]]
    return x


def black_share(images: Tensor, share: float, seed: int = 0) -> Tensor:
    """Replace a random `share` of the images by black ones."""
    return replace_share(images, share, torch.zeros((1, *images.shape[1:]), dtype=torch.uint8), seed)


def rms_damage(original: Tensor, disturbed: Tensor) -> float:
    """Root-mean-square pixel change in grey levels: the 'visual damage' scale on which blur and noise are matched."""
    return float((_check(disturbed).float() - _check(original).float()).square().mean().sqrt())


@dataclass(frozen=True)
class Disturbance:
    """A named family of disturbances with increasing strengths (the row group of a disturbance table)."""

    name: str
    unit: str
    strengths: tuple[float, ...]
    apply: Callable[[Tensor, float], Tensor]


def standard_disturbances(one_class: Tensor | None = None) -> list[Disturbance]:
    """The issue's table: noise sigma 4-32, blur 3 and 5, salt and pepper 1-5%, a share of one class / black.

    one_class: images of a single class to mix in (None for unlabelled data: that row is left out).
    """
    rows = [
        Disturbance("gaussian noise", "sigma (grey levels)", (4, 8, 16, 32), lambda x, s: gaussian_noise(x, s, 1)),
        Disturbance("box blur", "box size (px)", (3, 5), lambda x, s: box_blur(x, int(s))),
        Disturbance("salt and pepper", "share of pixels", (0.01, 0.02, 0.05), lambda x, s: salt_and_pepper(x, s, 2)),
        Disturbance("black images", "share of images", (0.1, 0.25, 0.5), lambda x, s: black_share(x, s, 3)),
    ]
    if one_class is not None:
        rows.append(Disturbance("one class", "share of images", (0.1, 0.25, 0.5),
                                lambda x, s: replace_share(x, s, one_class, 4)))
    return rows
