"""A generator loaded from a file (run checkpoint or shipped model) and the one function that makes its images."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch import nn

from ganlab import media
from ganlab.config import ConfigError, ModelConfig
from ganlab.explore.latent import z_batch
from ganlab.runs.checkpoint import (
    CheckpointError,
    build_from_state,
    first_line,
    load_checkpoint,
)
from ganlab.runs.locate import checkpoint_path

MAX_GRID = 64  # seeds in one grid: beyond this the images get too small to read
Labels = torch.Tensor | int | None


@dataclass
class LoadedGenerator:
    """A generator ready for sampling (eval mode), with what the explorer needs to label it."""

    generator: nn.Module
    model_config: ModelConfig
    class_names: tuple[str, ...] = ()
    step: int = 0
    source: str = ""
    used_ema: bool = False
    card: dict[str, Any] = field(default_factory=dict)
    train_config: dict[str, Any] = field(default_factory=dict)  # the run's config as saved (dataset, data path, ...)

    @property
    def device(self) -> torch.device:
        return next(self.generator.parameters()).device

    def labels_for(self, n: int, labels: Labels = None) -> torch.Tensor | None:
        """(n,) class labels for a conditional generator: one class for all, or classes cycling 0..K-1 (None)."""
        k = self.model_config.num_classes
        if k <= 0:
            return None
        if labels is None:
            return torch.arange(n) % k
        if isinstance(labels, int):
            if isinstance(labels, bool) or not 0 <= labels < k:
                raise ValueError(f"class {labels!r} is out of range; this generator has classes 0 to {k - 1}")
            return torch.full((n,), labels, dtype=torch.long)
        if labels.shape != (n,):
            raise ValueError(f"labels shape {tuple(labels.shape)}: expected ({n},), one label per image")
        return labels.long()

    @torch.inference_mode()
    def generate(self, z: torch.Tensor, labels: Labels = None, chunk: int = 64) -> torch.Tensor:
        """uint8 images (N, C, H, W) for z (N, z_dim) or (z_dim,), one forward pass per `chunk` latents."""
        if z.dim() == 1:
            z = z[None]
        if z.dim() != 2 or z.shape[1] != self.model_config.z_dim:
            raise ValueError(f"z shape {tuple(z.shape)}: expected (N, {self.model_config.z_dim})")
        all_labels = self.labels_for(z.shape[0], labels)
        device = self.device
        out = []
        for start in range(0, z.shape[0], chunk):
            part = z[start : start + chunk].to(device)
            y = None if all_labels is None else all_labels[start : start + chunk].to(device)
            out.append(media.to_uint8(self.generator(part, y).float()).cpu())  # (n, C, H, W) in [-1, 1] -> uint8
        return torch.cat(out)

    def seed_grid(self, seeds: Sequence[int], *, truncation: float = 1.0, labels: Labels = None,
                  nrow: int | None = None) -> Image.Image:
        """One grid image of the given seeds (row-major, in the order given)."""
        if not seeds:
            raise ValueError("no seeds: type some, e.g. 0-15")
        if len(seeds) > MAX_GRID:
            raise ValueError(f"{len(seeds)} seeds: a grid shows at most {MAX_GRID}; shorten the list or range")
        images = self.generate(z_batch(list(seeds), self.model_config.z_dim, truncation=truncation), labels)
        return media.make_grid_image(images, nrow=nrow or min(8, max(1, math.ceil(math.sqrt(len(seeds))))))


def load_generator(path: str | Path, *, use_ema: bool = True, device: str | torch.device = "cpu",
                   which: str = "latest") -> LoadedGenerator:
    """Rebuild a generator from a run checkpoint (.pt) or a shipped .safetensors + .json card, in eval mode.

    `path` may also be a run folder or run id: then its checkpoints/<which>.pt ("latest" or "best") is loaded.
    """
    path = checkpoint_path(path, which)
    if path.suffix == ".safetensors" or (path.suffix == ".json" and path.with_suffix(".safetensors").is_file()):
        loaded = _load_shipped(path.with_suffix(".safetensors"), device)
    else:
        loaded = _load_checkpoint(path, use_ema, device)
    loaded.generator.eval().requires_grad_(False)
    return loaded


def _load_checkpoint(path: Path, use_ema: bool, device: str | torch.device) -> LoadedGenerator:
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
            train_config=dict(data.get("train_config") or {}),
        )
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a hand-made or damaged payload
        raise CheckpointError(f"{path.name}: generator weights missing or malformed ({type(exc).__name__}: "
                              f"{first_line(exc)})") from None


def _load_shipped(path: Path, device: str | torch.device) -> LoadedGenerator:
    from safetensors.torch import load_file

    card_path = path.with_suffix(".json")
    if not path.is_file() or not card_path.is_file():
        raise CheckpointError(f"pretrained model needs both {path.name} and {card_path.name}")
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
        mc = ModelConfig.from_dict(card["model_config"])
    except (json.JSONDecodeError, KeyError, TypeError, ConfigError) as exc:
        raise CheckpointError(f"{card_path.name}: invalid model card ({exc})") from None
    try:
        state = load_file(str(path))
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types for corrupt files
        raise CheckpointError(f"{path.name} is unreadable: {exc}") from None
    generator = build_from_state(mc, state, path.name)
    return LoadedGenerator(
        generator=generator.to(device),
        model_config=mc,
        class_names=tuple(str(c) for c in card.get("class_names") or ()),
        step=int(card.get("steps", 0)),
        source=str(path),
        used_ema=bool(card.get("ema", False)),
        card=card,
        train_config=dict(card.get("train_config") or {}),
    )
