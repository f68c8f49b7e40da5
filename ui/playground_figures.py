"""Plotly figures of the Playground (pure: they return figures and never call st.*)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from ganlab.toy import ToyTrainer
from ui.charts import loss_figure

LAYERS = ("Heat-map", "Real", "Generated", "G manifold", "G gradients")
REAL_COLOUR, FAKE_COLOUR = "#1e8c45", "#8a3ccf"
# GAN Lab's colours: green where D says "real", purple where it says "generated", white where it cannot tell.
FIELD_SCALE = [[0.0, "#a47fd9"], [0.5, "#f7f7f7"], [1.0, "#6cc48a"]]
DIVERGENCE_NAMES = {"kl": "KL(real ‖ generated)", "js": "JS(real, generated)"}
MAX_REAL_SHOWN = 600  # more points than this only slow the browser; the sample is random anyway
CANVAS_STEP = 0.05  # spacing of the selectable points on the drawing canvas


def _polylines(lines: Iterable[np.ndarray]) -> tuple[list[float | None], list[float | None]]:
    """Many polylines as one trace: coordinates joined with None breaks (one trace draws far faster than 30)."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for line in lines:
        xs += [*line[:, 0].tolist(), None]
        ys += [*line[:, 1].tolist(), None]
    return xs, ys


def _arrows(points: np.ndarray, directions: np.ndarray, max_length: float) -> go.Scatter:
    """Line segments from each point along its direction; the longest gets max_length, an arrowhead at the tip."""
    norms = np.linalg.norm(directions, axis=1)
    scale = max_length / norms.max() if norms.size and norms.max() > 0 else 0.0
    tips = points + directions * scale
    xs: list[float | None] = []
    ys: list[float | None] = []
    sizes: list[int] = []
    for (x0, y0), (x1, y1) in zip(points.tolist(), tips.tolist()):
        xs += [x0, x1, None]
        ys += [y0, y1, None]
        sizes += [0, 7, 0]
    return go.Scatter(
        x=xs, y=ys, mode="lines+markers", name="G's gradient", hoverinfo="skip",
        line=dict(color="#3c096c", width=1),
        # angleref="previous" turns each arrowhead along the segment that leads to it.
        marker=dict(symbol="arrow", size=sizes, angleref="previous", color="#3c096c"),
    )


def field_figure(
    trainer: ToyTrainer,
    layers: Sequence[str] = LAYERS,
    *,
    grid_n: int = 60,
    n_generated: int = 400,
    n_arrows: int = 40,
    manifold_lines: int = 11,
) -> go.Figure:
    """D's output over the plane (heat-map) with real and generated points, G's manifold and gradient arrows."""
    x0, x1, y0, y1 = trainer.bounds
    fig = go.Figure()
    if "Heat-map" in layers:
        xs, ys, values = trainer.field(grid_n)
        probabilities = trainer.config.loss == "bce"
        colour = dict(zmin=0.0, zmax=1.0) if probabilities else dict(zmid=float(np.median(values)))
        fig.add_trace(go.Heatmap(
            x=xs, y=ys, z=values, colorscale=FIELD_SCALE, zsmooth="best", name="D(x)", **colour,
            colorbar=dict(title="D(x)" if probabilities else "critic", thickness=12, len=0.8),
            hovertemplate="x %{x:.2f}, y %{y:.2f}<br>D %{z:.3f}<extra></extra>",
        ))
    if "G manifold" in layers:
        mx, my = _polylines(trainer.manifold(manifold_lines))
        fig.add_trace(go.Scatter(x=mx, y=my, mode="lines", name="G(noise grid)", hoverinfo="skip",
                                 line=dict(color="rgba(123, 44, 191, 0.35)", width=1)))
    if "Real" in layers:
        real = trainer.real.numpy()[:MAX_REAL_SHOWN]
        fig.add_trace(go.Scatter(x=real[:, 0], y=real[:, 1], mode="markers", name="real",
                                 marker=dict(color=REAL_COLOUR, size=4, opacity=0.8)))
    if "Generated" in layers:
        fake = trainer.generated(n_generated)
        fig.add_trace(go.Scatter(x=fake[:, 0], y=fake[:, 1], mode="markers", name="generated",
                                 marker=dict(color=FAKE_COLOUR, size=4, opacity=0.85)))
    if "G gradients" in layers:
        points, directions = trainer.g_gradients(n_arrows)
        fig.add_trace(_arrows(points, directions, max_length=0.06 * (x1 - x0)))
    fig.update_layout(
        height=560, margin=dict(l=10, r=10, t=30, b=10), uirevision="playground-field",
        legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0),
    )
    # Fixed axes (the trainer's view) so points that fly off do not rescale the plane under the user's eyes.
    fig.update_xaxes(range=[x0, x1], showgrid=False, zeroline=False)
    fig.update_yaxes(range=[y0, y1], showgrid=False, zeroline=False, scaleanchor="x", scaleratio=1)
    return fig


def history_figures(trainer: ToyTrainer, smoothing: float = 0.0) -> tuple[go.Figure, go.Figure]:
    """(losses of D and G, KL and JS over iterations)."""
    losses = loss_figure({"playground": list(trainer.history)}, smoothing=smoothing, title="Losses")
    divergences = loss_figure({"playground": list(trainer.divergence_history)}, keys=("kl", "js"),
                              title="Real vs generated densities")
    divergences.for_each_trace(lambda t: t.update(name=DIVERGENCE_NAMES.get(t.name, t.name)))
    divergences.update_layout(yaxis_title="nats")
    for fig in (losses, divergences):
        fig.update_layout(height=280, margin=dict(t=70))  # room for the title above the legend
    return losses, divergences


def canvas_figure(drawn: Sequence[Sequence[float]], *, step: float = CANVAS_STEP) -> go.Figure:
    """A blank plane of faint selectable points (click, box or lasso them) with the points drawn so far."""
    ticks = np.round(np.arange(-1.0, 1.0 + step / 2, step), 4)
    gx, gy = np.meshgrid(ticks, ticks)
    fig = go.Figure(go.Scatter(x=gx.ravel(), y=gy.ravel(), mode="markers", name="canvas", hoverinfo="none",
                               marker=dict(color="rgba(150, 150, 150, 0.35)", size=6)))
    if len(drawn):
        pts = np.asarray(drawn, dtype=float)
        fig.add_trace(go.Scatter(x=pts[:, 0], y=pts[:, 1], mode="markers", name="your points",
                                 marker=dict(color=REAL_COLOUR, size=7)))
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=10, b=10), dragmode="lasso", showlegend=False,
                      uirevision="playground-canvas")
    fig.update_xaxes(range=[-1.1, 1.1], showgrid=False, zeroline=False)
    fig.update_yaxes(range=[-1.1, 1.1], showgrid=False, zeroline=False, scaleanchor="x", scaleratio=1)
    return fig


def selected_points(selection: Any) -> list[tuple[float, float]]:
    """(x, y) pairs of a plotly selection event (st.plotly_chart's on_select state), rounded to the canvas grid."""
    points = (selection or {}).get("selection", {}).get("points", []) if isinstance(selection, dict) else []
    out = []
    for p in points:
        try:
            out.append((round(float(p["x"]), 4), round(float(p["y"]), 4)))
        except (KeyError, TypeError, ValueError):
            continue  # a malformed event point is simply not added
    return out
