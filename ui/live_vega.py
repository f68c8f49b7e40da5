"""The live panel's curves as Vega-Lite: a fixed spec and a data table, so a refresh only swaps the table.

Why not Plotly here: Streamlit redraws a Plotly chart whose figure changed (every refresh while a job trains)
with a full Plotly.react pass, which kept Chromium busy ~0.25 core per watching tab on the 2-core machine. A
Vega-Lite chart whose spec is unchanged keeps its view and only replaces its dataset (Streamlit's frontend),
then redraws its SVG (a canvas measured no cheaper: docs/architecture.md). Pure: these functions build specs
and tables and never call st.* (the Runs page keeps the interactive Plotly figures of ui/charts.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from ui.charts import LABELS, PALETTE, downsample_points, ema, series

CHART_HEIGHT = 320  # pixels of the whole chart (title, legend and axes included), as the Plotly charts had
GP = LABELS["gp"]


def curve_table(history: Sequence[dict[str, Any]], keys: Sequence[str], *, smoothing: float = 0.0,
                max_points: int = 600, magnitudes: bool = False) -> pd.DataFrame:
    """Long table (step, value, series) of the metrics in keys: smoothed, downsampled, in the order of keys.
    magnitudes: |value| (a log axis cannot show values <= 0, e.g. a critic's loss)."""
    rows: dict[str, list] = {"step": [], "value": [], "series": []}
    for key in keys:
        xs, ys = series(history, key)
        if not xs:
            continue
        ys = ema(ys, smoothing)
        if magnitudes:
            ys = [abs(v) or 1e-12 for v in ys]
        xs, ys = downsample_points(xs, ys, max_points)
        rows["step"] += xs
        rows["value"] += ys
        rows["series"] += [LABELS.get(key, key)] * len(xs)
    return pd.DataFrame(rows)


def _lines(labels: Sequence[str], colours: Sequence[str], y: dict[str, Any]) -> dict[str, Any]:
    return {
        "mark": {"type": "line", "strokeWidth": 1.8, "clip": True},
        "encoding": {
            "x": {"field": "step", "type": "quantitative", "title": "step"},
            "y": {"field": "value", "type": "quantitative", **y},
            "color": {"field": "series", "type": "nominal", "sort": list(labels),
                      "scale": {"domain": list(labels), "range": list(colours)},
                      "legend": {"orient": "top", "title": None}},
            "tooltip": [{"field": "series", "title": " "}, {"field": "step", "format": ","},
                        {"field": "value", "format": ".4g"}],
        },
    }


def _spec(title: str, layers: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    # Drag to pan and wheel to zoom the step axis; the view (and so the zoom) survives the data swaps.
    layers[0]["params"] = [{"name": "zoom", "select": {"type": "interval", "encodings": ["x"]}, "bind": "scales"}]
    return {"title": {"text": title, "anchor": "start"}, "layer": layers,
            "autosize": {"type": "fit", "contains": "padding"}, **extra}  # axes and legend inside the column


def loss_spec(keys: Sequence[str] = ("loss_d", "loss_g"), *, log_y: bool = False, title: str = "Losses",
              magnitudes: bool = False) -> dict[str, Any]:
    """Vega-Lite spec of metrics against step, one colour per metric (curve_table's series)."""
    labels = [LABELS.get(k, k) for k in keys]
    y_title = "loss" if set(keys) <= {"loss_d", "loss_g"} else ", ".join(labels)
    if magnitudes:
        y_title = f"|{y_title}| (log)"
    y = {"title": y_title, "scale": {"type": "log"} if log_y else {"zero": False}}
    return _spec(title, [_lines(labels, PALETTE[:len(labels)], y)])


def score_keys(history: Sequence[dict[str, Any]]) -> tuple[str, ...]:
    """D(x) and D(G(z)) for BCE-style losses; critic scores, Wasserstein estimate and gradient penalty otherwise."""
    if any("d_real" in r for r in history):
        return ("d_real", "d_fake")
    return ("critic_real", "critic_fake", "wasserstein", "gp")


def scores_spec(keys: Sequence[str], *, title: str = "Discriminator outputs") -> dict[str, Any]:
    """D's outputs on [0, 1] with the 0.5 line (where D cannot tell real from fake), or the critic's scores with
    the gradient penalty on its own right-hand axis."""
    labels = [LABELS[k] for k in keys if k != "gp"]
    colours = [PALETTE[(i + 2) % len(PALETTE)] for i in range(len(labels))]
    if "d_real" in keys:
        main = _lines(labels, colours, {"title": "D output (probability)", "scale": {"domain": [0, 1.02]}})
        rule = {"data": {"values": [{"y": 0.5}]}, "mark": {"type": "rule", "strokeDash": [2, 3], "color": "grey"},
                "encoding": {"y": {"field": "y", "type": "quantitative"}}}
        return _spec(title, [main, rule])
    main = _lines(labels, colours, {"title": "critic score", "scale": {"zero": False}})
    main["transform"] = [{"filter": f"datum.series !== '{GP}'"}]
    penalty = {"transform": [{"filter": f"datum.series === '{GP}'"}],
               "mark": {"type": "line", "strokeWidth": 1.2, "strokeDash": [2, 2], "color": PALETTE[5], "clip": True},
               "encoding": {"x": {"field": "step", "type": "quantitative"},
                            "y": {"field": "value", "type": "quantitative", "title": "gradient penalty",
                                  "axis": {"orient": "right", "format": ".3g"}, "scale": {"zero": False}}}}
    return _spec(title, [main, penalty], resolve={"scale": {"y": "independent"}})


def quality_spec(name: str) -> dict[str, Any]:
    """Vega-Lite spec of the live quality estimate (curve_table of "fid") against step: lines and points, lower is
    better; `name` (e.g. "FID", "FD") titles the axis."""
    layer = _lines([LABELS["fid"]], [PALETTE[3]], {"title": f"{name} (lower is better)", "scale": {"zero": False}})
    layer["mark"] = {"type": "line", "strokeWidth": 1.8, "clip": True, "point": True}
    layer["encoding"]["color"]["legend"] = None  # one series: the axis title names it
    return _spec(f"Live {name}", [layer])
