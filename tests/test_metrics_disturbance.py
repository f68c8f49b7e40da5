"""The disturbance test (Heusel et al. 2017) for every extractor, on small subsets: FD and KID must rise with the
strength of each disturbance; precision/recall and density/coverage must tell fidelity from diversity.
scripts/disturbance_check.py prints the full tables (docs/metrics.md)."""

from __future__ import annotations

import pytest
import torch

from ganlab.data import open_dataset
from ganlab.data.mnist import find_idx
from ganlab.metrics import extractor_by_name
from ganlab.metrics.validate import disturbance_table, non_monotonic, seeded_halves

N = {"digits": 300, "fashion-mnist": 500}  # images per half: small for the fast suite, enough to resolve the steps
DIGITS_LAST_LAYER = pytest.param(
    "digits", 32, "digits", id="digits-digits",
    marks=pytest.mark.xfail(strict=True, reason="measured: the digits classifier's last layer does not see Gaussian "
                            "noise of sigma 4 (FD 3.415 clean, 3.387 noisy at 300 images; 0.774, 0.771 at 898): "
                            "its '-layers' reading, the default for digits, does; so it is retired (not chosen, not listed)"))
CASES = [pytest.param(d, s, n, id=f"{d}-{n}") for d, s, n in (
    ("digits", 32, "digits-layers"), ("digits", 32, "random-conv-v1"), ("fashion-mnist", 28, "fashion-mnist-layers"),
    ("fashion-mnist", 28, "random-conv-v1"), ("fashion-mnist", 28, "fashion-mnist"))] + [DIGITS_LAST_LAYER]
SEPARATION_CASES = [("digits", 32, "digits-layers"), ("digits", 32, "random-conv-v1"),
                    ("fashion-mnist", 28, "fashion-mnist-layers"), ("fashion-mnist", 28, "random-conv-v1")]


@pytest.fixture(autouse=True)
def one_thread():
    """Single-threaded: on a shared CPU the small convs and eigh run faster so (tables are cached per module)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _data(dataset: str, size: int):
    if dataset == "fashion-mnist" and find_idx("fashion-mnist", "test") is None:
        pytest.skip("Debian's dataset-fashion-mnist is not installed (apt install dataset-fashion-mnist)")
    data = open_dataset(dataset, size=size, subset="test" if dataset == "fashion-mnist" else "")
    reference, evaluated = seeded_halves(data.images, N[dataset])
    _, labels = seeded_halves(data.labels[:, None, None, None], N[dataset])
    return reference, evaluated, evaluated[labels.view(-1) == 1]


_TABLES: dict[tuple[str, str], list] = {}


def _table(dataset: str, size: int, name: str):
    if (dataset, name) not in _TABLES:
        reference, evaluated, one_class = _data(dataset, size)
        extractor = extractor_by_name(name, 1, size)
        _TABLES[dataset, name] = disturbance_table(extractor, reference, evaluated, one_class, kid_subsets=5)
    return _TABLES[dataset, name]


@pytest.mark.parametrize("dataset, size, name", CASES)
def test_fd_and_kid_rise_with_every_disturbance(dataset, size, name):
    assert non_monotonic(_table(dataset, size, name)) == []


@pytest.mark.parametrize("dataset, size, name", SEPARATION_CASES, ids=[f"{d}-{n}" for d, _, n in SEPARATION_CASES])
def test_black_images_cost_fidelity_one_class_costs_diversity(dataset, size, name):
    rows = {(r.disturbance, r.strength): r.metrics for r in _table(dataset, size, name)}
    clean, black, one = rows["clean", 0.0], rows["black images", 0.5], rows["one class", 0.5]
    # Half the set black: half the fakes are off the data (precision ~halves), the rest still cover it.
    assert black["precision"] < 0.7 * clean["precision"] and black["recall"] > 0.8 * clean["recall"]
    # Half the set one class: every fake still looks real, but fewer real images are covered.
    assert one["precision"] > 0.9 * clean["precision"] and one["knn_coverage"] < clean["knn_coverage"] - 0.03


def test_blur_and_noise_rows_measure_their_damage():
    rows = _table("digits", 32, "random-conv-v1")
    noise = [r for r in rows if r.disturbance == "gaussian noise"]
    assert all(a.rms < b.rms and a.dssim < b.dssim for a, b in zip(noise, noise[1:], strict=False))
    assert torch.isfinite(torch.tensor([r.metrics["fid"] for r in rows])).all()
