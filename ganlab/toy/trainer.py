"""ToyTrainer: a 2-D GAN stepped one D or G update at a time, plus everything the playground draws from it."""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import torch
from torch import Tensor

from ganlab.device import one_thread
from ganlab.nets.mlp import MLPDiscriminator, MLPGenerator
from ganlab.toy.config import ToyConfig
from ganlab.toy.divergence import (
    Bounds,
    density_grid,
    grid_axes,
    js_divergence,
    kl_divergence,
)
from ganlab.toy.points import load_toy2d
from ganlab.train.losses import get_loss, gradient_penalty

HISTORY_MAX = 5000  # records kept (one per iteration / single step); older ones are dropped
LIVE_FIELDS = ("lr_g", "lr_d", "d_steps", "g_steps", "gp_lambda", "batch")  # changeable without a reset
DISPLAY_SEED_OFFSET = 7919  # display noise has its own stream, so drawing never shifts the training batches
_F = TypeVar("_F", bound=Callable[..., Any])


def _single_threaded(fn: _F) -> _F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with one_thread():
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class ToyTrainer:
    """Owns G, D, their optimisers and a fixed real sample; CPU only, no threads, deterministic given the seed."""

    def __init__(self, config: ToyConfig) -> None:
        self.config = config
        self.loss = get_loss(config.loss)
        self.real = load_toy2d(config.distribution, config.n_real, config.seed,
                               np.asarray(config.points) if config.points is not None else None)  # (N, 2)
        self.bounds = _view_bounds(self.real)
        # Weights from a private RNG state: the same seed gives the same nets and the global RNG is untouched.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.G = MLPGenerator(config.z_dim, (2,), config.g_hidden, out_activation="none")
            self.D = MLPDiscriminator((2,), config.d_hidden)
        self.opt_g = self._optimizer(self.G.parameters(), config.lr_g)
        self.opt_d = self._optimizer(self.D.parameters(), config.lr_d)
        self.rng = torch.Generator().manual_seed(config.seed)  # batches, noise and GP mixing weights
        self.iteration = 0  # completed full iterations (d_steps D updates + g_steps G updates)
        self.d_updates = 0
        self.g_updates = 0
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY_MAX)
        self.divergence_history: deque[dict[str, Any]] = deque(maxlen=HISTORY_MAX)
        self._last: dict[str, float] = {}

    def _optimizer(self, params: Any, lr: float) -> torch.optim.Optimizer:
        if self.config.optimizer == "sgd":
            return torch.optim.SGD(params, lr=lr)
        # WGAN-GP's authors use beta2=0.9 (the critic moves fast); beta1=0.5 is the usual GAN choice.
        return torch.optim.Adam(params, lr=lr, betas=(0.5, 0.9 if self.config.loss == "wgan-gp" else 0.999))

    # ---- noise and samples
    def noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """(n, z_dim) noise from the configured distribution."""
        gen = generator or self.rng
        if self.config.noise == "uniform":
            return torch.rand(n, self.config.z_dim, generator=gen) * 2 - 1
        return torch.randn(n, self.config.z_dim, generator=gen)

    def _display_noise(self, n: int) -> Tensor:
        # The same noise on every call, so the drawn samples move smoothly as G trains instead of flickering.
        return self.noise(n, torch.Generator().manual_seed(self.config.seed + DISPLAY_SEED_OFFSET))

    def _real_batch(self) -> Tensor:
        idx = torch.randint(0, len(self.real), (self.config.batch,), generator=self.rng)
        return self.real[idx]  # (B, 2)

    # ---- updates
    def _d_update(self) -> dict[str, float]:
        real = self._real_batch()
        with torch.no_grad():
            fake = self.G(self.noise(self.config.batch))  # (B, 2)
        real_s, fake_s = self.D(real), self.D(fake)  # (B,)
        loss = self.loss.d_loss(real_s, fake_s)
        stats = {k: float(v) for k, v in self.loss.d_stats(real_s, fake_s).items()}
        if self.loss.uses_gradient_penalty and self.config.gp_lambda > 0:
            gp = gradient_penalty(self.D, real, fake, generator=self.rng)  # works on (B, 2): eps is (B, 1)
            loss = loss + self.config.gp_lambda * gp
            stats["gp"] = float(gp.detach())
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        self.d_updates += 1
        return {"loss_d": float(loss.detach()), **stats}

    def _g_update(self) -> dict[str, float]:
        fake = self.G(self.noise(self.config.batch))  # (B, 2)
        loss = self.loss.g_loss(self.D(fake))
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()  # D's grads from this pass are never applied: opt_d zeroes them before its next step
        self.g_updates += 1
        return {"loss_g": float(loss.detach())}

    def _record(self, stats: dict[str, float]) -> dict[str, Any]:
        self._last.update(stats)
        record = {"step": self.iteration, "d_updates": self.d_updates, "g_updates": self.g_updates, **self._last}
        self.history.append(record)
        return record

    @_single_threaded
    def step_d(self) -> dict[str, Any]:
        """One discriminator update alone; returns the history record."""
        return self._record(self._d_update())

    @_single_threaded
    def step_g(self) -> dict[str, Any]:
        """One generator update alone; returns the history record."""
        return self._record(self._g_update())

    @_single_threaded
    def step(self) -> dict[str, Any]:
        """One iteration: d_steps discriminator updates, then g_steps generator updates."""
        stats: dict[str, float] = {}
        for _ in range(self.config.d_steps):
            stats.update(self._d_update())
        for _ in range(self.config.g_steps):
            stats.update(self._g_update())
        self.iteration += 1
        return self._record(stats)

    @_single_threaded
    def run(self, iterations: int) -> None:
        """Several iterations in a row (what a refresh of the playing view does)."""
        for _ in range(int(iterations)):
            self.step()

    def update(self, config: ToyConfig) -> bool:
        """Apply a config that differs only in LIVE_FIELDS without losing progress; False if a reset is needed."""
        structural = {f: v for f, v in vars(config).items() if f not in LIVE_FIELDS}
        if structural != {f: v for f, v in vars(self.config).items() if f not in LIVE_FIELDS}:
            return False
        for group in self.opt_g.param_groups:
            group["lr"] = config.lr_g
        for group in self.opt_d.param_groups:
            group["lr"] = config.lr_d
        self.config = config
        return True

    # ---- views
    @_single_threaded
    @torch.no_grad()
    def field(self, grid_n: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(xs (n,), ys (n,), D over the grid (n, n) [row = y]): probabilities for bce, raw scores otherwise."""
        xs, ys = grid_axes(self.bounds, grid_n)
        gx, gy = np.meshgrid(xs, ys)  # (n, n) each, row = y
        pts = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32))  # (n*n, 2)
        scores = self.D(pts)
        if self.config.loss == "bce":
            scores = torch.sigmoid(scores)
        return xs, ys, scores.reshape(grid_n, grid_n).numpy().astype(np.float64)

    @_single_threaded
    @torch.no_grad()
    def generated(self, n: int = 500) -> np.ndarray:
        """(n, 2) generated points from fixed display noise."""
        return self.G(self._display_noise(n)).numpy().astype(np.float64)

    @_single_threaded
    @torch.no_grad()
    def manifold(self, grid_n: int = 15) -> list[np.ndarray]:
        """G applied to a line (z_dim 1) or to the lines of a grid (z_dim 2) of noise: polylines (k, 2)."""
        lim = 1.0 if self.config.noise == "uniform" else 2.5  # 2.5 sigma holds ~99% of Gaussian noise per axis
        t = torch.linspace(-lim, lim, max(2 * grid_n, 20))
        if self.config.z_dim == 1:
            return [self.G(t[:, None]).numpy().astype(np.float64)]
        lines = []
        for c in torch.linspace(-lim, lim, grid_n):
            for z in (torch.stack([t, torch.full_like(t, c)], 1), torch.stack([torch.full_like(t, c), t], 1)):
                lines.append(self.G(z).numpy().astype(np.float64))  # (k, 2)
        return lines

    @_single_threaded
    def g_gradients(self, n: int = 100) -> tuple[np.ndarray, np.ndarray]:
        """(points (n, 2), -dL_G/dx (n, 2)): where G's loss wants each displayed sample to move."""
        with torch.no_grad():
            x = self.G(self._display_noise(n))
        x.requires_grad_(True)
        # g_loss is a mean over samples: times n, each row of the gradient is that sample's own gradient.
        loss = self.loss.g_loss(self.D(x)) * n
        (grad,) = torch.autograd.grad(loss, x)
        self.D.zero_grad(set_to_none=True)
        return x.detach().numpy().astype(np.float64), (-grad).numpy().astype(np.float64)

    @_single_threaded
    def divergences(self, grid_n: int = 64, n: int | None = None) -> dict[str, float]:
        """KL(real || gen) and JS(real, gen) in nats from KDE densities on a grid over the view (see divergence.py)."""
        n = n or self.config.n_real
        # Bandwidth of two grid cells: finer is noisy with ~1000 points, coarser blurs the ring's modes together.
        bandwidth = 2 * (self.bounds[1] - self.bounds[0]) / grid_n
        p = density_grid(self.real.numpy(), self.bounds, grid_n, bandwidth)
        gen = self.generated(n)
        if not np.isfinite(gen).all():
            return {"kl": float("nan"), "js": float("nan")}
        q = density_grid(gen, self.bounds, grid_n, bandwidth)
        return {"kl": kl_divergence(p, q), "js": js_divergence(p, q)}

    def record_divergences(self, grid_n: int = 64) -> dict[str, Any]:
        """Estimate divergences now and append them to divergence_history (once per model state)."""
        state = (self.iteration, self.d_updates, self.g_updates)
        last = self.divergence_history[-1] if self.divergence_history else None
        if last is not None and last["state"] == state:
            return last
        record = {"step": self.iteration, "state": state, **self.divergences(grid_n)}
        self.divergence_history.append(record)
        return record


def _view_bounds(real: Tensor, margin: float = 0.1) -> Bounds:
    """A square view holding [-1, 1]^2 and all real points, plus a margin (fixed for the trainer's life)."""
    lo = min(float(real.min()), -1.0)
    hi = max(float(real.max()), 1.0)
    pad = margin * (hi - lo)  # 0.2 for the built-in sets: the view is [-1.2, 1.2]^2
    return (lo - pad, hi + pad, lo - pad, hi + pad)
