"""ToyConfig (the playground's settings as a frozen value), its presets, and the CSV reader for user point sets."""

from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from ganlab.config.fields import ConfigError, check_choice, check_float_range, check_int_range, check_positive
from ganlab.toy.points import list_toy2d

TOY_LOSSES = ("bce", "lsgan", "wgan-gp")
NOISES = ("gaussian", "uniform")
OPTIMIZERS = ("adam", "sgd")
MAX_LAYERS, MAX_WIDTH = 6, 512
MAX_POINTS = 20_000  # a user point set larger than this is not a sketch any more; keeps configs cheap to compare


def _hidden(name: str, value: object) -> None:
    sizes = tuple(value) if isinstance(value, (tuple, list)) else ()
    if not 1 <= len(sizes) <= MAX_LAYERS or any(
            isinstance(s, bool) or not isinstance(s, (int, np.integer)) or not 1 <= s <= MAX_WIDTH for s in sizes):
        raise ConfigError(f"{name}={value!r}: give 1 to {MAX_LAYERS} layer widths, each from 1 to {MAX_WIDTH}")


@dataclass(frozen=True)
class ToyConfig:
    """One 2-D GAN experiment: data, networks, objective and optimisation (all CPU, all tiny)."""

    distribution: str = "ring"  # a toy2d name (see ganlab.data.list_toy2d()); "custom" uses `points`
    points: tuple[tuple[float, float], ...] | None = None  # the user's point set for "custom"
    n_real: int = 1000  # size of the fixed real sample the batches are drawn from
    z_dim: int = 2  # noise dimension: 1 (G maps a line) or 2 (G maps a plane)
    noise: str = "gaussian"  # gaussian N(0, 1) or uniform U(-1, 1) noise
    g_hidden: tuple[int, ...] = (64, 64)  # generator hidden layer widths
    d_hidden: tuple[int, ...] = (64, 64)  # discriminator hidden layer widths
    loss: str = "bce"  # one of TOY_LOSSES
    gp_lambda: float = 10.0  # gradient-penalty weight (wgan-gp only)
    optimizer: str = "adam"  # adam or sgd
    lr_g: float = 1e-3  # generator learning rate
    lr_d: float = 1e-3  # discriminator learning rate
    d_steps: int = 1  # discriminator updates per iteration
    g_steps: int = 1  # generator updates per iteration
    batch: int = 256  # points per update (real and generated alike)
    seed: int = 0  # one seed for the real sample, the initial weights, the noise and the batches

    def __post_init__(self) -> None:
        check_choice("distribution", self.distribution, tuple(list_toy2d()))
        if self.distribution == "custom":
            object.__setattr__(self, "points", check_points(self.points))
        elif self.points is not None:
            raise ConfigError(f"points are only used with distribution='custom', not {self.distribution!r}")
        check_int_range("n_real", self.n_real, 16, 50_000)
        check_int_range("z_dim", self.z_dim, 1, 2)
        check_choice("noise", self.noise, NOISES)
        _hidden("g_hidden", self.g_hidden)
        _hidden("d_hidden", self.d_hidden)
        object.__setattr__(self, "g_hidden", tuple(int(s) for s in self.g_hidden))
        object.__setattr__(self, "d_hidden", tuple(int(s) for s in self.d_hidden))
        check_choice("loss", self.loss, TOY_LOSSES)
        check_float_range("gp_lambda", self.gp_lambda, 0.0, 1000.0)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_positive("lr_g", self.lr_g, upper=1.0)
        check_positive("lr_d", self.lr_d, upper=1.0)
        check_int_range("d_steps", self.d_steps, 1, 20)
        check_int_range("g_steps", self.g_steps, 1, 20)
        check_int_range("batch", self.batch, 2, 4096)
        check_int_range("seed", self.seed, 0, 2**63 - 1)

    def replace(self, **changes: Any) -> "ToyConfig":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def check_points(points: object) -> tuple[tuple[float, float], ...]:
    """A user point set as a tuple of (x, y) floats; anything else is a ConfigError naming the problem."""
    if points is None:
        raise ConfigError("distribution='custom' needs points: draw some or upload a CSV with x,y columns")
    try:
        array = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError("points must be pairs of numbers (x, y)") from None
    if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0:
        raise ConfigError(f"points must have shape (m, 2) with m >= 1, got {array.shape}")
    if len(array) > MAX_POINTS:
        raise ConfigError(f"{len(array)} points is too many; use at most {MAX_POINTS}")
    if not np.isfinite(array).all():
        raise ConfigError("points must be finite numbers (no NaN or infinity)")
    return tuple((float(x), float(y)) for x, y in array)


def parse_points_csv(data: bytes | str) -> np.ndarray:
    """(m, 2) float array from CSV text with x and y columns (a header row naming them, or two bare columns)."""
    text = data.decode("utf-8-sig", errors="replace") if isinstance(data, bytes) else data
    rows = [r for r in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in r)]
    if not rows:
        raise ConfigError("the CSV file is empty: give one point per line as x,y (a header row x,y is optional)")
    header = [cell.strip().lower() for cell in rows[0]]
    if "x" in header and "y" in header:
        ix, iy, rows = header.index("x"), header.index("y"), rows[1:]
    elif len(header) == 2 and not _is_number(header[0]):
        raise ConfigError(f"CSV header {rows[0]!r} must name the columns x and y")
    else:
        ix, iy = 0, 1
    points = []
    for line, row in enumerate(rows, start=2 if "x" in header else 1):
        try:
            points.append((float(row[ix]), float(row[iy])))
        except (IndexError, ValueError):
            raise ConfigError(f"CSV line {line}: {','.join(row)!r} is not a pair of numbers x,y") from None
    if not points:
        raise ConfigError("the CSV file has a header but no points")
    return np.asarray(check_points(points), dtype=np.float64)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# Presets reproduce classic behaviours within a few hundred iterations (tests/test_toy.py counts ring modes).
_COLLAPSE: dict[str, Any] = dict(
    distribution="ring", z_dim=2, noise="gaussian", loss="bce", optimizer="adam", batch=256, seed=0,
    # A small G moved fast (high lr, 3 updates per D update) chases D's current favourite spot: it hops
    # from mode to mode, covering 1-2 of the 8 at any time.
    g_hidden=(16,), d_hidden=(64, 64), lr_g=1e-2, lr_d=1e-3, d_steps=1, g_steps=3,
)
TOY_PRESETS: dict[str, dict[str, Any]] = {
    "Mode collapse (ring, BCE)": _COLLAPSE,
    # The same generator and G schedule; only the objective and the critic's schedule change (n_critic 5).
    # lambda=1, not the paper's 10: our points live in [-1, 1], so the Wasserstein term is ~10x smaller than
    # on the paper's data and lambda=10 flattens the critic into a ramp (2 of 8 modes after 300 iterations);
    # with lambda=1 it grows a ridge per mode and G covers all 8 within ~200 iterations.
    "Recovery with WGAN-GP": {**_COLLAPSE, "loss": "wgan-gp", "gp_lambda": 1.0, "d_steps": 5, "lr_d": 5e-3},
    "Two moons": dict(distribution="moons", z_dim=2, noise="gaussian", loss="bce", optimizer="adam", batch=256,
                      seed=0, g_hidden=(64, 64), d_hidden=(64, 64), lr_g=1e-3, lr_d=1e-3, d_steps=1, g_steps=1),
    # 1-D noise: G bends a single line into the spiral arm, the clearest view of the learnt mapping.
    "Spiral (1-D noise)": dict(distribution="spiral", z_dim=1, noise="uniform", loss="wgan-gp", gp_lambda=1.0,
                               optimizer="adam", batch=256, seed=0, g_hidden=(64, 64, 64), d_hidden=(64, 64),
                               lr_g=1e-3, lr_d=5e-3, d_steps=5, g_steps=1),
}
