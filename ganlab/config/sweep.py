"""Sweeps as data: up to two settings with a list of values each, and one budget per run (steps or minutes)."""

from __future__ import annotations

import dataclasses
import itertools
import math
import typing
from dataclasses import dataclass
from typing import Any

from ganlab.config.fields import ConfigError
from ganlab.config.training import TrainConfig

MAX_AXES = 2
MAX_RUNS = 36  # a 6 x 6 grid; more is a queue nobody watches to the end
# Not settings of the model or its training (or the sweep's own budget): sweeping them compares nothing.
NOT_SWEEPABLE = frozenset({"name", "device", "threads", "log_every", "sample_every", "checkpoint_every",
                           "keep_checkpoints", "num_samples", "quality_every", "epochs", "max_steps", "max_minutes"})


class SweepError(ConfigError):
    """A sweep a user described cannot run: the message names the setting or value and what is allowed."""


def sweepable_fields() -> list[str]:
    """TrainConfig fields a sweep may vary, in declaration order."""
    return [f.name for f in dataclasses.fields(TrainConfig) if f.name not in NOT_SWEEPABLE]


def value_text(value: Any) -> str:
    """How a swept value reads in names and tables: 0.0002, hinge, 256-512 (a list)."""
    if isinstance(value, (tuple, list)):
        return "-".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _typed(name: str, value: Any) -> Any:
    """value as the field's type ('1e-4' -> 0.0001; '256/512' -> (256, 512) for list fields)."""
    from ganlab.config.fields import coerce

    annotation = typing.get_type_hints(TrainConfig)[name]
    if isinstance(value, str) and typing.get_origin(annotation) is tuple:
        value = value.replace("/", ",").replace("-", ",")
    try:
        return coerce(name, value.strip() if isinstance(value, str) else value, annotation)
    except ConfigError as exc:
        raise SweepError(str(exc), field=name) from None


@dataclass(frozen=True)
class Axis:
    """One swept setting and its values, in the order the user gave them."""

    field: str
    values: tuple[Any, ...]

    def __post_init__(self) -> None:
        if self.field not in sweepable_fields():
            raise SweepError(f"cannot sweep {self.field!r}; sweepable settings: {', '.join(sweepable_fields())}",
                             field=self.field)
        if not self.values:
            raise SweepError(f"{self.field}: give at least one value", field=self.field)
        typed = tuple(_typed(self.field, v) for v in self.values)
        if len(set(typed)) != len(typed):
            raise SweepError(f"{self.field}: a value is given twice in {', '.join(map(value_text, typed))}",
                             field=self.field)
        object.__setattr__(self, "values", typed)

    @classmethod
    def parse(cls, text: str) -> "Axis":
        """'lr_d=1e-4,2e-4,4e-4' (list settings: items joined by '/', e.g. mlp_hidden=256/512,512/1024)."""
        name, sep, values = text.partition("=")
        if not sep or not name.strip():
            raise SweepError(f"{text!r}: write a setting and its values, e.g. lr_d=1e-4,2e-4,4e-4")
        return cls(name.strip(), tuple(v for v in values.split(",") if v.strip()))


@dataclass(frozen=True)
class SweepPlan:
    """The runs of a sweep: every combination of the axes' values, each trained for the same budget."""

    axes: tuple[Axis, ...]
    steps: int = 0
    minutes: float = 0.0

    def __post_init__(self) -> None:
        if not 1 <= len(self.axes) <= MAX_AXES:
            raise SweepError(f"a sweep varies 1 or {MAX_AXES} settings, not {len(self.axes)}")
        names = [a.field for a in self.axes]
        if len(set(names)) != len(names):
            raise SweepError(f"{names[0]} is swept twice; sweep two different settings", field=names[0])
        if self.size > MAX_RUNS:
            raise SweepError(f"{' x '.join(str(len(a.values)) for a in self.axes)} = {self.size} runs; "
                             f"a sweep has at most {MAX_RUNS}")
        steps_set = not isinstance(self.steps, bool) and isinstance(self.steps, int) and self.steps > 0
        minutes_set = (isinstance(self.minutes, (int, float)) and not isinstance(self.minutes, bool)
                       and math.isfinite(self.minutes) and self.minutes > 0)
        if steps_set == minutes_set:
            raise SweepError(f"steps={self.steps!r}, minutes={self.minutes!r}: give the budget of each run in steps "
                             "or in minutes (one of them > 0, not both)", field="max_steps")

    @property
    def size(self) -> int:
        return math.prod(len(a.values) for a in self.axes)

    @property
    def budget_text(self) -> str:
        return f"{self.steps:,} steps" if self.steps else f"{self.minutes:g} min"

    def cells(self) -> list[dict[str, Any]]:
        """{field: value} of every run, the first axis varying slowest (row by row)."""
        names = [a.field for a in self.axes]
        return [dict(zip(names, combo)) for combo in itertools.product(*(a.values for a in self.axes))]

    def configs(self, base: TrainConfig, name: str = "") -> list[TrainConfig]:
        """One config per cell: base with only the swept values and the budget changed (no recipe is loaded:
        choosing hinge here keeps the base's learning rates, so the runs differ in exactly the swept settings)."""
        budget = (dict(max_steps=self.steps, max_minutes=0.0) if self.steps
                  else dict(max_steps=0, epochs=0.0, max_minutes=float(self.minutes)))
        out = []
        for cell in self.cells():
            label = " ".join(f"{k}={value_text(v)}" for k, v in cell.items())
            run_name = f"{name} {label}".strip()[:80]
            try:
                out.append(base.replace(**cell, **budget, name=run_name))
            except ConfigError as exc:
                raise SweepError(f"the run {label} is not a valid config: {exc}", field=exc.field) from None
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"axes": [{"field": a.field, "values": [list(v) if isinstance(v, tuple) else v for v in a.values]}
                         for a in self.axes], "steps": self.steps, "minutes": self.minutes}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SweepPlan":
        try:
            axes = tuple(Axis(a["field"], tuple(a["values"])) for a in data["axes"])
            return cls(axes, steps=int(data.get("steps", 0)), minutes=float(data.get("minutes", 0.0)))
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, SweepError):
                raise
            raise SweepError(f"not a sweep plan: {exc}") from None
