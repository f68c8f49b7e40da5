"""Scoring generators: features of generated vs real images -> FD, KID, precision/recall, density/coverage and
class shares, in one dict that names the extractor and the sample counts."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn

from ganlab.device import one_thread
from ganlab.metrics.extractors import FeatureExtractor, as_float_images
from ganlab.metrics.manifold import DEFAULT_K, manifold_scores
from ganlab.metrics.stats import FeatureStats, frechet_from_stats, kid

LabelSpec = Tensor | int | None
MAX_MANIFOLD = 5000  # precision/recall/density/coverage use at most this many samples of each set


def _device_of(module: nn.Module) -> torch.device:
    tensor = next(module.parameters(), None)
    if tensor is None:
        tensor = next(module.buffers(), None)
    return tensor.device if tensor is not None else torch.device("cpu")


@contextlib.contextmanager
def _eval_mode(module: nn.Module) -> Iterator[None]:
    """Eval mode (BatchNorm running stats, as when sampling) for the block, then the previous mode back."""
    was_training = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(was_training)


@contextlib.contextmanager
def pinned_kernels() -> Iterator[None]:
    """No TF32 and no autotuned/nondeterministic cuDNN kernels: features must not depend on the GPU's mood."""
    matmul = torch.backends.cuda.matmul
    old_tf32 = matmul.allow_tf32
    matmul.allow_tf32 = False
    try:
        with torch.backends.cudnn.flags(enabled=torch.backends.cudnn.enabled, benchmark=False, deterministic=True,
                                        allow_tf32=False):
            yield
    finally:
        matmul.allow_tf32 = old_tf32


@torch.no_grad()
def extract(extractor: FeatureExtractor, images: Tensor, batch: int = 500) -> tuple[Tensor, Tensor | None]:
    """(features (N, F) float64 CPU, logits (N, K) or None) of uint8/float[-1, 1] images, in batches."""
    feats, logits = [], []
    device = _device_of(extractor)
    with _eval_mode(extractor), pinned_kernels(), torch.autocast(device.type, enabled=False):
        for i in range(0, images.shape[0], batch):
            f, lg = extractor.features_and_logits(as_float_images(images[i : i + batch]).to(device))
            feats.append(f.double().cpu())
            if lg is not None:
                logits.append(lg.float().cpu())
    return torch.cat(feats), (torch.cat(logits) if logits else None)


def _labels_for(generator: nn.Module, n: int, labels: LabelSpec) -> Tensor | None:
    """Conditional G without labels gets a balanced 0..K-1 cycle, so coverage measures G, not the label draw."""
    classes = int(getattr(generator, "num_classes", 0) or 0)
    if classes <= 0:
        return None
    if labels is None:
        return torch.arange(n) % classes
    if isinstance(labels, int):
        return torch.full((n,), labels, dtype=torch.long)
    if labels.shape != (n,):
        raise ValueError(f"labels shape {tuple(labels.shape)}: expected ({n},), one label per sample")
    return labels.long()


@torch.no_grad()
def generated_features(
    generator: nn.Module, extractor: FeatureExtractor, n: int, batch: int = 250, seed: int = 0, labels: LabelSpec = None
) -> tuple[Tensor, Tensor | None]:
    """Features/logits of n samples of G from fixed seeded z (local RNG: the trainer's RNG is not advanced)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"n={n!r}: need at least 2 generated samples")
    z_all = torch.randn(n, int(generator.z_dim), generator=torch.Generator().manual_seed(seed))
    y_all = _labels_for(generator, n, labels)
    device = _device_of(generator)
    feats, logits = [], []
    # Autocast off: metric numbers must not depend on the trainer's precision setting.
    with _eval_mode(generator), torch.autocast(device.type, enabled=False):
        for i in range(0, n, batch):
            z = z_all[i : i + batch].to(device)
            images = generator(z) if y_all is None else generator(z, y_all[i : i + batch].to(device))
            f, lg = extract(extractor, images.float(), batch=batch)
            feats.append(f)
            if lg is not None:
                logits.append(lg)
    return torch.cat(feats), (torch.cat(logits) if logits else None)


def coverage_from_logits(logits: Tensor, num_classes: int) -> list[float]:
    """Share of samples whose arg-max class is k, for k in 0..num_classes-1 (sums to 1)."""
    counts = torch.bincount(logits.argmax(dim=1), minlength=num_classes).double()
    return (counts / counts.sum()).tolist()


@torch.no_grad()
def class_coverage(extractor: FeatureExtractor, images: Tensor) -> list[float]:
    """Per-class share of images according to the extractor's classifier (mode collapse: a class near 0)."""
    if extractor.num_classes <= 0:
        raise ValueError(f"extractor {extractor.name!r} is not a classifier, so it cannot measure class coverage")
    _, logits = extract(extractor, images)
    assert logits is not None
    return coverage_from_logits(logits, extractor.num_classes)


def pick_real(real_images: Tensor, max_count: int, seed: int = 0) -> Tensor:
    """At most max_count real images, chosen at random with `seed` (all of them, in order, when there are fewer)."""
    if isinstance(max_count, bool) or not isinstance(max_count, int) or max_count < 2:
        raise ValueError(f"max_count={max_count!r}: give at least 2 real images")
    if real_images.shape[0] <= max_count:
        return real_images
    idx = torch.randperm(real_images.shape[0], generator=torch.Generator().manual_seed(seed))[:max_count]
    return real_images[idx]


def real_feature_stats(
    extractor: FeatureExtractor, real_images: Tensor, max_count: int = 10_000, seed: int = 0, split: str = ""
) -> FeatureStats:
    """Statistics of (at most max_count, randomly chosen with `seed`) real images; compute once, reuse often.

    ganlab.metrics.cache.cached_real_stats keeps them on disk between processes.
    """
    feats, _ = extract(extractor, pick_real(real_images, max_count, seed))
    return FeatureStats.of(feats.float().double(), split=split)  # float32-exact, like the cached copy


def compare(
    fake: Tensor,
    real: FeatureStats,
    logits: Tensor | None = None,
    num_classes: int = 0,
    kid_subsets: int = 50,
    kid_subset_size: int = 1000,
    k: int = DEFAULT_K,
    max_manifold: int = MAX_MANIFOLD,
) -> dict[str, Any]:
    """Metric dict for fake features against real stats (shared by evaluate_generator and LiveQuality).

    fid: Fréchet distance in the extractor's feature space (FID proper only for inception-v3); kid: KID (x1, not
    x1000); precision/density: fidelity; recall/knn_coverage: diversity; spread: total feature variance of the
    fakes over that of the reals (near 0 = the samples look alike); coverage: class shares (classifiers only).
    """
    with one_thread():
        fake_stats = FeatureStats.of(fake)
        kid_mean, kid_std = kid(real.features, fake_stats.features, subsets=kid_subsets, subset_size=kid_subset_size)
        n_manifold = min(real.count, fake_stats.count, max_manifold)
        manifold: dict[str, float | None] = dict.fromkeys(("precision", "recall", "density", "knn_coverage"))
        if n_manifold > k:
            manifold = dict(manifold_scores(real.features[:n_manifold], fake_stats.features[:n_manifold], k))
        fid = frechet_from_stats(real.mu, real.sigma, fake_stats.mu, fake_stats.sigma)
    real_var = float(torch.trace(real.sigma))
    return {
        "fid": fid,
        "kid": kid_mean,
        "kid_std": kid_std,
        **manifold,
        "spread": float(torch.trace(fake_stats.sigma)) / real_var if real_var > 0 else None,
        "coverage": coverage_from_logits(logits, num_classes) if logits is not None and num_classes > 0 else None,
        "n_fake": fake_stats.count,
        "n_real": real.count,
        "n_manifold": n_manifold if n_manifold > k else 0,
        "real_split": real.split,
    }


def evaluate_generator(
    generator: nn.Module,
    extractor: FeatureExtractor,
    real_images: Tensor | FeatureStats,
    n: int = 2000,
    batch: int = 250,
    labels: LabelSpec = None,
    *,
    seed: int = 0,
    kid_subsets: int = 50,
) -> dict[str, Any]:
    """compare()'s dict plus "extractor" and "seconds" for n samples of G.

    real_images: uint8/float (N, C, H, W) or precomputed `real_feature_stats(...)` (real features are
    extracted once either way). Deterministic for a given seed.
    """
    t0 = time.perf_counter()
    real = real_images if isinstance(real_images, FeatureStats) else real_feature_stats(extractor, real_images)
    fake, logits = generated_features(generator, extractor, n, batch=batch, seed=seed, labels=labels)
    out = compare(fake, real, logits, extractor.num_classes, kid_subsets=kid_subsets)
    out.update(extractor=extractor.name, seconds=round(time.perf_counter() - t0, 3))
    return out
