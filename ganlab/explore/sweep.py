"""Walking one direction at a time: rows are latent dimensions (or PCA directions), columns step from -k to +k σ.

The DCGAN-tensorflow "visualize" mode, and the strips that label the Explore page's PCA sliders.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from PIL import Image

from ganlab import media
from ganlab.explore.generator import Labels, LoadedGenerator

MAX_ROWS, MAX_STEPS = 64, 21


def sweep_latents(z: torch.Tensor, directions: torch.Tensor, stds: torch.Tensor, steps: int,
                  k: float) -> torch.Tensor:
    """(rows * steps, z_dim): z moved along each unit direction (rows, z_dim) by -k..+k of its σ (rows,)."""
    if z.dim() != 1 or directions.dim() != 2 or directions.shape[1] != z.shape[0]:
        raise ValueError(f"z {tuple(z.shape)} and directions {tuple(directions.shape)} do not fit together")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 2 <= steps <= MAX_STEPS:
        raise ValueError(f"steps={steps!r}: choose 2 to {MAX_STEPS} columns")
    if not 0 < float(k) <= 10:
        raise ValueError(f"k={k!r}: give how many σ the walk reaches each way, above 0 and at most 10")
    sigmas = torch.linspace(-float(k), float(k), steps)  # (steps,)
    moves = (stds.float().cpu()[:, None, None] * sigmas[None, :, None]) * directions.float().cpu()[:, None, :]
    return (z.float().cpu()[None, None, :] + moves).reshape(-1, z.shape[0])  # (rows, steps, z_dim) flattened


def unit_directions(dims: Sequence[int], z_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The axes of the given latent dimensions as directions (rows, z_dim), with σ 1 (z is standard normal)."""
    if not dims or len(dims) > MAX_ROWS:
        raise ValueError(f"{len(dims)} dimensions: give 1 to {MAX_ROWS}")
    bad = [d for d in dims if not 0 <= d < z_dim]
    if bad:
        raise ValueError(f"dimension {bad[0]} does not exist: this generator's z has dimensions 0 to {z_dim - 1}")
    return torch.eye(z_dim)[list(dims)], torch.ones(len(dims))


def sweep_grid(loaded: LoadedGenerator, z: torch.Tensor, directions: torch.Tensor, stds: torch.Tensor, *,
               steps: int = 9, k: float = 2.0, labels: Labels = None) -> Image.Image:
    """One grid image: a row per direction, `steps` columns from -k σ to +k σ around z."""
    latents = sweep_latents(z, directions, stds, steps, k)
    label = labels if isinstance(labels, int) or labels is None else None
    images = loaded.generate(latents, loaded.labels_for(len(latents), label if label is not None else 0))
    return media.make_grid_image(images, nrow=steps)
