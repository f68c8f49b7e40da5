"""The Train page's sweep box: up to two settings with values each, a budget per run, and the plan it makes."""

from __future__ import annotations

import typing
from typing import Any

import streamlit as st

from ganlab.config import ARCHS, AUGMENTS, D_NORMS, FITS, LOSSES, PRECISIONS, TrainConfig
from ganlab.config.sweep import Axis, SweepError, SweepPlan, sweepable_fields, value_text

PREFIX = "sweep."  # every session key of the sweep box starts with it
ON = "sweep.on"
FIELD = "sweep.field."  # + axis number
VALUES = "sweep.values."  # + axis number: text, or a list for settings with choices
UNIT = "sweep.unit"  # "minutes" | "steps"
MINUTES = "sweep.minutes"
STEPS = "sweep.steps"
NONE = "(none)"
CHOICES: dict[str, tuple[Any, ...]] = {"arch": ARCHS, "loss": LOSSES, "d_norm": D_NORMS, "augment": AUGMENTS,
                                       "precision": PRECISIONS, "fit": FITS}


def _choices(field: str) -> tuple[Any, ...] | None:
    if field in CHOICES:
        return CHOICES[field]
    return (True, False) if typing.get_type_hints(TrainConfig).get(field) is bool else None


def suggested_values(field: str, current: Any) -> str | list[Any]:
    """What the values box starts with: the form's value halved, as is and doubled (a factor-2 ladder is the
    usual first sweep of a rate or a width), or every choice of a setting that has a list of them."""
    choices = _choices(field)
    if choices is not None:
        return list(choices[:2]) if current not in choices[:2] else [current, next(c for c in choices if c != current)]
    if isinstance(current, bool) or not isinstance(current, (int, float)):
        return value_text(current)
    if isinstance(current, int):
        return ", ".join(str(v) for v in dict.fromkeys((max(1, current // 2), current, current * 2)))
    if current == 0:
        return "0, 0.5"
    return ", ".join(f"{v:g}" for v in (current / 2, current, current * 2))


def _on_field(axis: int, form: dict[str, Any]) -> None:
    field = st.session_state[FIELD + str(axis)]
    if field != NONE:
        st.session_state[VALUES + str(axis)] = suggested_values(field, form.get(field))


def _axis(axis: int, form: dict[str, Any], fields: list[str]) -> Axis | None:
    """One row of the box: which setting, which values; None when left at (none)."""
    c1, c2 = st.columns([1, 3])
    options = fields if axis == 0 else [NONE, *fields]
    st.session_state.setdefault(FIELD + str(axis), "lr_d" if axis == 0 else NONE)
    field = c1.selectbox("Rows: setting" if axis == 0 else "Columns: setting", options, key=FIELD + str(axis),
                         on_change=_on_field, args=(axis, form))
    if field == NONE:
        return None
    st.session_state.setdefault(VALUES + str(axis), suggested_values(field, form.get(field)))
    choices = _choices(field)
    if choices is not None:
        if not isinstance(st.session_state[VALUES + str(axis)], list):
            st.session_state[VALUES + str(axis)] = suggested_values(field, form.get(field))
        values = c2.multiselect("Values", list(choices), key=VALUES + str(axis), format_func=value_text)
    else:
        if isinstance(st.session_state[VALUES + str(axis)], list):
            st.session_state[VALUES + str(axis)] = suggested_values(field, form.get(field))
        text = c2.text_input("Values (comma-separated)", key=VALUES + str(axis),
                             help="e.g. 1e-4, 2e-4, 4e-4; a list setting joins its items with '/' (256/512)")
        values = [v for v in text.split(",") if v.strip()]
    return Axis(field, tuple(values))


def sweep_box(form: dict[str, Any], form_ok: bool) -> tuple[SweepPlan | None, str | None]:
    """The sweep controls (when the toggle is on): (the plan, None), (None, what is wrong), or (None, None).
    With form_ok, every run's config is checked too (the form's own problems are shown beside its fields)."""
    if not st.toggle("Sweep: train every combination of the values below (one run each, queued)", key=ON):
        return None, None
    st.caption("Every other setting is the form's: the runs differ only in the swept settings (a swept loss does "
               "not load its recipe). They train one after another, each for the same budget.")
    fields = sweepable_fields()
    try:
        axes = [a for a in (_axis(0, form, fields), _axis(1, form, fields)) if a is not None]
    except SweepError as exc:
        st.caption(f":red[{exc}]")
        return None, str(exc)
    c1, c2, c3 = st.columns([1, 1, 2])
    unit = c1.radio("Budget per run", ["minutes", "steps"], key=UNIT, horizontal=True,
                    help="minutes of training are the fair budget on one machine (a faster setting trains more "
                         "steps); steps compare per update")
    st.session_state.setdefault(MINUTES, 1.0)  # defaults through session state: a folded form hands values back so
    st.session_state.setdefault(STEPS, 1000)  # (form_state.unpark), and value= beside that would warn
    if unit == "minutes":
        amount = c2.number_input("Minutes per run", step=0.5, format="%g", key=MINUTES)
        budget = dict(minutes=float(amount))
    else:
        amount = c2.number_input("Steps per run", step=100, key=STEPS)
        budget = dict(steps=int(amount))
    try:
        plan = SweepPlan(tuple(axes), **budget)
        if form_ok:
            plan.configs(TrainConfig.from_dict(form), form.get("name") or "sweep")  # every run checked now
    except (SweepError, ValueError) as exc:
        st.caption(f":red[{exc}]")
        return None, str(exc)
    total = f" · about {plan.size * plan.minutes:g} min in all (+ a few seconds' start each)" if plan.minutes else ""
    c3.caption(f"**{plan.size} runs** ({' × '.join(f'{len(a.values)} {a.field}' for a in plan.axes)}), "
               f"{plan.budget_text} each{total}. Results: Runs → Sweeps.")
    return plan, None
