"""Plotly figures for training curves (pure: they return figures and never call st.*)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

DEFAULT_SMOOTHING = 0.6  # one default for every chart of losses (Train's live panel and Runs alike)
# One colour per run, one dash per metric: overlaid runs stay distinguishable in print too.
PALETTE = ("#636EFA", "#EF553B", "#00CC96", "#AB63FA", "#FFA15A", "#19D3F3", "#FF6692", "#B6E880")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
LABELS = {
    "loss_d": "D loss",
    "loss_g": "G loss",
    "d_real": "D(x)",
    "d_fake": "D(G(z))",
    "critic_real": "critic(x)",
    "critic_fake": "critic(G(z))",
    "wasserstein": "Wasserstein estimate",
    "gp": "gradient penalty",
    "fid": "FID",
    "kid": "KID",
    "img_s": "images/s",
    "ada_p": "ADA p",
    "ada_rt": "r_t (sign of D on reals)",
}


def ema(values: Sequence[float], smoothing: float) -> list[float]:
    """Debiased exponential moving average (TensorBoard style): the first points are not pulled to 0."""
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"smoothing={smoothing!r} must be from 0 to below 1")
    if smoothing == 0.0:
        return [float(v) for v in values]
    out, acc, weight = [], 0.0, 0.0
    for v in values:
        acc = smoothing * acc + (1.0 - smoothing) * float(v)
        weight = smoothing * weight + (1.0 - smoothing)
        out.append(acc / weight)
    return out


def downsample_points(xs: list[Any], ys: list[Any], max_points: int) -> tuple[list[Any], list[Any]]:
    """Every k-th point so at most max_points remain; the last point is always kept."""
    if max_points < 2:
        raise ValueError(f"max_points={max_points!r} must be at least 2")
    n = len(xs)
    if n <= max_points:
        return xs, ys
    stride = math.ceil(n / max_points)
    idx = list(range(0, n, stride))
    if idx[-1] != n - 1:
        idx[-1] = n - 1  # replace rather than append: keeps the count within max_points
    return [xs[i] for i in idx], [ys[i] for i in idx]


def series(history: Sequence[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    """(steps, values) of one metric, skipping records without it or with a non-finite value."""
    xs, ys = [], []
    for record in history:
        value = record.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            step = int(record.get("step", len(xs)))
            if xs and xs[-1] == step:  # quality records repeat the step of the loss record they extend
                ys[-1] = float(value)
                continue
            xs.append(step)
            ys.append(float(value))
    return xs, ys


def _base_layout(fig: go.Figure, title: str, y_title: str, revision: str) -> go.Figure:
    fig.update_layout(
        # The title sits in the top margin's first line and the legend in its second, so they never overlap.
        title=dict(text=title, x=0, xanchor="left", y=1, yanchor="top", pad=dict(t=6)) if title else None,
        xaxis_title="step",
        yaxis_title=y_title,
        # A constant uirevision keeps the user's zoom/pan when the figure is rebuilt on each poll.
        uirevision=revision,
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
        margin=dict(l=10, r=10, t=64 if title else 30, b=10),
        height=320,
        hovermode="x unified",
    )
    return fig


def loss_figure(
    histories: dict[str, list[dict[str, Any]]],
    keys: Sequence[str] = ("loss_d", "loss_g"),
    *,
    log_y: bool = False,
    smoothing: float = 0.0,
    max_points: int = 1500,
    title: str = "",
) -> go.Figure:
    """Overlay metrics of several runs on one step axis (EMA smoothing, downsampled, zoom kept)."""
    fig = go.Figure()
    single = len(histories) == 1
    flipped = False  # log scale cannot show values <= 0 (critic losses): plot magnitudes then
    for r, (run, history) in enumerate(histories.items()):
        for k, key in enumerate(keys):
            xs, ys = series(history, key)
            if not xs:
                continue
            ys = ema(ys, smoothing)
            if log_y and any(v <= 0 for v in ys):
                ys, flipped = [abs(v) or 1e-12 for v in ys], True
            xs, ys = downsample_points(xs, ys, max_points)
            label = LABELS.get(key, key)
            fig.add_trace(go.Scatter(
                x=xs, y=ys, mode="lines", name=label if single else f"{run} · {label}",
                line=dict(color=PALETTE[(k if single else r) % len(PALETTE)],
                          dash="solid" if single else DASHES[k % len(DASHES)], width=1.8),
            ))
    y_title = "loss" if set(keys) <= {"loss_d", "loss_g"} else ", ".join(LABELS.get(k, k) for k in keys)
    if flipped:
        y_title = f"|{y_title}| (log)"
    _base_layout(fig, title, y_title, revision=f"loss:{','.join(keys)}")
    fig.update_yaxes(type="log" if log_y else "linear")
    return fig


def quality_compare_figure(histories: dict[str, Sequence[dict[str, Any]]], x: str = "step", *,
                           metric: str = "FD", title: str = "") -> go.Figure:
    """Several runs' quality numbers (lower is better) against step or training minutes, one colour per run;
    each run's best point is marked with a star."""
    fig = go.Figure()
    for r, (run, records) in enumerate(histories.items()):
        xs = [float(rec.get("elapsed", 0.0)) / 60 if x == "elapsed" else int(rec.get("step", 0)) for rec in records]
        ys = [float(rec["fid"]) for rec in records]
        if not xs:
            continue
        colour = PALETTE[r % len(PALETTE)]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=run, line=dict(color=colour, width=1.8)))
        best = min(range(len(ys)), key=ys.__getitem__)
        fig.add_trace(go.Scatter(x=[xs[best]], y=[ys[best]], mode="markers", showlegend=False, hoverinfo="skip",
                                 marker=dict(symbol="star", size=13, color=colour, line=dict(color="white", width=1))))
    _base_layout(fig, title, f"{metric} (lower is better)", revision=f"quality-compare:{x}")
    fig.update_xaxes(title="minutes of training" if x == "elapsed" else "step")
    return fig
