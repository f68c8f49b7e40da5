"""The disturbance test as a table: every metric of an extractor on real images disturbed step by step, plus how
much a blur moves FD/KID compared with noise of the same visual damage (pixel RMS and SSIM scales).

scripts/disturbance_check.py prints it; tests/test_metrics_disturbance.py holds its monotonicity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ganlab.metrics.disturb import rms_damage, standard_disturbances
from ganlab.metrics.extractors import FeatureExtractor
from ganlab.metrics.quality import compare, extract
from ganlab.metrics.stats import FeatureStats

METRICS = ("fid", "kid", "precision", "recall", "density", "knn_coverage")


@dataclass(frozen=True)
class Row:
    """One line of the table: a disturbance at one strength, its visual damage and the metric dict."""

    disturbance: str
    strength: float
    rms: float  # pixel RMS change in grey levels
    dssim: float  # 1 - SSIM
    metrics: dict[str, Any]


def ssim(a: Tensor, b: Tensor, window: int = 7) -> float:
    """Mean SSIM (Wang et al. 2004) of two uint8 image sets (N, C, H, W), uniform window, channels averaged."""
    x, y = a.double(), b.double()
    win = min(window, x.shape[-1], x.shape[-2])
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def pool(t: Tensor) -> Tensor:
        return F.avg_pool2d(t, win, stride=1)

    mx, my = pool(x), pool(y)
    sxx, syy, sxy = pool(x * x) - mx * mx, pool(y * y) - my * my, pool(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return float(s.mean())


def disturbance_table(
    extractor: FeatureExtractor, reference: Tensor, images: Tensor, one_class: Tensor | None = None,
    kid_subsets: int = 20,
) -> list[Row]:
    """Score `images` (real, held out from `reference`) clean and under every standard disturbance."""
    real = FeatureStats.of(extract(extractor, reference)[0])
    size = min(1000, reference.shape[0], images.shape[0])

    def score(x: Tensor) -> dict[str, Any]:
        return compare(extract(extractor, x)[0], real, kid_subsets=kid_subsets, kid_subset_size=size)

    rows = [Row("clean", 0.0, 0.0, 0.0, score(images))]
    for d in standard_disturbances(one_class):
        for strength in d.strengths:
            x = d.apply(images, strength)
            rows.append(Row(d.name, float(strength), rms_damage(images, x), 1.0 - ssim(images, x), score(x)))
    return rows


def _log_interp(points: list[tuple[float, float]], x: float) -> float:
    """y at x on the log-log polyline through (x, y) points (extended linearly beyond the ends)."""
    pts = sorted(points)
    i = max(0, min(len(pts) - 2, sum(1 for p in pts if p[0] < x) - 1))
    (x0, y0), (x1, y1) = pts[i], pts[i + 1]
    ly0, ly1 = math.log(max(y0, 1e-12)), math.log(max(y1, 1e-12))
    t = (math.log(x) - math.log(x0)) / (math.log(x1) - math.log(x0))
    return math.exp(ly0 + t * (ly1 - ly0))


def blur_noise_balance(rows: list[Row], key: str = "fid", scale: str = "rms") -> dict[int, float]:
    """{box size: (metric move of the blur) / (move of Gaussian noise with the same damage)}; 1 = balanced.

    A move is the change from the clean value; damage is pixel RMS (scale="rms") or 1 - SSIM (scale="ssim").
    """
    base = rows[0].metrics[key]
    damage = (lambda r: r.rms) if scale == "rms" else (lambda r: r.dssim)
    noise = [(damage(r), r.metrics[key] - base) for r in rows if r.disturbance == "gaussian noise"]
    return {int(r.strength): (r.metrics[key] - base) / _log_interp(noise, damage(r))
            for r in rows if r.disturbance == "box blur"}


def non_monotonic(rows: list[Row], keys: tuple[str, ...] = ("fid", "kid")) -> list[str]:
    """'disturbance: key values' for every disturbance along which a key does not strictly rise from clean."""
    bad = []
    for name in dict.fromkeys(r.disturbance for r in rows[1:]):
        for key in keys:
            values = [rows[0].metrics[key]] + [r.metrics[key] for r in rows if r.disturbance == name]
            if not all(a < b for a, b in zip(values, values[1:], strict=False)):
                bad.append(f"{name}: {key} " + ", ".join(f"{v:.4g}" for v in values))
    return bad


def markdown(rows: list[Row], title: str) -> str:
    """The table as markdown: one line per disturbance step, one column per metric."""
    head = "| disturbance | strength | RMS | 1-SSIM | FD | KID | precision | recall | density | coverage |"
    lines = [f"**{title}**", "", head, "|" + "---|" * 10]
    for r in rows:
        m = r.metrics
        cells = [f"{m[k]:.4g}" if m.get(k) is not None else "-" for k in METRICS]
        lines.append(f"| {r.disturbance} | {r.strength:g} | {r.rms:.1f} | {r.dssim:.3f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def balance_line(rows: list[Row]) -> str:
    """'blur 3x3 / noise: FD 0.75 (RMS) 1.6 (SSIM) ...' for the table's caption."""
    parts = []
    for key, label in (("fid", "FD"), ("kid", "KID")):
        rms, ss = blur_noise_balance(rows, key, "rms"), blur_noise_balance(rows, key, "ssim")
        parts.append(f"{label}: " + ", ".join(f"{k}x{k} {rms[k]:.2f} (RMS) / {ss[k]:.2f} (SSIM)" for k in sorted(rms)))
    return "blur move / noise move at equal damage: " + "; ".join(parts)


def seeded_halves(images: Tensor, n: int, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Two disjoint random sets of n images each (reference, evaluated)."""
    n = min(n, images.shape[0] // 2)
    perm = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(seed))
    return images[perm[:n]], images[perm[n : 2 * n]]
