"""Fréchet distance and KID on feature matrices, in float64, with cacheable real-data statistics.

Why not torchmetrics' FrechetInceptionDistance / KernelInceptionDistance at run time (they do work offline
with a custom `feature=` module, and tests/test_metrics.py checks that both give the same numbers as this
file): their classes take images and run the extractor themselves, so FID, KID and class coverage would
need three passes over the same samples, and the trainer's live gauge needs the real statistics frozen
once as plain tensors. Here features are computed once and every metric reads them. The matrix square
root uses the symmetric form sqrt(S1) S2 sqrt(S1) with `eigh` (eigenvalues clamped at 0), which stays real
and stable for the rank-deficient covariances ReLU features produce; torchmetrics takes `eigvals` of the
non-symmetric product S1 S2 instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class FeatureStats:
    """Mean (F,) and covariance (F, F) of a feature set in float64, plus the features kept for KID."""

    mu: Tensor
    sigma: Tensor
    features: Tensor  # (N, F) float64 on the CPU
    count: int
    split: str = ""  # which real images these are, e.g. "fashion-mnist test" (shown with every number)

    @classmethod
    def of(cls, feats: Tensor, split: str = "") -> "FeatureStats":
        f = _check_feats(feats, "features")
        return cls(mu=f.mean(0), sigma=torch.cov(f.T).reshape(f.shape[1], f.shape[1]), features=f, count=f.shape[0],
                   split=split)


def _check_feats(feats: Tensor, what: str) -> Tensor:
    if not isinstance(feats, Tensor) or feats.dim() != 2 or feats.shape[0] < 2:
        shape = tuple(feats.shape) if isinstance(feats, Tensor) else type(feats).__name__
        raise ValueError(f"{what} {shape}: need a (N, F) tensor with at least 2 rows")
    f = feats.detach().to("cpu", torch.float64)
    if not torch.isfinite(f).all():
        raise ValueError(f"{what} contain NaN or inf (did the generator diverge?)")
    return f


def _sqrtm_psd(mat: Tensor) -> Tensor:
    """Square root of a symmetric PSD matrix via eigh; tiny negative eigenvalues from rounding become 0."""
    vals, vecs = torch.linalg.eigh((mat + mat.T) / 2)
    return (vecs * vals.clamp_min(0).sqrt()) @ vecs.T


def frechet_from_stats(mu1: Tensor, sigma1: Tensor, mu2: Tensor, sigma2: Tensor) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)), with Tr (S1 S2)^(1/2) = Tr (sqrt(S1) S2 sqrt(S1))^(1/2)."""
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"feature sizes differ: {tuple(mu1.shape)} vs {tuple(mu2.shape)}")
    mu1, mu2, sigma1, sigma2 = (t.to(torch.float64) for t in (mu1, mu2, sigma1, sigma2))
    root1 = _sqrtm_psd(sigma1)
    inner = root1 @ sigma2 @ root1
    tr_covmean = torch.linalg.eigvalsh((inner + inner.T) / 2).clamp_min(0).sqrt().sum()
    value = (mu1 - mu2).square().sum() + torch.trace(sigma1) + torch.trace(sigma2) - 2 * tr_covmean
    return max(float(value), 0.0)  # exact arithmetic gives >= 0; clamp the last-digit rounding of equal sets


def frechet_distance(feats_a: Tensor, feats_b: Tensor) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (N, F) and (M, F) — FID on any features."""
    a = FeatureStats.of(_check_feats(feats_a, "feats_a"))
    b = FeatureStats.of(_check_feats(feats_b, "feats_b"))
    return frechet_from_stats(a.mu, a.sigma, b.mu, b.sigma)


def _poly_kernel(x: Tensor, y: Tensor) -> Tensor:
    # KID's kernel (Bińkowski et al. 2018): (x.y / d + 1)^3.
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def mmd2_unbiased(x: Tensor, y: Tensor) -> float:
    """Unbiased MMD^2 estimate with the cubic polynomial kernel (can be slightly negative)."""
    m, n = x.shape[0], y.shape[0]
    kxx, kyy, kxy = _poly_kernel(x, x), _poly_kernel(y, y), _poly_kernel(x, y)
    sum_xx = kxx.sum() - kxx.diagonal().sum()  # the i == j terms are what would bias the estimate
    sum_yy = kyy.sum() - kyy.diagonal().sum()
    return float(sum_xx / (m * (m - 1)) + sum_yy / (n * (n - 1)) - 2 * kxy.sum() / (m * n))


def kid(
    feats_a: Tensor, feats_b: Tensor, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Kernel Inception Distance on features: (mean, std) of unbiased MMD^2 over random subsets.

    subset_size is capped at the smaller set. Subsets come from a local generator seeded with `seed`, so the
    value is reproducible and the caller's global RNG (e.g. the trainer's) is not advanced.
    """
    a, b = _check_feats(feats_a, "feats_a"), _check_feats(feats_b, "feats_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sizes differ: {a.shape[1]} vs {b.shape[1]}")
    if not isinstance(subsets, int) or subsets < 1:
        raise ValueError(f"subsets={subsets!r}: give a positive number of subsets")
    if not isinstance(subset_size, int) or subset_size < 2:
        raise ValueError(f"subset_size={subset_size!r}: give a subset size of at least 2")
    size = min(subset_size, a.shape[0], b.shape[0])
    gen = torch.Generator().manual_seed(seed)
    values = torch.tensor(
        [
            mmd2_unbiased(a[torch.randperm(a.shape[0], generator=gen)[:size]], b[torch.randperm(b.shape[0], generator=gen)[:size]])
            for _ in range(subsets)
        ],
        dtype=torch.float64,
    )
    std = float(values.std()) if subsets > 1 else 0.0
    return float(values.mean()), std
