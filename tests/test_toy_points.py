"""2-D toy distributions for the playground."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ganlab.toy import list_toy2d, load_toy2d, toy2d_descriptions

BUILT_IN = ("ring", "grid", "spiral", "moons", "line")


def test_list_toy2d_names_every_distribution():
    assert list_toy2d() == [*BUILT_IN, "custom"]
    assert set(toy2d_descriptions()) == set(list_toy2d())


@pytest.mark.parametrize("name", BUILT_IN)
def test_toy2d_shapes_and_bounds(name):
    pts = load_toy2d(name, 500)
    assert pts.shape == (500, 2) and pts.dtype == torch.float32
    assert torch.isfinite(pts).all() and pts.abs().max() < 1.2


@pytest.mark.parametrize("name", BUILT_IN)
def test_toy2d_deterministic_given_seed(name):
    assert torch.equal(load_toy2d(name, 50, seed=3), load_toy2d(name, 50, seed=3))
    assert not torch.equal(load_toy2d(name, 50, seed=3), load_toy2d(name, 50, seed=4))


def test_ring_has_eight_modes_on_a_circle():
    pts = load_toy2d("ring", 4000).numpy()
    radius = np.linalg.norm(pts, axis=1)
    assert abs(radius.mean() - 0.8) < 0.02
    sector = np.round(np.arctan2(pts[:, 1], pts[:, 0]) / (math.pi / 4)) % 8
    counts = np.bincount(sector.astype(int), minlength=8)
    assert counts.min() > 350  # every one of the 8 modes is populated


def test_grid_has_25_modes():
    pts = load_toy2d("grid", 5000).numpy()
    cells = np.round((pts + 0.8) / 0.4).astype(int)
    assert len({tuple(c) for c in cells}) == 25


def test_moons_points_lie_on_two_half_circles():
    pts = load_toy2d("moons", 2000).numpy()
    centres = np.array([[-0.3, -0.15], [0.3, 0.15]])  # the two moons' circle centres, radius 0.6
    off_circle = np.abs(np.linalg.norm(pts[:, None, :] - centres[None], axis=2) - 0.6)
    assert off_circle.min(1).max() < 0.15
    upper_share = (off_circle[:, 0] < off_circle[:, 1]).mean()
    assert 0.4 < upper_share < 0.6


def test_custom_resamples_user_points_with_small_jitter():
    drawn = np.array([[0.5, 0.5], [-0.5, -0.5], [0.5, -0.5]])
    pts = load_toy2d("custom", 300, points=drawn).numpy()
    nearest = np.min(np.linalg.norm(pts[:, None, :] - drawn[None], axis=2), axis=1)
    assert nearest.max() < 0.15 and nearest.mean() > 0.001


@pytest.mark.parametrize(
    "points, message",
    [
        (None, "needs points"),
        (np.zeros((3, 3)), r"shape \(m, 2\)"),
        (np.zeros((0, 2)), r"shape \(m, 2\)"),
        (np.array([[0.0, np.nan]]), "finite"),
    ],
)
def test_custom_rejects_bad_points(points, message):
    with pytest.raises(ValueError, match=message):
        load_toy2d("custom", 10, points=points)


def test_toy2d_rejects_unknown_name_and_bad_n():
    with pytest.raises(ValueError, match="unknown toy2d distribution 'blob'.*ring"):
        load_toy2d("blob", 10)
    with pytest.raises(ValueError, match="n=0"):
        load_toy2d("ring", 0)
