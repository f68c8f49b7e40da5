"""The trainer's live quality gauge: real statistics once, then cheap measures of G with a collapse watch."""

from __future__ import annotations

import time
from typing import Any

from torch import Tensor, nn

from ganlab.metrics.alarm import CollapseWatch
from ganlab.metrics.extractors import FeatureExtractor
from ganlab.metrics.quality import LabelSpec, compare, generated_features, real_feature_stats
from ganlab.metrics.stats import FeatureStats


class LiveQuality:
    """Real statistics once at construction (or given, e.g. from the disk cache), then `measure(G)` calls.

    Each measure uses the same fixed z (a smooth trend line, not sampling noise) and n_fake samples
    (default 1000) with a light KID (10 subsets of 500). Its cost is dominated by G's forward pass and the
    extractor on the samples; `min_interval_seconds()` says how much training time to let pass between calls
    to keep the overhead under a budget (5% by default). Every record names the extractor and sample counts,
    and carries an "alarm" when the collapse watch fires.
    """

    def __init__(
        self,
        extractor: FeatureExtractor,
        real: Tensor | FeatureStats,
        *,
        n_fake: int = 1000,
        max_real: int = 5000,
        batch: int = 250,
        seed: int = 0,
        kid_subsets: int = 10,
        kid_subset_size: int = 500,
        split: str = "",
    ) -> None:
        self.extractor = extractor
        self.n_fake, self.batch, self.seed = n_fake, batch, seed
        self.kid_subsets, self.kid_subset_size = kid_subsets, kid_subset_size
        if isinstance(real, FeatureStats):
            self.real = real
        else:
            self.real = real_feature_stats(extractor, real, max_count=max_real, seed=seed, split=split)
        self.watch = CollapseWatch(extractor.num_classes)
        self.last_seconds = 0.0

    def min_interval_seconds(self, overhead: float = 0.05) -> float:
        """Training seconds to wait between measures so they cost at most `overhead` of the time (0 before
        the first measure: the first one sets the price)."""
        if not 0 < overhead <= 1:
            raise ValueError(f"overhead={overhead!r}: give a fraction in (0, 1], e.g. 0.05 for 5%")
        return self.last_seconds / overhead

    def measure(self, generator: nn.Module, labels: LabelSpec = None, step: int = 0) -> dict[str, Any]:
        """compare()'s dict + "extractor", "seconds" (and "alarm" when diversity collapses) for G as it is now."""
        t0 = time.perf_counter()
        fake, logits = generated_features(
            generator, self.extractor, self.n_fake, batch=self.batch, seed=self.seed, labels=labels
        )
        out = compare(fake, self.real, logits, self.extractor.num_classes, self.kid_subsets, self.kid_subset_size)
        self.last_seconds = time.perf_counter() - t0
        out.update(extractor=self.extractor.name, seconds=round(self.last_seconds, 3))
        alarm = self.watch.check(out, step)
        if alarm is not None:
            out["alarm"] = alarm
        return out
