"""Live quality on the Train page: the distance with its extractor, fidelity and diversity, best so far, alarm, curve."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ganlab.runs.quality import best_quality, kind, metric_name, quality_records
from ui.live_vega import curve_table, quality_spec


def quality_curve(history: list[dict]) -> tuple[str, dict, pd.DataFrame] | None:
    """(element key, Vega-Lite spec, data) of the live quality curve, or None before its second point."""
    points = quality_records(history)
    if len(points) < 2:
        return None
    return "live.fid", quality_spec(metric_name(points[-1])), curve_table(points, ("fid",))


def quality_readout(history: list[dict], note: str = "") -> None:
    """The live quality estimate's numbers: distance (lower is better) with its extractor and sample count,
    fidelity and diversity as separate numbers, the best value so far, and the collapse alarm when it fires."""
    if note:  # say why there is no quality figure instead of inventing one
        st.caption(f"Live quality: {note}.")
    points = quality_records(history)
    if not points:
        return
    last = points[-1]
    alarm = last.get("alarm")
    if isinstance(alarm, dict) and alarm.get("message"):
        st.warning(f"{alarm['message']} {alarm.get('try', '')}", icon=":material/warning:")
    name, (extractor, samples) = metric_name(last), kind(last)
    best = best_quality(points)
    cols = st.columns(5)
    prev = points[-2]["fid"] if len(points) > 1 else None
    cols[0].metric(f"Live {name} (lower is better)", f"{last['fid']:.3g}",
                   delta=None if prev is None else f"{last['fid'] - prev:+.3g}", delta_color="inverse",
                   help=f"Fréchet distance in {extractor} features, {samples} samples against the training images; "
                        "compare it only with numbers of the same extractor")
    cols[1].metric(f"Best {name}", f"{best['fid']:.3g}", help=f"at step {int(best['step']):,} (checkpoints/best.pt)")
    for col, key, label, meaning in ((cols[2], "precision", "Precision", "share of samples that look like real "
                                      "images (fidelity)"),
                                     (cols[3], "recall", "Recall", "share of real images the samples cover "
                                      "(diversity)"),
                                     (cols[4], "knn_coverage", "Coverage", "share of real images with a sample "
                                      "nearby (diversity, robust to outliers)")):
        value = last.get(key)
        col.metric(label, f"{value:.2f}" if isinstance(value, (int, float)) else "—", help=f"{meaning}; higher is better")
