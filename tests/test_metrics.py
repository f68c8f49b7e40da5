"""Tests for ganlab.metrics: FID/KID properties (and agreement with torchmetrics), shipped extractors, coverage,
evaluate_generator and the live gauge."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from torch import nn

from ganlab import metrics
from ganlab.metrics import (
    FeatureStats,
    LiveQuality,
    choose_extractor,
    class_coverage,
    evaluate_generator,
    extractor_by_name,
    frechet_distance,
    frechet_from_stats,
    get_extractor,
    kid,
    list_extractors,
    mmd2_unbiased,
    read_card,
)
from tests.helpers import NO_FASHION, have_fashion, skip_without_fashion

ROOT = Path(__file__).resolve().parent.parent


def _load_script():
    spec = importlib.util.spec_from_file_location("train_extractors", ROOT / "scripts" / "train_extractors.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script():
    return _load_script()


@pytest.fixture(scope="module")
def fashion_test(script):
    """Fashion-MNIST t10k: (images uint8 (10000, 1, 28, 28), labels); skips without Debian's dataset-fashion-mnist."""
    skip_without_fashion(script.FASHION_DIR)
    return script.load_split("fashion-mnist", "test")


@pytest.fixture(scope="module")
def fashion():
    """The shipped classifier read at its penultimate layer (the features the generator cards were measured with)."""
    return extractor_by_name("fashion-mnist", 1, 28)


def _gauss(n: int, d: int, seed: int, shift: float = 0.0) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) + shift


# --------------------------------------------------------------------------- Fréchet distance


def test_frechet_of_set_with_itself_is_zero():
    feats = torch.relu(_gauss(400, 64, 0))  # rank-deficient-ish ReLU features
    assert frechet_distance(feats, feats) == pytest.approx(0.0, abs=1e-8)


def test_frechet_closed_form_for_diagonal_gaussians():
    mu1, mu2 = torch.zeros(3), torch.tensor([1.0, 2.0, 0.0])
    s1, s2 = torch.diag(torch.tensor([1.0, 4.0, 9.0])), torch.diag(torch.tensor([4.0, 4.0, 1.0]))
    # |mu1 - mu2|^2 + sum (sqrt(a) - sqrt(b))^2 = 5 + (1 + 0 + 4)
    assert frechet_from_stats(mu1, s1, mu2, s2) == pytest.approx(10.0, abs=1e-9)


def test_frechet_grows_monotonically_with_feature_noise():
    base = _gauss(1000, 32, 0)
    noise = _gauss(1000, 32, 1)
    values = [frechet_distance(base, base + s * noise) for s in (0.0, 0.1, 0.3, 1.0, 3.0)]
    assert values[0] == pytest.approx(0.0, abs=1e-8)
    assert all(a < b for a, b in zip(values, values[1:])), values


def test_frechet_matches_torchmetrics_on_same_features():
    from torchmetrics.image.fid import FrechetInceptionDistance

    class Passthrough(nn.Module):
        num_features = 16

        def forward(self, x):
            return x

    a, b = torch.relu(_gauss(300, 16, 0)), _gauss(200, 16, 1, shift=0.3) ** 2
    reference = FrechetInceptionDistance(feature=Passthrough(), normalize=True)
    reference.update(a.float(), real=True)
    reference.update(b.float(), real=False)
    assert frechet_distance(a, b) == pytest.approx(float(reference.compute()), rel=1e-3)


@pytest.mark.parametrize(
    "a, b, match",
    [
        (torch.zeros(1, 4), torch.zeros(5, 4), "at least 2 rows"),
        (torch.zeros(5, 4), torch.zeros(5, 3), "feature sizes differ"),
        (torch.full((5, 4), float("nan")), torch.zeros(5, 4), "NaN"),
    ],
)
def test_frechet_rejects_bad_features(a, b, match):
    with pytest.raises(ValueError, match=match):
        frechet_distance(a, b)


# --------------------------------------------------------------------------- KID


def test_kid_unbiased_over_independent_pairs_unlike_biased_estimate():
    unbiased, biased = [], []
    xs, ys = _gauss(200 * 20, 8, 0).view(200, 20, 8), _gauss(200 * 20, 8, 1).view(200, 20, 8)
    for x, y in zip(xs, ys):
        unbiased.append(mmd2_unbiased(x, y))
        k = lambda p, q: (p @ q.T / 8 + 1) ** 3  # noqa: E731
        biased.append(float(k(x, x).mean() + k(y, y).mean() - 2 * k(x, y).mean()))  # keeps the i == j terms
    u = torch.tensor(unbiased)
    stderr = float(u.std() / len(u) ** 0.5)
    assert abs(float(u.mean())) < 3 * stderr
    assert min(unbiased) < 0  # an unbiased estimate of 0 must sometimes go negative
    assert float(torch.tensor(biased).mean()) > 10 * stderr


def test_kid_same_distribution_near_zero_within_std():
    mean, std = kid(_gauss(600, 32, 0), _gauss(600, 32, 1), subsets=20, subset_size=300)
    assert abs(mean) < std
    shifted, shifted_std = kid(_gauss(600, 32, 0), _gauss(600, 32, 1, shift=0.5), subsets=20, subset_size=300)
    assert shifted > 10 * shifted_std


@pytest.mark.filterwarnings("ignore:Metric `Kernel Inception Distance` will save")
def test_kid_matches_torchmetrics_on_whole_sets():
    from torchmetrics.image.kid import KernelInceptionDistance

    class Passthrough(nn.Module):
        num_features = 12

        def forward(self, x):
            return x

    a, b = _gauss(150, 12, 0), _gauss(150, 12, 1, shift=0.2)
    reference = KernelInceptionDistance(feature=Passthrough(), subsets=1, subset_size=150, normalize=True)
    reference.update(a.float(), real=True)
    reference.update(b.float(), real=False)
    ours, _ = kid(a, b, subsets=1, subset_size=150)
    assert ours == pytest.approx(float(reference.compute()[0]), rel=1e-3)


def test_kid_deterministic_given_seed_and_keeps_global_rng():
    a, b = _gauss(300, 8, 0), _gauss(300, 8, 1)
    torch.manual_seed(0)
    expected = torch.rand(2)
    torch.manual_seed(0)
    first = kid(a, b, subsets=5, subset_size=100, seed=3)
    assert torch.equal(torch.rand(2), expected)
    assert kid(a, b, subsets=5, subset_size=100, seed=3) == first


# --------------------------------------------------------------------------- extractors


def test_list_extractors_has_shipped_classifiers():
    names = list_extractors()
    assert {"digits-layers", "fashion-mnist-layers", "fashion-mnist"} <= set(names)


def test_get_extractor_generic_for_any_other_dataset():
    for dataset, channels in (("my-holiday-photos", 1), ("folder", 3), ("zip", 1), ("cifar10", 3)):
        assert get_extractor(dataset, channels, 32).name == "random-conv-v1"


def test_get_extractor_rgb_without_cached_inception_is_generic_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty hub cache: nothing may be downloaded
    assert "inception-v3" not in list_extractors()
    choice = choose_extractor("emoji", 3, 64)
    assert choice.extractor.name == "random-conv-v1"
    assert "inception-v3 is not available" in choice.note and str(tmp_path) in choice.note
    assert "random-conv-v1" in choice.note


def test_get_extractor_rejects_bad_channels():
    with pytest.raises(ValueError, match="channels"):
        get_extractor("digits", 0, 32)


@pytest.mark.parametrize("name", ["digits", "fashion-mnist"])
def test_shipped_extractor_files_small_and_card_complete(name):
    folder = ROOT / "pretrained" / "extractors"
    assert (folder / f"{name}.safetensors").stat().st_size < 2_000_000
    card = read_card(name)
    for key in ("test_accuracy", "command", "arch", "split"):
        assert key in card
    assert card["test_accuracy"] >= (0.97 if name == "digits" else 0.90)


@pytest.mark.parametrize("shape", [(5, 1, 28, 28), (5, 1, 32, 32), (5, 3, 64, 64), (5, 1, 16, 16)])
def test_extractor_shapes_any_size_and_channels(fashion, shape):
    images = torch.rand(*shape) * 2 - 1
    assert fashion(images).shape == (5, 128)
    assert fashion.classify(images).shape == (5, 10)
    assert fashion(torch.randint(0, 256, shape, dtype=torch.uint8)).shape == (5, 128)


@pytest.mark.parametrize("name", ["digits", pytest.param("fashion-mnist", marks=pytest.mark.skipif(
    not have_fashion(), reason=NO_FASHION))])  # have_fashion() looks where scripts/train_extractors.py reads
def test_extractor_reproduces_card_accuracy(script, name):
    extractor = get_extractor(name, 1, 28)
    card = read_card(name)
    images, labels = script.load_split(name, "test")
    size = script.native_input_size(name)
    with torch.no_grad():
        pred = torch.cat([extractor.classify(script.to_size(images[i : i + 1000], size, "bilinear")).argmax(1)
                          for i in range(0, len(images), 1000)])  # fmt: skip
    accuracy = float((pred == labels).double().mean())
    assert accuracy == pytest.approx(card["test_accuracy"], abs=0.01)


def test_class_coverage_sums_to_one_and_uniform_on_real_test_data(fashion, fashion_test):
    images, _ = fashion_test
    coverage = class_coverage(fashion, images[:4000])
    assert len(coverage) == 10
    assert sum(coverage) == pytest.approx(1.0)
    assert all(0.06 < share < 0.14 for share in coverage), coverage


def test_fid_on_real_images_grows_with_pixel_noise(fashion, fashion_test):
    images = fashion_test[0][:600].float() / 127.5 - 1
    ref, _ = metrics.extract(fashion, fashion_test[0][5000:5600])
    values = []
    for sigma in (0.0, 0.1, 0.3, 0.6):
        noisy = (images + sigma * torch.randn(images.shape, generator=torch.Generator().manual_seed(1))).clamp(-1, 1)
        values.append(frechet_distance(ref, metrics.extract(fashion, noisy)[0]))
    assert all(a < b for a, b in zip(values, values[1:])), values
    feats, _ = metrics.extract(fashion, images)
    assert frechet_distance(feats, feats) == pytest.approx(0.0, abs=1e-6)


# --------------------------------------------------------------------------- generators


class BankGenerator(nn.Module):
    """Fake G replaying a bank of images: row i of z picks bank[hash(z_i)]; `collapse` always picks one image;
    conditional when `labels_bank` is given (then it picks an image of the requested class)."""

    def __init__(self, bank: torch.Tensor, collapse: bool = False, labels_bank: torch.Tensor | None = None) -> None:
        super().__init__()
        self.z_dim = 8
        self.num_classes = 10 if labels_bank is not None else 0
        self.bank = bank.float() / 127.5 - 1
        self.labels_bank = labels_bank
        self.collapse = collapse
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        idx = (z[:, 0].abs() * 1e6).long() % len(self.bank)
        if self.collapse:
            idx = torch.zeros_like(idx)
        if labels is not None:
            pools = [torch.nonzero(self.labels_bank == c).squeeze(1) for c in range(10)]
            idx = torch.stack([pools[int(c)][int(i) % len(pools[int(c)])] for c, i in zip(labels, idx)])
        return self.bank[idx] * self.scale


@pytest.fixture(scope="module")
def real_stats(fashion, fashion_test):
    return metrics.real_feature_stats(fashion, fashion_test[0][:3000])


def test_evaluate_generator_replay_beats_collapse(fashion, fashion_test, real_stats):
    images = fashion_test[0]
    good = evaluate_generator(BankGenerator(images[5000:8000]), fashion, real_stats, n=500, kid_subsets=10)
    bad = evaluate_generator(BankGenerator(images[5000:8000], collapse=True), fashion, real_stats, n=500, kid_subsets=10)
    assert set(good) >= {"fid", "kid", "kid_std", "coverage", "n_fake", "n_real", "extractor"}
    assert good["n_fake"] == 500 and good["n_real"] == 3000 and good["extractor"] == "fashion-mnist"
    assert good["fid"] < 0.1 * bad["fid"]
    assert good["kid"] < bad["kid"]
    assert max(bad["coverage"]) == 1.0 and sorted(bad["coverage"])[-2] == 0.0
    assert max(good["coverage"]) < 0.2


def test_evaluate_generator_deterministic_given_seed(fashion, fashion_test, real_stats):
    g = BankGenerator(fashion_test[0][5000:8000])
    first = evaluate_generator(g, fashion, real_stats, n=300, kid_subsets=5, seed=4)
    second = evaluate_generator(g, fashion, real_stats, n=300, kid_subsets=5, seed=4)
    assert {k: v for k, v in first.items() if k != "seconds"} == {k: v for k, v in second.items() if k != "seconds"}


def test_evaluate_generator_conditional_balanced_labels(fashion, fashion_test, real_stats):
    images, labels = fashion_test
    g = BankGenerator(images[5000:8000], labels_bank=labels[5000:8000])
    balanced = evaluate_generator(g, fashion, real_stats, n=500, kid_subsets=5)
    assert all(0.05 < share < 0.15 for share in balanced["coverage"])
    one_class = evaluate_generator(g, fashion, real_stats, n=200, kid_subsets=5, labels=1)  # trousers
    assert one_class["coverage"][1] > 0.9


def test_live_quality_measures_without_touching_rng_or_mode(fashion, fashion_test):
    live = LiveQuality(fashion, fashion_test[0][:2000], n_fake=400, kid_subsets=3, kid_subset_size=200)
    assert live.real.count == 2000
    g = BankGenerator(fashion_test[0][5000:8000]).train()
    torch.manual_seed(0)
    expected = torch.rand(2)
    torch.manual_seed(0)
    first = live.measure(g)
    assert torch.equal(torch.rand(2), expected)  # the trainer's RNG stream is untouched
    assert g.training  # mode restored
    assert first["n_fake"] == 400 and first["fid"] >= 0 and len(first["coverage"]) == 10
    assert live.measure(g)["fid"] == first["fid"]  # fixed z: the same G scores the same
    assert isinstance(FeatureStats.of(torch.randn(3, 2)), FeatureStats)


def test_live_quality_min_interval_keeps_overhead_budget(fashion, fashion_test):
    live = LiveQuality(fashion, fashion_test[0][:500], n_fake=100, kid_subsets=2, kid_subset_size=50)
    assert live.min_interval_seconds() == 0.0  # nothing measured yet
    live.measure(BankGenerator(fashion_test[0][5000:6000]))
    assert live.min_interval_seconds(0.05) == pytest.approx(live.last_seconds / 0.05)
    with pytest.raises(ValueError, match="overhead"):
        live.min_interval_seconds(0.0)


@pytest.mark.slow
def test_inception_offered_only_when_weights_cached(tmp_path, monkeypatch):
    from torchvision.models import inception_v3

    from ganlab.metrics.inception import WEIGHTS_FILE, InceptionExtractor

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert get_extractor("emoji", 3, 64).name == "random-conv-v1"
    # Random weights in the cache stand in for the real download (the file is all that is checked).
    path = tmp_path / "hub" / "checkpoints" / WEIGHTS_FILE
    path.parent.mkdir(parents=True)
    torch.save(inception_v3(weights=None, aux_logits=True, init_weights=False).state_dict(), path)
    assert "inception-v3" in list_extractors()
    ext = get_extractor("emoji", 3, 64)
    assert isinstance(ext, InceptionExtractor)
    assert ext(torch.rand(2, 3, 64, 64) * 2 - 1).shape == (2, 2048)
    assert get_extractor("emoji", 1, 64).name == "random-conv-v1"  # Inception is offered for RGB sets only
    assert get_extractor("fashion-mnist", 1, 28).name == "fashion-mnist-layers"  # a dataset's own extractor wins
