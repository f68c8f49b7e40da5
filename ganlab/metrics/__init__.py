"""Quality metrics: feature extractors (shipped classifiers, Inception when cached, a seeded random encoder for any
data), FD/KID, precision/recall and density/coverage, cached real statistics, the live gauge and collapse alarm."""

from __future__ import annotations

from ganlab.metrics import inception as _inception  # noqa: F401  (registers "inception-v3" when cached)
from ganlab.metrics import random_conv as _random_conv  # noqa: F401  (registers the generic "random-conv-v1")
from ganlab.metrics.alarm import CollapseWatch, mode_alarm
from ganlab.metrics.cache import cached_file_stats, cached_real_stats
from ganlab.metrics.classifiers import SmallCNN, load_small_cnn, read_card
from ganlab.metrics.evaluate import evaluate_checkpoint
from ganlab.metrics.extractors import (
    ExtractorChoice,
    FeatureExtractor,
    choose_extractor,
    extractor_by_name,
    get_extractor,
    list_extractors,
    register_extractor,
    retired_extractors,
)
from ganlab.metrics.live import LiveQuality
from ganlab.metrics.manifold import knn_radii, manifold_scores
from ganlab.metrics.quality import (
    class_coverage,
    compare,
    evaluate_generator,
    extract,
    generated_features,
    real_feature_stats,
)
from ganlab.metrics.random_conv import RandomConvEncoder
from ganlab.metrics.real import dataset_real_stats
from ganlab.metrics.stats import (
    FeatureStats,
    frechet_distance,
    frechet_from_stats,
    kid,
    mmd2_unbiased,
)

__all__ = [
    "CollapseWatch", "ExtractorChoice", "FeatureExtractor", "FeatureStats", "LiveQuality", "RandomConvEncoder",
    "SmallCNN", "cached_file_stats", "cached_real_stats", "choose_extractor", "class_coverage", "compare",
    "dataset_real_stats", "evaluate_checkpoint", "evaluate_generator", "extract", "extractor_by_name",
    "frechet_distance", "frechet_from_stats", "generated_features", "get_extractor", "kid", "knn_radii",
    "list_extractors", "retired_extractors", "load_small_cnn", "manifold_scores", "mmd2_unbiased", "mode_alarm", "read_card",
    "real_feature_stats", "register_extractor",
]
