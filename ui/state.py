"""Session-state keys used across pages, in one place so pages never collide on a name."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import streamlit as st

# Train page
SELECTED_JOB = "train.selected_job"  # job id shown in the live panel
FOLLOW_NEWEST = "train.follow_newest"  # job id just submitted: select it on the next run
FLASH = "train.flash"  # (kind, text) message shown once after a rerun
SCROLL_TO_LIVE = "train.scroll_to_live"  # set by Start: the next run scrolls the live panel into view
FORM_OPEN = "train.form_open"  # the New-run form opened while a job trains (folded by default then)
PRESET = "train.preset"  # preset selectbox
FORM_BOXES = ("train.small_box", "train.hardware_box", "train.logging_box")  # the form's keyed expanders
LOG_Y = "train.log_y"
SMOOTHING = "train.smoothing"
VIEWER = "train.viewer"  # this browser session's id as a watcher of live panels (TrainingJob.watched)
LIVE_INLINE = "train.live_inline"  # True while the page itself runs the live panel (draw once, do not stream)
GRID_STEP = "train.grid_step"  # + job id + step it opens at: slider through saved sample grids
GRID_PIN = "train.grid_pin"  # + job id: the grid step the user went back to (absent/None: follow the newest)
UPLOAD_DIR = "train.upload_dir"  # folder an uploaded zip was extracted to
DEVICES = "train.devices"  # devices for one run (shown with several GPUs; 2+ launches it through torchrun)

# Home page
GALLERY_SEED = "home.seed."  # + model name: seed of that model's gallery grid

# Form fields: every TrainConfig field widget uses FORM_PREFIX + field name as its key,
# so presets can write values straight into the widgets.
FORM_PREFIX = "cfg."


def form_key(field: str) -> str:
    """Session key of the widget that edits TrainConfig.<field>."""
    return FORM_PREFIX + field


def keep_valid(key: str, allowed: Collection[Any], multi: bool = False) -> None:
    """Drop a widget value that no longer exists (a deleted run, another model) before the widget is drawn."""
    if key not in st.session_state:
        return
    value = st.session_state[key]
    if multi:
        st.session_state[key] = [v for v in value if v in allowed]
    elif value not in allowed:
        del st.session_state[key]


def flash(key: str, level: str, text: str) -> None:
    """Leave a message (level: success | info | warning | error) for ui.widgets.show_flash(key) after a rerun."""
    st.session_state[key] = (level, text)
