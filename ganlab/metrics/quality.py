"""Scoring generators: features of generated vs real images -> FID, KID, class coverage; plus the live gauge."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn

from ganlab.metrics.extractors import FeatureExtractor, as_float_images
from ganlab.metrics.stats import FeatureStats, frechet_from_stats, kid

LabelSpec = Tensor | int | None


def _device_of(module: nn.Module) -> torch.device:
    param = next(module.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


@contextlib.contextmanager
def _eval_mode(module: nn.Module) -> Iterator[None]:
    """Eval mode (BatchNorm running stats, as when sampling) for the block, then the previous mode back."""
    was_training = module.training
    module.eval()
    try:
        yield
    finally:
        module.train(was_training)


@torch.no_grad()
def extract(extractor: FeatureExtractor, images: Tensor, batch: int = 500) -> tuple[Tensor, Tensor | None]:
    """(features (N, F) float64 CPU, logits (N, K) or None) of uint8/float[-1, 1] images, in batches."""
    feats, logits = [], []
    with _eval_mode(extractor):
        for i in range(0, images.shape[0], batch):
            f, lg = extractor.features_and_logits(as_float_images(images[i : i + batch]).to(_device_of(extractor)))
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
    if not isinstance(n, int) or n < 2:
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


def real_feature_stats(
    extractor: FeatureExtractor, real_images: Tensor, max_count: int = 10_000, seed: int = 0
) -> FeatureStats:
    """Statistics of (at most max_count, randomly chosen with `seed`) real images; compute once, reuse often."""
    if real_images.shape[0] > max_count:
        idx = torch.randperm(real_images.shape[0], generator=torch.Generator().manual_seed(seed))[:max_count]
        real_images = real_images[idx]
    feats, _ = extract(extractor, real_images)
    return FeatureStats.of(feats)


def compare(
    fake: Tensor,
    real: FeatureStats,
    logits: Tensor | None = None,
    num_classes: int = 0,
    kid_subsets: int = 50,
    kid_subset_size: int = 1000,
) -> dict[str, Any]:
    """Metric dict for fake features against real stats (shared by evaluate_generator and LiveQuality)."""
    fake_stats = FeatureStats.of(fake)
    kid_mean, kid_std = kid(real.features, fake_stats.features, subsets=kid_subsets, subset_size=kid_subset_size)
    out: dict[str, Any] = {
        "fid": frechet_from_stats(real.mu, real.sigma, fake_stats.mu, fake_stats.sigma),
        "kid": kid_mean,
        "kid_std": kid_std,
        "coverage": coverage_from_logits(logits, num_classes) if logits is not None and num_classes > 0 else None,
        "n_fake": fake_stats.count,
        "n_real": real.count,
    }
    return out


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
    """{"fid", "kid", "kid_std", "coverage" (list or None), "n_fake", "n_real", "extractor", "seconds"}.

    real_images: uint8/float (N, C, H, W) or precomputed `real_feature_stats(...)` (real features are
    extracted once either way). Deterministic for a given seed.
    """
    t0 = time.perf_counter()
    real = real_images if isinstance(real_images, FeatureStats) else real_feature_stats(extractor, real_images)
    fake, logits = generated_features(generator, extractor, n, batch=batch, seed=seed, labels=labels)
    out = compare(fake, real, logits, extractor.num_classes, kid_subsets=kid_subsets)
    out.update(extractor=extractor.name, seconds=round(time.perf_counter() - t0, 3))
    return out


class LiveQuality:
    """The trainer's quality gauge: real statistics once at construction, then cheap `measure(G)` calls.

    Each measure uses the same fixed z (a smooth trend line, not sampling noise) and n_fake samples
    (default 1000) with a light KID (10 subsets of 500). Its cost is dominated by G's forward pass on the
    samples, about 2 training steps of a 32 px DCGAN at batch 64; `min_interval_seconds()` says how much
    training time to let pass between calls to keep the overhead under a budget (5% by default).
    """

    def __init__(
        self,
        extractor: FeatureExtractor,
        real_images: Tensor,
        *,
        n_fake: int = 1000,
        max_real: int = 5000,
        batch: int = 250,
        seed: int = 0,
        kid_subsets: int = 10,
        kid_subset_size: int = 500,
    ) -> None:
        self.extractor = extractor
        self.n_fake, self.batch, self.seed = n_fake, batch, seed
        self.kid_subsets, self.kid_subset_size = kid_subsets, kid_subset_size
        self.real = real_feature_stats(extractor, real_images, max_count=max_real, seed=seed)
        self.last_seconds = 0.0

    def min_interval_seconds(self, overhead: float = 0.05) -> float:
        """Training seconds to wait between measures so they cost at most `overhead` of the time (0 before
        the first measure: the first one sets the price)."""
        if not 0 < overhead <= 1:
            raise ValueError(f"overhead={overhead!r}: give a fraction in (0, 1], e.g. 0.05 for 5%")
        return self.last_seconds / overhead

    def measure(self, generator: nn.Module, labels: LabelSpec = None) -> dict[str, Any]:
        """{"fid", "kid", "kid_std", "coverage", "n_fake", "n_real", "extractor", "seconds"} for G as it is now."""
        t0 = time.perf_counter()
        fake, logits = generated_features(
            generator, self.extractor, self.n_fake, batch=self.batch, seed=self.seed, labels=labels
        )
        out = compare(fake, self.real, logits, self.extractor.num_classes, self.kid_subsets, self.kid_subset_size)
        self.last_seconds = time.perf_counter() - t0
        out.update(extractor=self.extractor.name, seconds=round(self.last_seconds, 3))
        return out
