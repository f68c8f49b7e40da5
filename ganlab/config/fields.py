"""Validation and coercion shared by every config dataclass (messages name the bad value and what is allowed)."""

from __future__ import annotations

import dataclasses
import math
import numbers
import typing
from dataclasses import fields
from typing import Any


class ConfigError(ValueError):
    """A configuration value a user supplied is not allowed; the message names it (and `field` holds its name)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def option(default: Any, help: str) -> Any:  # noqa: A002 - "help" is the word argparse and Streamlit use
    """A dataclass field with a default and the help text the CLI and the Train form show for it."""
    return dataclasses.field(default=default, metadata={"help": help})


def field_help(cls: type) -> dict[str, str]:
    """{field name: help text} of a config dataclass, from each field's metadata."""
    return {f.name: f.metadata.get("help", "") for f in fields(cls)}


def check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} is not allowed; choose one of: {', '.join(map(str, allowed))}", field=name)


def is_number(value: Any) -> bool:
    """A real number (numpy scalars included), never a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_int_range(name: str, value: Any, low: int, high: int) -> None:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigError(f"{name}={value!r} must be a whole number from {low} to {high}", field=name)


def check_float_range(name: str, value: Any, low: float, high: float) -> None:
    if not is_number(value) or not math.isfinite(value) or not low <= value <= high:
        raise ConfigError(f"{name}={value!r} must be a number from {low} to {high}", field=name)


def check_positive(name: str, value: Any, upper: float) -> None:
    if not is_number(value) or not math.isfinite(value) or not 0 < value <= upper:
        raise ConfigError(f"{name}={value!r} must be a number greater than 0 and at most {upper}", field=name)


def to_jsonable(obj: Any) -> dict[str, Any]:
    out = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def _coerce_int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{name}={value!r} must be a whole number", field=name)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    if isinstance(value, int):
        return value
    raise ConfigError(f"{name}={value!r} must be a whole number", field=name)


def coerce(name: str, value: Any, annotation: Any) -> Any:
    """Convert JSON/CLI/form values to the field's type, refusing what cannot be converted."""
    if annotation is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        raise ConfigError(f"{name}={value!r} must be true or false", field=name)
    if annotation is int:
        return _coerce_int(name, value)
    if annotation is float:
        if isinstance(value, bool):
            raise ConfigError(f"{name}={value!r} must be a number", field=name)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}={value!r} must be a number", field=name) from None
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{name}={value!r} must be text", field=name)
        return value
    if typing.get_origin(annotation) is tuple:
        if isinstance(value, str):
            value = [v for v in value.replace(" ", "").split(",") if v]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{name}={value!r} must be a list of whole numbers, e.g. 256,512", field=name)
        return tuple(_coerce_int(name, v) for v in value)
    return value


def from_dict(cls: type, data: dict[str, Any]) -> Any:
    """Build a config dataclass from plain data: unknown keys refused by name, missing keys take defaults."""
    if not isinstance(data, dict):
        raise ConfigError(f"config must be a JSON object, got {type(data).__name__}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"unknown config key(s): {', '.join(unknown)}; known keys: {', '.join(known)}")
    hints = typing.get_type_hints(cls)
    # Missing keys take their defaults, so configs written by older versions still load.
    kwargs = {name: coerce(name, value, hints[name]) for name, value in data.items()}
    return cls(**kwargs)
