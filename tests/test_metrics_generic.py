"""The generic extractor (seeded random conv encoder), extractor choice for every dataset, precision/recall and
density/coverage, and the on-disk cache of real statistics."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ganlab.data import list_datasets
from ganlab.data.registry import get_spec
from ganlab.metrics import (
    RandomConvEncoder,
    cached_file_stats,
    cached_real_stats,
    extract,
    extractor_by_name,
    get_extractor,
    knn_radii,
    manifold_scores,
    random_conv,
    real_feature_stats,
)

ROOT = Path(__file__).resolve().parent.parent
FEATURES_SCRIPT = """
import hashlib, sys, torch
sys.path.insert(0, {root!r})
from ganlab.metrics import RandomConvEncoder, extract
images = torch.randint(0, 256, (6, 3, 20, 20), generator=torch.Generator().manual_seed(5), dtype=torch.uint8)
feats, _ = extract(RandomConvEncoder(), images)
print(hashlib.sha256(feats.numpy().tobytes()).hexdigest())
"""


def _images(n: int, seed: int, channels: int = 1, size: int = 20) -> torch.Tensor:
    return torch.randint(0, 256, (n, channels, size, size), generator=torch.Generator().manual_seed(seed),
                         dtype=torch.uint8)


# --------------------------------------------------------------------------- the random encoder


def test_random_encoder_weights_come_from_the_fixed_cpu_seed():
    enc = RandomConvEncoder()
    again = random_conv._seeded_filters([tuple(getattr(enc, f"w{i}").shape) for i in range(3)], random_conv.SEED)
    assert all(torch.equal(getattr(enc, f"w{i}"), w) for i, w in enumerate(again))
    norms = enc.w1.flatten(1).norm(dim=1)
    assert torch.allclose(norms, torch.ones_like(norms), atol=1e-6)  # unit-norm filters
    # The recorded fingerprint: if torch ever draws these weights differently, cached statistics and every
    # recorded number would silently change meaning; this golden value makes that visible.
    assert enc.fingerprint() == "303a5fff04eb3019"


def test_random_encoder_same_features_in_two_processes():
    code = FEATURES_SCRIPT.format(root=str(ROOT))
    digests = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              timeout=120).stdout.strip() for _ in range(2)]
    images = torch.randint(0, 256, (6, 3, 20, 20), generator=torch.Generator().manual_seed(5), dtype=torch.uint8)
    here = hashlib.sha256(extract(RandomConvEncoder(), images)[0].numpy().tobytes()).hexdigest()
    assert digests[0] == digests[1] == here


@pytest.mark.parametrize("shape", [(3, 1, 8, 8), (3, 1, 28, 28), (3, 3, 64, 64), (3, 3, 33, 47)])
def test_random_encoder_any_size_and_channels(shape):
    feats = RandomConvEncoder()(torch.rand(*shape) * 2 - 1)
    assert feats.shape == (3, 624) and torch.isfinite(feats).all()


def test_random_encoder_grey_and_its_rgb_render_score_alike():
    grey = _images(4, 0)
    enc = RandomConvEncoder()
    assert torch.equal(enc(grey), enc(grey.expand(-1, 3, -1, -1)))


@pytest.mark.parametrize("dataset", list_datasets())
def test_every_registered_dataset_gets_an_extractor(dataset):
    channels = get_spec(dataset).default_channels
    for ch in {channels, 1, 3}:
        assert get_extractor(dataset, ch, 32) is not None


def test_shipped_classifiers_stay_the_default_for_their_datasets():
    assert get_extractor("fashion-mnist", 1, 28).name == "fashion-mnist-layers"
    assert get_extractor("digits", 1, 32).name == "digits-layers"
    assert extractor_by_name("digits", 1, 32).num_features == 128  # the penultimate reading stays available


def test_a_retired_extractor_is_never_chosen_nor_listed_but_still_measures_by_name(monkeypatch):
    import dataclasses

    from ganlab.metrics import extractors, list_extractors, retired_extractors

    assert "blind to strong pixel noise" in retired_extractors()["digits"]
    assert "digits" not in list_extractors() and "digits-layers" in list_extractors()
    # Even when the dataset's current extractor cannot be built, the choice skips the retired one.
    entry = extractors._REGISTRY["digits-layers"]
    monkeypatch.setitem(extractors._REGISTRY, "digits-layers", dataclasses.replace(entry, available=lambda: False))
    assert get_extractor("digits", 1, 32).name == "random-conv-v1"
    assert extractor_by_name("digits", 1, 32).name == "digits"  # cards measured with it reproduce


def test_extractor_by_name_refuses_unknown_names():
    with pytest.raises(ValueError, match="unknown extractor 'nope'; known: .*random-conv-v1"):
        extractor_by_name("nope", 1, 32)


# --------------------------------------------------------------------------- precision / recall / density / coverage


def test_knn_radii_match_brute_force():
    x = torch.randn(40, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    d = torch.cdist(x, x)
    assert torch.allclose(knn_radii(x, 3), d.sort(dim=1).values[:, 3])


def test_manifold_scores_same_distribution_high_and_shifted_low():
    gen = torch.Generator().manual_seed(0)
    real, fake = torch.randn(500, 8, generator=gen), torch.randn(500, 8, generator=gen)
    same = manifold_scores(real, fake)
    assert min(same["precision"], same["recall"], same["knn_coverage"]) > 0.85 and 0.7 < same["density"] < 1.3
    far = manifold_scores(real, fake + 10)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "knn_coverage": 0.0}


def test_manifold_scores_separate_fidelity_from_diversity():
    gen = torch.Generator().manual_seed(1)
    real = torch.randn(600, 8, generator=gen)
    narrow = real[:10].repeat(60, 1) + 0.01 * torch.randn(600, 8, generator=gen)  # real-looking, few modes
    spread_out = torch.randn(600, 8, generator=gen) * 3  # diverse, mostly off the data
    n, s = manifold_scores(real, narrow), manifold_scores(real, spread_out)
    assert n["precision"] > 0.9 and n["knn_coverage"] < 0.2 and n["recall"] < 0.2  # fidelity without diversity
    assert s["precision"] < 0.5 and s["recall"] > 0.8  # diversity without fidelity


# --------------------------------------------------------------------------- cached real statistics


class CountingEncoder(RandomConvEncoder):
    calls = 0

    def features_and_logits(self, images):
        CountingEncoder.calls += images.shape[0]
        return super().features_and_logits(images)


def test_cached_stats_equal_fresh_ones_and_second_call_does_not_recompute():
    enc, images = CountingEncoder(), _images(60, 1)
    CountingEncoder.calls = 0
    first = cached_real_stats(enc, images, "test set", max_count=50)
    assert CountingEncoder.calls == 50
    second = cached_real_stats(enc, images, "test set", max_count=50)
    assert CountingEncoder.calls == 50  # read from disk
    fresh = real_feature_stats(enc, images, max_count=50)
    for stats in (first, second):
        assert torch.equal(stats.mu, fresh.mu) and torch.equal(stats.sigma, fresh.sigma)
        assert torch.equal(stats.features, fresh.features) and stats.count == 50 and stats.split == "test set"


def test_cached_stats_recomputed_when_data_count_or_extractor_change():
    enc, images = CountingEncoder(), _images(60, 1)
    cached_real_stats(enc, images, "s", max_count=50)
    CountingEncoder.calls = 0
    changed = images.clone()
    changed[0, 0, 0, 0] ^= 1  # one grey level of one pixel
    cached_real_stats(enc, changed, "s", max_count=60)  # every image chosen, so the changed one too
    assert CountingEncoder.calls == 60
    cached_real_stats(enc, images, "s", max_count=40)
    assert CountingEncoder.calls == 100
    other = cached_real_stats(extractor_by_name("digits", 1, 20), images, "s", max_count=40)
    assert other.features.shape == (40, 128)


def test_cached_file_stats_decode_once_and_notice_changed_files(tmp_path):
    from PIL import Image

    files = []
    for i in range(12):
        path = tmp_path / f"{i}.png"
        Image.fromarray(_images(1, i, 3, 16)[0].permute(1, 2, 0).numpy()).save(path)
        files.append(path)
    decoded = []

    def decode(fs):
        decoded.append(len(fs))
        return torch.stack([torch.from_numpy(__import__("numpy").asarray(Image.open(f))).permute(2, 0, 1) for f in fs])

    enc = RandomConvEncoder()
    a = cached_file_stats(enc, files, decode, "folder", settings="16|3|crop")
    b = cached_file_stats(enc, files, decode, "folder", settings="16|3|crop")
    assert decoded == [12] and torch.equal(a.mu, b.mu)
    Image.fromarray(_images(1, 99, 3, 16)[0].permute(1, 2, 0).numpy()).save(files[3])
    import os

    os.utime(files[3], ns=(1, 1))  # a different modification time, as after any edit
    c = cached_file_stats(enc, files, decode, "folder", settings="16|3|crop")
    assert decoded == [12, 12] and not torch.equal(a.mu, c.mu)
