"""Checkpoints: atomic save, safe (weights-only) load, and rebuilding a generator from its config and weights."""

from __future__ import annotations

import io
import pickle
import re
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganlab.config import ModelConfig
from ganlab.files import atomic_write_bytes
from ganlab.nets import build_generator

FORMAT = "ganlab-checkpoint-v1"


class CheckpointError(ValueError):
    """A checkpoint cannot be written or read; the message says which file and why."""


def to_cpu(state: Any) -> Any:
    """Every tensor of a nested state moved to the CPU, so the file loads on any machine."""
    if isinstance(state, torch.Tensor):
        return state.detach().cpu()
    if isinstance(state, dict):
        return {k: to_cpu(v) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(to_cpu(v) for v in state)
    return state


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Serialise payload with torch.save and write it atomically; raises CheckpointError on I/O failure."""
    path = Path(path)
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, **payload}, buffer)
    try:
        atomic_write_bytes(path, buffer.getvalue())
    except OSError as exc:
        raise CheckpointError(f"could not write checkpoint {path}: {exc.strerror or exc} (is the disk full?)") from exc
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint with weights_only=True: tensors and plain data only, never code."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path} is a folder, not a checkpoint file")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        data = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch's message starts with advice to retry with weights_only=False: never show that to a user.
        text = str(exc)
        found = re.search(r"GLOBAL (\S+)|allowlisted via `add_safe_globals` but got (.+)", text)
        if found:
            raise CheckpointError(
                f"checkpoint {path.name} was refused: it contains objects other than weights and plain data "
                f"({found.group(1) or found.group(2)}); weights-only loading never runs code from a file"
            ) from None
        reasons = [line.strip() for line in text.splitlines() if line.strip()
                   and not line.startswith(("Weights only load failed", "Please file an issue", "Check the doc"))]
        raise CheckpointError(f"checkpoint {path.name} is unreadable or truncated: "
                              f"{reasons[0] if reasons else 'not a PyTorch checkpoint'}") from None
    except Exception as exc:  # noqa: BLE001 - damaged files make the unpickler raise IndexError, KeyError, ...
        raise CheckpointError(f"checkpoint {path.name} is unreadable or truncated: {first_line(exc)}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path.name} is not a GAN Lab checkpoint (format {FORMAT} expected)")
    return data


def build_from_state(mc: ModelConfig, state: dict[str, torch.Tensor], source: str) -> nn.Module:
    """Build G from its config and load weights strictly, turning mismatches into a clear error."""
    generator = build_generator(mc)
    try:
        generator.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(
            f"{source}: weights do not match a {mc.arch} generator at {mc.img_size}px "
            f"({str(exc).splitlines()[0]})"
        ) from None
    return generator.eval()


def first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]
