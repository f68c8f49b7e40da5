"""Real-data statistics cached on disk (GANLAB_HOME/cache/metrics), computed once per dataset and extractor.

The key hashes everything the numbers depend on: the extractor's fingerprint (name, feature reading, weights),
the label of the real split, the sample count and seed, and the chosen images themselves (their bytes for data in
memory; path, size and modification time for files decoded from a folder). Changed data gives a new key, so a
stale file is never read; the oldest files are pruned beyond MAX_FILES.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path

import torch
from torch import Tensor

from ganlab.files import atomic_write_bytes
from ganlab.metrics.extractors import FeatureExtractor
from ganlab.metrics.quality import extract, pick_real
from ganlab.metrics.stats import FeatureStats
from ganlab.paths import cache_dir

MAX_FILES = 24  # cached statistics kept (each is up to ~12 MB of features for 5000 images)


def stats_dir() -> Path:
    path = cache_dir() / "metrics"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _key(extractor: FeatureExtractor, split: str, count: int, seed: int, data_signature: str) -> str:
    text = json.dumps([extractor.fingerprint(), split, count, seed, data_signature])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _path(extractor: FeatureExtractor, key: str) -> Path:
    return stats_dir() / f"{extractor.name}-{key}.pt"


def _load(path: Path, split: str) -> FeatureStats | None:
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
        feats = data["features"].double()
        return FeatureStats(mu=data["mu"], sigma=data["sigma"], features=feats, count=int(feats.shape[0]), split=split)
    except Exception:  # noqa: BLE001 - a damaged or foreign cache file is recomputed, never fatal
        return None


def _store(path: Path, stats: FeatureStats) -> None:
    buffer = io.BytesIO()
    # Features are float32-exact (extractors run in float32), so float32 storage loses nothing and halves the file.
    torch.save({"mu": stats.mu, "sigma": stats.sigma, "features": stats.features.float()}, buffer)
    try:
        atomic_write_bytes(path, buffer.getvalue())
    except OSError:  # a full or read-only disk costs a recomputation next time, nothing else
        return
    files = sorted(stats_dir().glob("*.pt"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[MAX_FILES:]:
        old.unlink(missing_ok=True)


def _cached(extractor: FeatureExtractor, key: str, split: str, compute: Callable[[], Tensor]) -> FeatureStats:
    path = _path(extractor, key)
    if path.is_file():
        stats = _load(path, split)
        if stats is not None:
            path.touch()  # recently used: pruned last
            return stats
    feats, _ = extract(extractor, compute())
    stats = FeatureStats.of(feats.float().double(), split=split)
    _store(path, stats)
    return stats


def cached_real_stats(
    extractor: FeatureExtractor, real_images: Tensor, split: str, max_count: int = 10_000, seed: int = 0
) -> FeatureStats:
    """real_feature_stats(...) of in-memory images, read from disk when the same images were scored before."""
    chosen = pick_real(real_images, max_count, seed)
    digest = hashlib.sha256(str((tuple(chosen.shape), str(chosen.dtype))).encode())
    digest.update(chosen.contiguous().numpy().tobytes())
    return _cached(extractor, _key(extractor, split, chosen.shape[0], seed, digest.hexdigest()), split,
                   lambda: chosen)


def cached_file_stats(
    extractor: FeatureExtractor, files: list[Path], decode: Callable[[list[Path]], Tensor], split: str,
    settings: str, seed: int = 0,
) -> FeatureStats:
    """Statistics of images decoded from `files` (already chosen), keyed on the files' path, size and mtime.

    decode(files) -> uint8 (N, C, H, W) runs only on a cache miss; `settings` names the size/channels/fit.
    """
    h = hashlib.sha256(settings.encode())
    for f in files:
        try:
            st = f.stat()
            h.update(f"{f}|{st.st_size}|{st.st_mtime_ns}\n".encode())
        except OSError:
            h.update(f"{f}|missing\n".encode())
    return _cached(extractor, _key(extractor, split, len(files), seed, h.hexdigest()), split, lambda: decode(files))
