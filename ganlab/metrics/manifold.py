"""Fidelity and diversity as separate numbers: k-NN precision/recall (Kynkäänniemi et al. 2019) and
density/coverage (Naeem et al. 2020) on feature sets.

Precision: share of fakes inside the real manifold (union of k-NN balls around real samples). Recall: share of
reals inside the fake manifold. Density: how many real balls a fake falls in, over k (about 1 for a good G,
robust to real outliers). Coverage ("knn_coverage", to keep it apart from the classifier's class shares): share
of reals whose ball holds at least one fake (robust to fake outliers). FD/KID mix both aspects into one number;
these four say which one is missing.
"""

from __future__ import annotations

import torch
from torch import Tensor

DEFAULT_K = 5  # both papers' recommendation for a few thousand samples
_CHUNK = 1024  # rows of a distance matrix held at once: memory stays ~chunk x M doubles


def _distances(a: Tensor, b: Tensor, b_sq: Tensor) -> Tensor:
    """Euclidean distances (len(a), len(b)) in float64, given b's squared norms."""
    d2 = a.square().sum(1, keepdim=True) + b_sq[None, :] - 2.0 * a @ b.T
    return d2.clamp_min(0).sqrt()


def knn_radii(feats: Tensor, k: int = DEFAULT_K) -> Tensor:
    """Distance from each sample (N, F) to its k-th nearest other sample (N,)."""
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k < feats.shape[0]:
        raise ValueError(f"k={k!r}: give a neighbour count from 1 to {feats.shape[0] - 1} (one less than the samples)")
    f = feats.to(torch.float64)
    f_sq = f.square().sum(1)
    out = []
    for i in range(0, f.shape[0], _CHUNK):
        d = _distances(f[i : i + _CHUNK], f, f_sq)
        # The k+1 smallest include the sample itself (distance 0); the last of them is the k-th neighbour.
        out.append(d.topk(k + 1, dim=1, largest=False).values[:, k])
    return torch.cat(out)


def manifold_scores(real: Tensor, fake: Tensor, k: int = DEFAULT_K) -> dict[str, float]:
    """{"precision", "recall", "density", "knn_coverage"} of fake features (M, F) against real features (N, F).

    Use about as many reals as fakes: recall and coverage read the k-NN radii of each set, which grow as a set
    shrinks.
    """
    if real.dim() != 2 or fake.dim() != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"feature shapes {tuple(real.shape)} and {tuple(fake.shape)}: need (N, F) and (M, F)")
    r, f = real.to(torch.float64), fake.to(torch.float64)
    r_real, r_fake = knn_radii(r, k), knn_radii(f, k)
    f_sq = f.square().sum(1)
    fake_inside = torch.zeros(f.shape[0], dtype=torch.bool)  # fake j lies in some real ball
    balls_per_fake = torch.zeros(f.shape[0], dtype=torch.float64)
    real_covered = []  # real i's ball holds a fake
    real_recalled = []  # real i lies in some fake ball
    for i in range(0, r.shape[0], _CHUNK):
        d = _distances(r[i : i + _CHUNK], f, f_sq)  # (chunk, M)
        inside = d <= r_real[i : i + _CHUNK, None]
        fake_inside |= inside.any(dim=0)
        balls_per_fake += inside.sum(dim=0)
        real_covered.append(d.min(dim=1).values < r_real[i : i + _CHUNK])
        real_recalled.append((d <= r_fake[None, :]).any(dim=1))
    return {
        "precision": float(fake_inside.double().mean()),
        "recall": float(torch.cat(real_recalled).double().mean()),
        "density": float(balls_per_fake.sum() / (k * f.shape[0])),
        "knn_coverage": float(torch.cat(real_covered).double().mean()),
    }
