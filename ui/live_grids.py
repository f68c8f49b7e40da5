"""The live panel's sample grid: the newest one as it arrives, or an earlier one the user picked on the slider.

The picker is drawn outside the polled fragment: while a job trains, the fragment redraws the panel in place
for several seconds per run (ui/live.py says why), and a widget inside it would answer only when that run ends.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from ganlab.train import JobSnapshot, TrainingJob
from ui import state
from ui.widgets import png_bytes, show_error

NEWEST = -1  # the picker's last option: follow the newest grid as it arrives


@st.cache_resource(max_entries=32, show_spinner=False)
def grid_png(job_id: str, grid_step: int, _grid: np.ndarray) -> bytes:
    """The newest grid of a job as upscaled PNG bytes, encoded once for every tab."""
    return png_bytes(_grid)


@st.cache_resource(max_entries=64, show_spinner=False)
def file_png(path: str, mtime_ns: int) -> bytes:
    """A saved sample grid as upscaled PNG bytes, encoded once per file version."""
    return png_bytes(path)


def earlier_steps(job: TrainingJob, snap: JobSnapshot) -> tuple[int, ...]:
    """Steps of the saved grids the picker offers besides "newest" (the newest one is that option)."""
    return tuple(s for s, _ in job.run.sample_paths() if s != snap.grid_step)


def pinned_step(job_id: str, steps: tuple[int, ...]) -> int | None:
    """The earlier grid the user went back to, or None to follow the newest."""
    pinned = st.session_state.get(f"{state.GRID_PIN}.{job_id}")
    return pinned if pinned in steps else None


def show_grid(job: TrainingJob, snap: JobSnapshot, pinned: int | None) -> None:
    """The pinned grid, else the newest: in memory as soon as the job made it, or the newest file."""
    samples = dict(job.run.sample_paths())
    if pinned is None and snap.grid is not None:
        st.image(grid_png(snap.job_id, snap.grid_step, snap.grid), caption=f"newest grid · step {snap.grid_step}")
        return
    step = pinned if pinned in samples else max(samples, default=None)
    if step is None:
        if snap.active:
            st.info("The first sample grid appears once the data is loaded.")
        else:
            st.caption("No sample grid: this job ended before training started.")
        return
    path = samples[step]
    try:
        st.image(file_png(str(path), path.stat().st_mtime_ns),
                 caption=f"step {step}" if step == pinned else f"newest grid · step {step}")
    except (OSError, ValueError) as exc:  # thinned or deleted between listing and reading
        show_error(exc)


def grid_picker(job_id: str, steps: tuple[int, ...]) -> None:
    """A slider back through the saved grids (the ones saved when the page was drawn), "newest" last."""
    if not steps:
        return
    pin_key = f"{state.GRID_PIN}.{job_id}"
    target = pinned_step(job_id, steps)
    target = NEWEST if target is None else target
    # The key carries the value it opens at, so a new set of grids makes a new slider instead of the script moving
    # a live one: a moved widget races the browser, whose next refresh can send the old value back (seen on a fast
    # machine as a slider stuck on an early grid while training went on).
    key = f"{state.GRID_STEP}.{job_id}.{target}.{len(steps)}.{steps[-1]}"
    st.select_slider("Sample grid shown", [*steps, NEWEST], value=target, key=key, on_change=_pin_grid,
                     args=(key, pin_key), format_func=lambda s: "newest" if s == NEWEST else f"step {s:,}",
                     help="Go back to an earlier grid; at the right end the panel follows each new grid.")


def _pin_grid(key: str, pin_key: str) -> None:
    """The user moved the slider: stay on that grid, or follow new grids again at "newest"."""
    chosen = st.session_state.get(key)
    st.session_state[pin_key] = None if chosen == NEWEST else chosen
