"""2-D point distributions for the playground; all live roughly inside the square [-1, 1]^2."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

_Sampler = Callable[[np.random.Generator, int], np.ndarray]
_TOY: dict[str, tuple[str, _Sampler]] = {}


def _toy(name: str, description: str) -> Callable[[_Sampler], _Sampler]:
    def wrap(fn: _Sampler) -> _Sampler:
        _TOY[name] = (description, fn)
        return fn

    return wrap


@_toy("ring", "8 Gaussians on a circle: the classic mode-collapse test")
def _ring(rng: np.random.Generator, n: int) -> np.ndarray:
    angles = rng.integers(0, 8, n) * (2 * np.pi / 8)
    centres = 0.8 * np.stack([np.cos(angles), np.sin(angles)], 1)
    return centres + rng.normal(0, 0.04, (n, 2))


@_toy("grid", "5 x 5 Gaussians on a grid")
def _grid(rng: np.random.Generator, n: int) -> np.ndarray:
    centres = np.linspace(-0.8, 0.8, 5)[rng.integers(0, 5, (n, 2))]
    return centres + rng.normal(0, 0.03, (n, 2))


@_toy("spiral", "one spiral arm winding outwards twice")
def _spiral(rng: np.random.Generator, n: int) -> np.ndarray:
    t = np.sqrt(rng.uniform(0, 1, n))  # sqrt: even density along the arm, not crowded at the centre
    angle = t * 4 * np.pi
    radius = 0.1 + 0.8 * t
    return radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], 1) + rng.normal(0, 0.02, (n, 2))


@_toy("moons", "two interleaving half circles")
def _moons(rng: np.random.Generator, n: int) -> np.ndarray:
    upper = rng.random(n) < 0.5
    t = rng.uniform(0, np.pi, n)
    x = np.where(upper, np.cos(t), 1 - np.cos(t))
    y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    pts = np.stack([x - 0.5, y - 0.25], 1) * 0.6  # centre the pair and fit it inside [-1, 1]
    return pts + rng.normal(0, 0.03, (n, 2))


@_toy("line", "a thin diagonal line segment")
def _line(rng: np.random.Generator, n: int) -> np.ndarray:
    t = rng.uniform(-0.8, 0.8, n)
    return np.stack([t, 0.5 * t], 1) + rng.normal(0, 0.01, (n, 2))


_TOY["custom"] = ("points you draw, resampled with a little jitter", lambda rng, n: np.zeros((n, 2)))


def list_toy2d() -> list[str]:
    """Names of the 2-D distributions (custom needs points=)."""
    return list(_TOY)


def toy2d_descriptions() -> dict[str, str]:
    return {name: desc for name, (desc, _) in _TOY.items()}


def _custom(rng: np.random.Generator, n: int, points: np.ndarray | None) -> np.ndarray:
    if points is None:
        raise ValueError("toy2d 'custom' needs points: an array of shape (m, 2) with at least one point")
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) == 0:
        raise ValueError(f"custom points must have shape (m, 2) with m >= 1, got {pts.shape}")
    if not np.isfinite(pts).all():
        raise ValueError("custom points must be finite numbers (no NaN or infinity)")
    spread = float(np.ptp(pts, axis=0).max()) if len(pts) > 1 else 0.0
    jitter = 0.02 * spread if spread > 0 else 0.02  # resampling alone would give G only m targets
    return pts[rng.integers(0, len(pts), n)] + rng.normal(0, jitter, (n, 2))


def load_toy2d(name: str, n: int, seed: int = 0, points: np.ndarray | None = None) -> torch.Tensor:
    """n points (n, 2) float32 from a named distribution, the same for the same seed."""
    if name not in _TOY:
        raise ValueError(f"unknown toy2d distribution {name!r}; choose one of {', '.join(_TOY)}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n={n!r}: give a positive number of points")
    rng = np.random.default_rng(seed)
    pts = _custom(rng, int(n), points) if name == "custom" else _TOY[name][1](rng, int(n))
    return torch.from_numpy(pts.astype(np.float32))

