"""Tests for ganlab.explore.latent: seeds, seed parsing, lerp/slerp properties, keyframe paths, PCA directions."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ganlab.explore.latent import keyframe_path, lerp, parse_seeds, pca_directions, slerp, z_batch, z_from_seed

# --------------------------------------------------------------------------- seeds


def test_z_from_seed_deterministic_given_seed_regardless_of_global_rng():
    torch.manual_seed(1)
    a = z_from_seed(42, 64)
    torch.manual_seed(999)
    torch.randn(1000)  # advance the global RNG
    b = z_from_seed(42, 64)
    assert torch.equal(a, b)
    assert a.shape == (64,)
    assert not torch.equal(a, z_from_seed(43, 64))


def test_z_from_seed_does_not_advance_global_rng():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    z_from_seed(7, 128)
    assert torch.equal(torch.rand(3), expected)


def test_z_from_seed_truncation_scales_toward_zero():
    full = z_from_seed(3, 32)
    assert torch.allclose(z_from_seed(3, 32, truncation=0.5), full * 0.5)
    assert torch.count_nonzero(z_from_seed(3, 32, truncation=0.0)) == 0


@pytest.mark.parametrize("bad", [-1, 1.5, "7"])
def test_z_from_seed_rejects_bad_seed(bad):
    with pytest.raises(ValueError, match="seed"):
        z_from_seed(bad, 8)


@pytest.mark.parametrize("bad", [1.5, -0.1])
def test_z_from_seed_rejects_bad_truncation(bad):
    with pytest.raises(ValueError, match="truncation"):
        z_from_seed(0, 8, truncation=bad)


def test_z_batch_rows_equal_single_seeds():
    batch = z_batch([5, 1, 5], 16)
    assert batch.shape == (3, 16)
    assert torch.equal(batch[0], z_from_seed(5, 16))
    assert torch.equal(batch[1], z_from_seed(1, 16))
    assert torch.equal(batch[0], batch[2])


# --------------------------------------------------------------------------- parse_seeds


@pytest.mark.parametrize(
    "text, expected",
    [
        ("0,3,7-9", [0, 3, 7, 8, 9]),
        (" 1 , 2 ,  4 - 5 ", [1, 2, 4, 5]),
        ("12", [12]),
        ("3-3", [3]),
        ("5,1,5", [5, 1, 5]),
        ("1,2,", [1, 2]),
    ],
)
def test_parse_seeds_cases(text, expected):
    assert parse_seeds(text) == expected


@pytest.mark.parametrize(
    "text, match",
    [
        ("1,abc,3", "'abc'"),
        ("9-7", "'9-7' runs backwards"),
        ("-3", "'-3' is negative"),
        ("1,2.5", "'2.5'"),
        ("", "no seeds"),
        (" , ", "no seeds"),
        ("1-2-3", "'1-2-3'"),
    ],
)
def test_parse_seeds_rejects_junk_naming_token(text, match):
    with pytest.raises(ValueError, match=match):
        parse_seeds(text)


def test_parse_seeds_rejects_too_many_without_expanding():
    with pytest.raises(ValueError, match="more than 100"):
        parse_seeds("0-99,100", max_count=100)
    with pytest.raises(ValueError, match="more than 10000"):
        parse_seeds("0-999999999999999")  # would exhaust memory if expanded first
    assert len(parse_seeds("0-99", max_count=100)) == 100


# --------------------------------------------------------------------------- lerp / slerp


def test_lerp_scalar_and_stacked_t():
    a, b = torch.zeros(4), torch.ones(4) * 2
    assert torch.allclose(lerp(a, b, 0.25), torch.full((4,), 0.5))
    stacked = lerp(a, b, torch.tensor([0.0, 0.5, 1.0]))
    assert stacked.shape == (3, 4)
    assert torch.equal(stacked[0], a) and torch.equal(stacked[2], b)


def test_slerp_endpoints_equal_inputs():
    a, b = z_from_seed(0, 64), z_from_seed(1, 64)
    assert torch.equal(slerp(a, b, 0.0), a)
    assert torch.equal(slerp(a, b, 1.0), b)
    path = slerp(a, b, torch.linspace(0, 1, 7))
    assert path.shape == (7, 64)
    assert torch.equal(path[0], a) and torch.equal(path[-1], b)


def test_slerp_keeps_norm_of_equal_norm_inputs_and_lerps_norms_otherwise():
    a, b = z_from_seed(0, 64), z_from_seed(1, 64)
    b = b / b.norm() * a.norm()
    mid = slerp(a, b, 0.5)
    assert math.isclose(float(mid.norm()), float(a.norm()), rel_tol=1e-5)
    # lerp would shrink the midpoint of two near-orthogonal Gaussian vectors by ~1/sqrt(2)
    assert float(lerp(a, b, 0.5).norm()) < 0.85 * float(a.norm())
    c = 3 * z_from_seed(2, 64) / z_from_seed(2, 64).norm()
    d = z_from_seed(4, 64) / z_from_seed(4, 64).norm()
    for t in (0.2, 0.5, 0.9):
        assert math.isclose(float(slerp(c, d, t).norm()), (1 - t) * 3 + t * 1, rel_tol=1e-5)


def test_slerp_midpoint_angle_is_half():
    a = torch.tensor([1.0, 0.0, 0.0])
    b = torch.tensor([0.0, 1.0, 0.0])
    mid = slerp(a, b, 0.5)
    assert torch.allclose(mid, torch.tensor([math.sqrt(0.5), math.sqrt(0.5), 0.0]), atol=1e-6)


def test_slerp_near_parallel_no_nan_and_close_to_lerp():
    a = z_from_seed(0, 32)
    b = a * (1 + 1e-7) + 1e-7
    out = slerp(a, b, torch.linspace(0, 1, 5))
    assert torch.isfinite(out).all()
    assert torch.allclose(out, lerp(a, b, torch.linspace(0, 1, 5)), atol=1e-5)
    assert torch.isfinite(slerp(a, a.clone(), 0.3)).all()


def test_slerp_antiparallel_keeps_norm_without_nan():
    a = z_from_seed(0, 16)
    out = slerp(a, -a, torch.linspace(0, 1, 9))
    assert torch.isfinite(out).all()
    assert torch.allclose(out.norm(dim=1), a.norm().expand(9), rtol=1e-5)
    assert torch.allclose(out[-1], -a)


def test_slerp_zero_vector_no_nan():
    a, zero = z_from_seed(0, 8), torch.zeros(8)
    out = slerp(a, zero, torch.linspace(0, 1, 4))
    assert torch.isfinite(out).all()
    assert torch.allclose(out, lerp(a, zero, torch.linspace(0, 1, 4)))


def test_slerp_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="equal"):
        slerp(torch.zeros(3), torch.zeros(4), 0.5)


# --------------------------------------------------------------------------- keyframe paths


@pytest.mark.parametrize("mode", ["slerp", "lerp"])
def test_keyframe_path_endpoints_and_every_keyframe_hit(mode):
    keys = z_batch([0, 1, 2, 3], 16)
    path = keyframe_path(keys, 31, mode=mode)  # 30 slots over 3 segments: 10 frames each
    assert path.shape == (31, 16)
    assert torch.equal(path[0], keys[0]) and torch.equal(path[-1], keys[-1])
    assert torch.equal(path[10], keys[1]) and torch.equal(path[20], keys[2])
    assert torch.isfinite(path).all()


def test_keyframe_path_uneven_frames_still_hits_each_key():
    keys = z_batch([0, 1, 2], 8)
    path = keyframe_path(keys, 8)
    hits = [any(torch.equal(row, k) for row in path) for k in keys]
    assert hits == [True, True, True]
    assert torch.equal(path[-1], keys[-1])


def test_keyframe_path_loop_returns_toward_start_without_repeating_it():
    keys = z_batch([0, 1, 2], 8)
    path = keyframe_path(keys, 30, loop=True)
    assert path.shape == (30, 8)
    assert torch.equal(path[0], keys[0]) and torch.equal(path[10], keys[1]) and torch.equal(path[20], keys[2])
    assert not torch.equal(path[-1], keys[0])
    # the last frame lies on the segment keys[2] -> keys[0], one step before keys[0]
    assert torch.allclose(path[-1], slerp(keys[2], keys[0], 0.9), atol=1e-6)


def test_keyframe_path_pingpong_goes_there_and_back():
    keys = z_batch([0, 1, 2], 8)
    path = keyframe_path(keys, 40, pingpong=True)  # segments 0->1->2->1->0: 10 frames each
    assert path.shape == (40, 8)
    assert torch.equal(path[0], keys[0]) and torch.equal(path[20], keys[2]) and torch.equal(path[30], keys[1])
    # the way back retraces the way out: frame i mirrors frame 40 - i
    assert all(torch.allclose(path[i], path[40 - i], atol=1e-5) for i in range(1, 40))
    assert torch.allclose(path[15], slerp(keys[1], keys[2], 0.5), atol=1e-6)
    assert torch.allclose(path[25], slerp(keys[2], keys[1], 0.5), atol=1e-6)


def test_keyframe_path_few_frames_and_single_key():
    keys = z_batch([0, 1, 2, 3, 4], 4)
    few = keyframe_path(keys, 3)  # fewer frames than keys: uniform samples, ends still exact
    assert few.shape == (3, 4)
    assert torch.equal(few[0], keys[0]) and torch.equal(few[-1], keys[-1])
    assert torch.equal(keyframe_path(keys[:1], 5), keys[:1].expand(5, -1))
    assert torch.equal(keyframe_path(keys, 1), keys[:1])


@pytest.mark.parametrize("kwargs, match", [({"mode": "cubic"}, "mode"), ({"frames": 0}, "frames")])
def test_keyframe_path_rejects_bad_arguments(kwargs, match):
    args = {"frames": 10, **kwargs}
    with pytest.raises(ValueError, match=match):
        keyframe_path(z_batch([0, 1], 4), **args)


# --------------------------------------------------------------------------- PCA directions


class FakeGenerator(nn.Module):
    """features(z) = (z @ R) * scales: PCA in feature space is axis k, i.e. z-direction R[:, k]."""

    def __init__(self, z_dim: int = 12, scales: tuple[float, ...] = (8.0, 4.0, 2.0)) -> None:
        super().__init__()
        self.z_dim = z_dim
        q, _ = torch.linalg.qr(torch.randn(z_dim, z_dim, generator=torch.Generator().manual_seed(0)))
        self.register_buffer("rotation", q)
        s = torch.full((z_dim,), 0.1)
        s[: len(scales)] = torch.tensor(scales)
        self.register_buffer("scales", s)
        self.dummy = nn.Parameter(torch.zeros(1))  # gives the module a device

    def features(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return (z @ self.rotation) * self.scales


def test_pca_directions_recover_known_axes_with_unit_sigma():
    g = FakeGenerator()
    directions, stds = pca_directions(g, num_samples=1024, num_components=3, seed=0)
    assert directions.shape == (3, 12) and stds.shape == (3,)
    assert torch.allclose(directions.norm(dim=1), torch.ones(3), atol=1e-5)
    for k in range(3):
        cos = float((directions[k] @ g.rotation[:, k]).abs())
        assert cos > 0.99, f"component {k} off by cos={cos}"
    # one sigma of component k moves z by one unit along a standard-normal axis
    assert torch.allclose(stds, torch.ones(3), atol=0.1)


def test_pca_directions_deterministic_given_seed_and_keeps_global_rng():
    g = FakeGenerator()
    torch.manual_seed(3)
    expected = torch.rand(2)
    torch.manual_seed(3)
    d1, s1 = pca_directions(g, num_samples=256, num_components=2, seed=7)
    assert torch.equal(torch.rand(2), expected)
    d2, s2 = pca_directions(g, num_samples=256, num_components=2, seed=7)
    assert torch.equal(d1, d2) and torch.equal(s1, s2)
