"""The Runs page's sweep view: final grids as small multiples (rows x columns = the two settings), the
quality number per cell, and the winner."""

from __future__ import annotations

import streamlit as st

from ganlab.config.sweep import SweepError, value_text
from ganlab.runs.quality import metric_name
from ganlab.runs.sweeps import Cell, list_sweeps, open_sweep, sweep_cells, winner
from ui.widgets import show_grid

PICK = "runs.sweep"  # sweep id shown


def cell_caption(cell: Cell, best: Cell | None) -> str:
    """'FID 12.34 · step 800 · finished' with the winner marked; the state alone while nothing is measured."""
    parts = []
    if cell.quality is not None:
        q = cell.quality
        parts.append(f"**{metric_name(q)} {cell.score:.2f}** "
                     f"· step {int(q.get('step', 0)):,}")
    parts.append(cell.state)
    text = " · ".join(parts)
    return f":trophy: **winner** · {text}" if best is not None and cell is best else text


def _cell(cell: Cell, best: Cell | None) -> None:
    with st.container(border=True):
        st.caption(cell.label)
        if cell.grid is not None:
            show_grid(cell.grid, min_width=192, width="stretch")
        else:
            st.caption("no grid yet")
        st.markdown(cell_caption(cell, best))


ENDED = ("finished", "stopped", "failed", "diverged", "interrupted", "deleted")


def sweep_view(sweep_id: str) -> None:
    """The grid of cells for one sweep, the winner named above it."""
    try:
        sweep = open_sweep(sweep_id)
    except SweepError as exc:
        st.error(str(exc))
        return
    cells = sweep_cells(sweep)
    best = winner(cells)
    done = all(c.state in ENDED for c in cells)
    if best is not None:
        q = best.quality
        st.success(f"{'Winner' if done else 'Best so far'}: **{best.label}** — {q.get('extractor', '?')} "
                   f"distance {best.score:.2f} at step {int(q.get('step', 0)):,} (lower is better; every cell "
                   f"measured with {q.get('n_fake', '?')} samples by the same extractor).", icon=":material/trophy:")
    else:
        st.info("No winner yet: no run of this sweep has a quality number (the first comes after "
                "`quality_every` steps).")
    axes = sweep.plan.axes
    columns = axes[1].values if len(axes) == 2 else (None,)
    if len(axes) == 2:
        header = st.columns([1] + [3] * len(columns))
        header[0].caption(f"{axes[0].field} ↓ · {axes[1].field} →")
        for col, value in zip(header[1:], columns):
            col.markdown(f"**{axes[1].field} = {value_text(value)}**")
    for r, row_value in enumerate(axes[0].values):
        row = st.columns([1] + [3] * len(columns))
        row[0].markdown(f"**{axes[0].field} = {value_text(row_value)}**")
        for c in range(len(columns)):
            with row[c + 1]:
                _cell(cells[r * len(columns) + c], best)


def sweeps_section() -> None:
    """Pick a sweep (newest first) and show it; nothing when there are no sweeps."""
    sweeps = list_sweeps()
    if not sweeps:
        return
    st.subheader("Sweeps")
    by_id = {s.id: s for s in sweeps}
    if st.session_state.get(PICK) not in by_id:
        st.session_state[PICK] = sweeps[0].id
    chosen = st.selectbox("Sweep", list(by_id), key=PICK, format_func=lambda i: by_id[i].title)
    training = any(c.state not in ENDED for c in sweep_cells(by_id[chosen]))
    # While its runs train, the view redraws itself every few seconds (only this part of the page).
    st.fragment(_framed_view, run_every=5.0 if training else None)(chosen)


def _framed_view(sweep_id: str) -> None:
    with st.container(key="runs.sweep_view"):
        sweep_view(sweep_id)
