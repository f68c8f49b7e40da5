"""Differentiable augmentation of everything D sees: DiffAugment (Zhao et al. 2020) and ADA (Karras et al. 2020).

Both augment real and fake images alike, with operations that are differentiable with respect to the
image (indexing, masks and affine colour maps), so G's gradient flows through them. D then learns what
real images look like under the augmentation, and G, which is judged through the same augmentation,
still has to produce un-augmented images: nothing leaks as long as the augmentation is invertible in
distribution (Karras et al. sec. 2), which is why 90-degree turns and flips are offered for ADA only,
where they are applied with a probability p < 1.

- DiffAugment applies every chosen part to every image, with fresh parameters per image.
- ADA applies each part to each image with probability p; p starts at 0 and every `interval` iterations
  moves by sign(r_t - target) * images / (kimg * 1000), where r_t = E[sign(D(x_real))] over those
  iterations (the overfitting heuristic of Karras et al.).

All random numbers come from this object's own generator and the number drawn per call does not depend
on p, so a run is reproducible from its seed and resumable bit for bit. p lives on the device and is
updated there: no host synchronisation per step.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

TRANSLATE = 0.125  # largest shift, as a fraction of the side (both papers)
CUTOUT = 0.5  # side of the cut-out square, as a fraction of the image side (DiffAugment)
ORDER = ("flip", "rotate90", "color", "translation", "cutout")  # application order of the parts


def _reflect(index: Tensor, size: int) -> Tensor:
    """Indices outside 0..size-1 mirrored back inside (shifts are at most size/8, so one mirror suffices)."""
    index = index.abs()
    return torch.where(index > size - 1, 2 * (size - 1) - index, index)


def translate(x: Tensor, dy: Tensor, dx: Tensor, padding: str) -> Tensor:
    """x (N, C, H, W) shifted by whole pixels dy, dx (N,) each; the uncovered border is zeros or reflected."""
    n, c, h, w = x.shape
    rows = torch.arange(h, device=x.device)[None, :] - dy[:, None]  # (N, H): source row of each output row
    cols = torch.arange(w, device=x.device)[None, :] - dx[:, None]  # (N, W)
    if padding == "reflect":
        rows, cols = _reflect(rows, h), _reflect(cols, w)
    out = x.gather(2, rows.clamp(0, h - 1)[:, None, :, None].expand(n, c, h, w))
    out = out.gather(3, cols.clamp(0, w - 1)[:, None, None, :].expand(n, c, h, w))
    if padding == "zeros":  # 0 is mid-grey for images in [-1, 1]
        inside = ((rows >= 0) & (rows < h))[:, None, :, None] & ((cols >= 0) & (cols < w))[:, None, None, :]
        out = out * inside.to(out.dtype)  # (N, 1, H, W) broadcast over channels
    return out


def rotate90(x: Tensor, k: Tensor) -> Tensor:
    """x (N, C, H, H) turned by k[i] (N,) quarter turns each (square images)."""
    k = k.view(-1, 1, 1, 1)
    out = torch.where(k == 1, x.rot90(1, (2, 3)), x)
    out = torch.where(k == 2, x.rot90(2, (2, 3)), out)
    return torch.where(k == 3, x.rot90(3, (2, 3)), out)


def colour(x: Tensor, brightness: Tensor, saturation: Tensor, contrast: Tensor) -> Tensor:
    """x (N, C, H, W) + brightness, saturation scaled around the pixel's channel mean, contrast around the
    image mean; each parameter has shape (N,). Identity for brightness 0, saturation 1, contrast 1."""
    b, s, c = (v.view(-1, 1, 1, 1).to(x.dtype) for v in (brightness, saturation, contrast))
    # Written as x + (factor - 1) * (x - centre): an image whose parameters are the identity comes out bit-exact.
    x = x + b
    grey = x.mean(dim=1, keepdim=True)  # (N, 1, H, W); greyscale images are unchanged by saturation
    x = x + (s - 1) * (x - grey)
    mean = x.mean(dim=(1, 2, 3), keepdim=True)  # (N, 1, 1, 1)
    return x + (c - 1) * (x - mean)


def cutout(x: Tensor, cy: Tensor, cx: Tensor, keep: Tensor) -> Tensor:
    """x (N, C, H, W) with a square of side H/2 around (cy, cx) (N,) set to 0, except where keep (N,) is True."""
    n, _, h, w = x.shape
    sh, sw = int(h * CUTOUT + 0.5), int(w * CUTOUT + 0.5)
    rows = torch.arange(h, device=x.device)[None, :] - (cy[:, None] - sh // 2)  # (N, H): 0..sh-1 inside
    cols = torch.arange(w, device=x.device)[None, :] - (cx[:, None] - sw // 2)
    hole = ((rows >= 0) & (rows < sh))[:, :, None] & ((cols >= 0) & (cols < sw))[:, None, :]  # (N, H, W)
    hole = hole & ~keep.view(n, 1, 1)
    return x * (~hole)[:, None].to(x.dtype)


class Augmenter:
    """Augments batches for D (`augmenter(x)`) and, for ADA, adapts p from D's scores on reals."""

    def __init__(self, method: str, parts: tuple[str, ...], *, device: torch.device, seed: int,
                 target: float = 0.6, interval: int = 4, kimg: float = 50.0) -> None:
        if method not in ("diffaugment", "ada"):
            raise ValueError(f"augment={method!r}: choose diffaugment or ada")
        self.method, self.parts = method, tuple(p for p in ORDER if p in parts)
        self.target, self.interval, self.kimg = float(target), int(interval), float(kimg)
        self.device = torch.device(device)
        self.generator = torch.Generator(device=self.device).manual_seed(int(seed))
        # DiffAugment: every part always. ADA: p starts at 0 (Karras et al.) and adapts.
        self.p = torch.tensor(1.0 if method == "diffaugment" else 0.0, device=self.device)
        self.rt = torch.zeros((), device=self.device)  # the latest r_t, for the metrics
        self._sign_sum = torch.zeros((), device=self.device)  # sum of sign(D(x_real)) since the last adjustment
        self._count = 0  # real scores summed there (a plain count: no host sync to read it)

    # ---------------------------------------------------------------- random draws (a fixed number per call)
    def _uniform(self, n: int) -> Tensor:
        return torch.rand(n, device=self.device, generator=self.generator)

    def _normal(self, n: int) -> Tensor:
        return torch.randn(n, device=self.device, generator=self.generator)

    def _ints(self, low: int, high: int, n: int) -> Tensor:
        return torch.randint(low, high, (n,), device=self.device, generator=self.generator)

    def _applied(self, n: int) -> Tensor:
        """Which images (N,) get the next part: each with probability p (ADA), all of them (DiffAugment)."""
        if self.method == "ada":
            return self._uniform(n) < self.p
        return torch.ones(n, dtype=torch.bool, device=self.device)

    def __call__(self, x: Tensor) -> Tensor:
        """x (N, C, H, W) -> augmented (N, C, H, W), differentiable with respect to x."""
        n, _, h, w = x.shape
        ada = self.method == "ada"
        for part in self.parts:
            on = self._applied(n)
            if part == "flip":
                flip = (self._ints(0, 2, n) == 1) & on
                x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
            elif part == "rotate90":
                if h != w:
                    raise ValueError(f"rotate90 needs square images, got {h}x{w}")
                x = rotate90(x, self._ints(0, 4, n) * on)
            elif part == "translation":
                sy, sx = int(h * TRANSLATE + 0.5), int(w * TRANSLATE + 0.5)
                dy, dx = self._ints(-sy, sy + 1, n) * on, self._ints(-sx, sx + 1, n) * on
                # DiffAugment pads with zeros (its paper's choice); ADA's integer translation reflects.
                x = translate(x, dy, dx, "reflect" if ada else "zeros")
            elif part == "color":
                x = self._colour(x, n, on)
            elif part == "cutout":
                cy, cx = self._ints(0, h, n), self._ints(0, w, n)
                x = cutout(x, cy, cx, keep=~on)
        return x

    def _colour(self, x: Tensor, n: int, on: Tensor) -> Tensor:
        if self.method == "diffaugment":  # DiffAugment: brightness U(-0.5, 0.5), saturation U(0, 2), contrast U(0.5, 1.5)
            return colour(x, self._uniform(n) - 0.5, self._uniform(n) * 2, self._uniform(n) + 0.5)
        # ADA: brightness N(0, 0.2), saturation 2^N(0, 1), contrast 2^N(0, 0.5), each with its own coin.
        b = torch.where(on, self._normal(n) * 0.2, 0.0)
        on_s, on_c = self._uniform(n) < self.p, self._uniform(n) < self.p
        s = torch.where(on_s, torch.exp2(self._normal(n)), 1.0)
        c = torch.where(on_c, torch.exp2(self._normal(n) * 0.5), 1.0)
        return colour(x, b, s, c)

    # ---------------------------------------------------------------- ADA's adaptation of p
    def observe(self, real_signs: Tensor) -> None:
        """Accumulate sign(D(x_real)) (N,) of one D update (ADA only; detached)."""
        if self.method == "ada":
            self._sign_sum = self._sign_sum + real_signs.detach().float().sum()
            self._count += real_signs.numel()

    def end_iteration(self, step: int) -> None:
        """After iteration `step`: every `interval` iterations, move p towards keeping r_t at the target."""
        if self.method != "ada" or step % self.interval or not self._count:
            return
        self.rt = self._sign_sum / self._count
        adjust = torch.sign(self.rt - self.target) * (self._count / (self.kimg * 1000))
        self.p = (self.p + adjust).clamp(0.0, 1.0)
        self._sign_sum = torch.zeros((), device=self.device)
        self._count = 0

    def stats(self) -> dict[str, Tensor]:
        """0-dim tensors for the metrics records: ADA's p and r_t ({} for DiffAugment, where p is 1)."""
        return {"ada_p": self.p, "ada_rt": self.rt} if self.method == "ada" else {}

    def state_dict(self) -> dict[str, Any]:
        return {"p": self.p.clone(), "rt": self.rt.clone(), "sign_sum": self._sign_sum.clone(),
                "count": self._count, "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.p = state["p"].to(self.device, torch.float32)
        self.rt = state["rt"].to(self.device, torch.float32)
        self._sign_sum = state["sign_sum"].to(self.device, torch.float32)
        self._count = int(state["count"])
        self.generator.set_state(state["generator"])
