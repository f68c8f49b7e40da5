"""The New-run form's values: one session key per TrainConfig field, remembered on disk, checked in Python.

Widget bounds are not used for checking: a browser clamps or silently keeps the last valid value of a number
box, so the value a user sees would not be the value that runs. Every value is checked by TrainConfig itself
(ganlab.config.config_errors) and each problem is shown beside its field.
"""

from __future__ import annotations

import json
import typing
from typing import Any

import streamlit as st

from ganlab import paths
from ganlab.config import TrainConfig, config_errors
from ganlab.files import atomic_write_bytes
from ganlab.nets import check_config_size
from ui import state, sweep_form

SAVED = "cfg.__saved__"  # plain dict copy of the form: widget keys are dropped when their page is not shown
WRITTEN = "cfg.__written__"  # what this session last wrote to disk
PARKED = "train.form_parked"  # the form's widget values while the form is folded (not drawn)
FIELDS = list(TrainConfig.__dataclass_fields__)  # declaration order = form order
FLOAT_FIELDS = {n for n, t in typing.get_type_hints(TrainConfig).items() if t is float}  # float number boxes


def _disk() -> Any:
    return paths.home() / "ui" / "train_form.json"


def widget_value(field: str, value: Any) -> Any:
    """Config value -> the type its widget holds (text for layer lists, float for float inputs)."""
    if field == "mlp_hidden":
        return ",".join(str(int(v)) for v in value) if isinstance(value, (list, tuple)) else str(value)
    if field in FLOAT_FIELDS:
        try:
            return float(value)
        except (TypeError, ValueError):
            return value
    return value


def _remembered() -> dict[str, Any]:
    """The last form values of this user (GANLAB_HOME), as a desktop app remembers its last settings."""
    try:
        saved = json.loads(_disk().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in saved.items() if k in FIELDS} if isinstance(saved, dict) else {}


def init_state(defaults: TrainConfig | None = None) -> None:
    """Give every field widget a value before it is drawn: this session's, else the remembered, else the default."""
    if SAVED not in st.session_state:
        st.session_state[SAVED] = {f: widget_value(f, v) for f, v in _remembered().items()}
    saved = st.session_state[SAVED]
    base = (defaults or TrainConfig()).to_dict()
    for field in FIELDS:
        key = state.form_key(field)
        if key not in st.session_state:
            st.session_state[key] = saved.get(field, widget_value(field, base[field]))


def set_values(values: dict[str, Any]) -> None:
    """Write config values into the widgets (use from callbacks, which run before widgets are drawn)."""
    saved = st.session_state.setdefault(SAVED, {})
    for field, value in values.items():
        st.session_state[state.form_key(field)] = saved[field] = widget_value(field, value)


def values() -> dict[str, Any]:
    """Current form values for every config field (also those whose widget is hidden), remembered on disk."""
    saved = st.session_state.setdefault(SAVED, {})
    out = {f: st.session_state.get(state.form_key(f), saved.get(f)) for f in FIELDS}
    saved.update(out)
    if st.session_state.get(WRITTEN) != out:
        try:
            atomic_write_bytes(_disk(), json.dumps(out, indent=1).encode())
            st.session_state[WRITTEN] = dict(out)
        except (OSError, TypeError):
            pass  # remembering is a convenience: a read-only home must not break the form
    return out


def _other_keys() -> list[str]:
    """The keys of the form's settable widgets other than the config fields (init_state keeps those in session
    state from SAVED): the sweep box's, whose axes come and go, the keyed expanders, the preset and devices. The
    file uploader's value cannot be set, so it is not here."""
    sweep = [k for k in st.session_state if k.startswith(sweep_form.PREFIX)]
    return sweep + list(state.FORM_BOXES) + [state.PRESET, state.DEVICES]


def park() -> None:
    """Keep the form's widget values while it is not drawn (Streamlit drops a widget's state when it is not drawn)."""
    parked = st.session_state.setdefault(PARKED, {})
    parked.update({k: st.session_state[k] for k in _other_keys() if k in st.session_state})


def unpark() -> None:
    """Before the folded form is drawn again, hand each widget its value through the session-state API.

    A widget drawn again after a run without it mounts in the browser at its element default (an empty name, a
    batch of 0) unless its value was written in this very run; the browser then sends that default back and it
    replaces the user's value. Writing the value here makes Streamlit send it along with the widget.
    """
    parked = st.session_state.get(PARKED)
    if parked is None:
        return
    for field in FIELDS:  # init_state gave each a value this run (a value set while folded, e.g. Runs -> form, wins)
        key = state.form_key(field)
        st.session_state[key] = st.session_state[key]
    for key, value in parked.items():
        st.session_state[key] = st.session_state[key] if key in st.session_state else value


def drawn() -> None:
    """The form was drawn to the end: nothing is parked any more."""
    st.session_state.pop(PARKED, None)


def errors(form: dict[str, Any], data_error: str | None = None) -> dict[str, str]:
    """{field: message} for everything that would stop this form from training ("" = the whole config)."""
    found = config_errors(form)
    if not found:
        try:
            check_config_size(TrainConfig.from_dict(form))  # networks too large are refused before a job
        except ValueError as exc:
            found[getattr(exc, "field", None) or "g_channels"] = str(exc)
    if data_error:
        found.setdefault("data_path", data_error)
    return found
