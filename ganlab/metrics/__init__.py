"""Quality metrics: Fréchet distance, KID, class coverage, feature extractors and a live gauge for the trainer."""

from __future__ import annotations

from ganlab.metrics import inception as _inception  # noqa: F401  (registers "inception-v3" when cached)
from ganlab.metrics.extractors import (
    FeatureExtractor,
    SmallCNN,
    get_extractor,
    list_extractors,
    load_small_cnn,
    read_card,
    register_extractor,
)
from ganlab.metrics.quality import (
    LiveQuality,
    class_coverage,
    compare,
    evaluate_generator,
    extract,
    generated_features,
    real_feature_stats,
)
from ganlab.metrics.stats import (
    FeatureStats,
    frechet_distance,
    frechet_from_stats,
    kid,
    mmd2_unbiased,
)

__all__ = [
    "FeatureExtractor",
    "FeatureStats",
    "LiveQuality",
    "SmallCNN",
    "class_coverage",
    "compare",
    "evaluate_generator",
    "extract",
    "frechet_distance",
    "frechet_from_stats",
    "generated_features",
    "get_extractor",
    "kid",
    "list_extractors",
    "load_small_cnn",
    "mmd2_unbiased",
    "read_card",
    "real_feature_stats",
    "register_extractor",
]
