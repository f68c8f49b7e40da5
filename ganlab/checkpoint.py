"""Checkpoints: atomic save, safe (weights-only) load, and rebuilding a generator from a file alone."""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ganlab.config import ConfigError, ModelConfig

FORMAT = "ganlab-checkpoint-v1"


class CheckpointError(ValueError):
    """A checkpoint cannot be written or read; the message says which file and why."""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write via temp file + fsync + rename so a crash leaves either the old or the new file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The writer's pid is part of the temp name so a later save can tell an orphan (writer killed) from
    # a write in progress.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
        _fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _remove_orphaned_temps(path.parent)


_TEMP_NAME = re.compile(r"\..+\.(\d+)\.[a-z0-9_]{8}\.tmp")  # .<target>.<pid>.<mkstemp random>.tmp


def _remove_orphaned_temps(folder: Path) -> None:
    """Delete temp files left in folder by writers that died (SIGKILL, power loss): crashes must not fill the disk."""
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        return
    for tmp in folder.glob(".*.tmp"):
        match = _TEMP_NAME.fullmatch(tmp.name)
        if match and int(match.group(1)) != os.getpid() and not _pid_alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                tmp.unlink()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive but someone else's
        return True
    return True


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
        raise CheckpointError(f"checkpoint {path.name} is unreadable or truncated: {_first_line(exc)}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path.name} is not a GAN Lab checkpoint (format {FORMAT} expected)")
    return data


@dataclass
class LoadedGenerator:
    """A generator ready for sampling, with what the explorer needs to label it."""

    generator: nn.Module
    model_config: ModelConfig
    class_names: tuple[str, ...] = ()
    step: int = 0
    source: str = ""
    used_ema: bool = False
    card: dict[str, Any] = field(default_factory=dict)


def build_from_state(mc: ModelConfig, state: dict[str, torch.Tensor], source: str) -> nn.Module:
    """Build G from its config and load weights strictly, turning mismatches into a clear error."""
    from ganlab.nets import build_generator

    generator = build_generator(mc)
    try:
        generator.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(
            f"{source}: weights do not match a {mc.arch} generator at {mc.img_size}px "
            f"({str(exc).splitlines()[0]})"
        ) from None
    return generator.eval()


def load_generator(path: str | Path, *, use_ema: bool = True, device: str | torch.device = "cpu") -> LoadedGenerator:
    """Rebuild a generator from a run checkpoint (.pt) or a pretrained .safetensors + .json card."""
    path = Path(path)
    if path.suffix == ".safetensors" or path.with_suffix(".safetensors").is_file() and path.suffix == ".json":
        return _load_pretrained(path.with_suffix(".safetensors"), device)
    data = load_checkpoint(path)
    try:
        mc = ModelConfig.from_dict(data["model_config"])
    except (KeyError, ConfigError) as exc:
        raise CheckpointError(f"{path.name}: model config missing or invalid ({exc})") from None
    try:
        ema_state = data.get("ema")
        use = bool(use_ema and ema_state)
        generator = build_from_state(mc, ema_state if use else data["G"], path.name)
        return LoadedGenerator(
            generator=generator.to(device),
            model_config=mc,
            class_names=tuple(str(c) for c in data.get("class_names") or ()),
            step=int(data.get("step", 0)),
            source=str(path),
            used_ema=use,
        )
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a hand-made or damaged payload
        raise CheckpointError(f"{path.name}: generator weights missing or malformed ({type(exc).__name__}: "
                              f"{_first_line(exc)})") from None


def _load_pretrained(path: Path, device: str | torch.device) -> LoadedGenerator:
    from safetensors.torch import load_file

    card_path = path.with_suffix(".json")
    if not path.is_file() or not card_path.is_file():
        raise CheckpointError(f"pretrained model needs both {path.name} and {card_path.name}")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
        mc = ModelConfig.from_dict(card["model_config"])
    except (json.JSONDecodeError, KeyError, ConfigError) as exc:
        raise CheckpointError(f"{card_path.name}: invalid model card ({exc})") from None
    try:
        state = load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types for corrupt files
        raise CheckpointError(f"{path.name} is unreadable: {exc}") from None
    generator = build_from_state(mc, state, path.name)
    return LoadedGenerator(
        generator=generator.to(device),
        model_config=mc,
        class_names=tuple(card.get("class_names") or ()),
        step=int(card.get("steps", 0)),
        source=str(path),
        used_ema=bool(card.get("ema", False)),
        card=card,
    )


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def _fsync_dir(directory: Path) -> None:
    # Directory fsync makes the rename itself durable; not supported on every OS (e.g. Windows).
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

