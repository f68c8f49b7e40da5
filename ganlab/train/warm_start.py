"""Start from a trained model: G (and D) weights from a run checkpoint or a shipped model, and FreezeD."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ganlab import paths
from ganlab.config import ConfigError
from ganlab.runs import CheckpointError, list_pretrained, load_checkpoint

State = dict[str, torch.Tensor]


@dataclass(frozen=True)
class Source:
    """Weights to start from: G's, D's when the source has them, the averaged G's when it has one."""

    name: str  # what the user gave, for messages
    G: State
    D: State | None
    ema: State | None


def resolve(init_from: str) -> Path:
    """The file `init_from` means: a path (.pt, .safetensors or a model card .json) or a shipped model's name."""
    text = str(init_from).strip()
    path = Path(text).expanduser()
    if path.suffix == ".json" and path.with_suffix(".safetensors").is_file():
        return path.with_suffix(".safetensors")
    if path.is_file():
        return path
    shipped = paths.pretrained_dir() / f"{text}.safetensors"
    if "/" not in text and shipped.is_file():
        return shipped
    names = ", ".join(card["name"] for card in list_pretrained()) or "none shipped"
    raise CheckpointError(f"init_from={init_from!r} is neither a checkpoint/.safetensors file nor a shipped model; "
                          f"give a run checkpoint path or one of: {names}")


def _read_safetensors(path: Path) -> State:
    from safetensors.torch import load_file

    try:
        return {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(path)).items()}
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own error types for damaged files
        raise CheckpointError(f"{path.name} is unreadable: {exc}") from None


def load_source(init_from: str) -> Source:
    """Read the weights `init_from` names (plain tensors only: weights-only checkpoints, safetensors)."""
    path = resolve(init_from)
    if path.suffix == ".safetensors":
        card_path = path.with_suffix(".json")
        try:
            card = json.loads(card_path.read_text(encoding="utf-8")) if card_path.is_file() else {}
        except (OSError, json.JSONDecodeError) as exc:
            raise CheckpointError(f"{card_path.name}: invalid model card ({exc})") from None
        d_file = card.get("discriminator")  # shipped models exported with their D name it in the card
        d_path = path.parent / str(d_file) if d_file else None
        d_state = _read_safetensors(d_path) if d_path is not None and d_path.is_file() else None
        return Source(path.name, _read_safetensors(path), d_state, None)
    data = load_checkpoint(path)
    if not isinstance(data.get("G"), dict):
        raise CheckpointError(f"{path.name} holds no generator weights")
    return Source(path.name, data["G"], data.get("D"), data.get("ema"))


def copy_weights(net: nn.Module, state: State, who: str, source: str) -> None:
    """Load `state` into `net` strictly; CheckpointError naming the first layer whose name or shape differs."""
    own = net.state_dict()
    for key, value in own.items():
        if key not in state:
            raise CheckpointError(f"{source}: {who} layer {key!r} {tuple(value.shape)} of this run is missing there; "
                                  "the architectures differ (compare arch, img_size, channels, widths, conditional)")
        if tuple(state[key].shape) != tuple(value.shape):
            raise CheckpointError(f"{source}: {who} layer {key!r} is {tuple(state[key].shape)} there but "
                                  f"{tuple(value.shape)} in this run; set this run's arch, img_size, channels, "
                                  "z_dim and widths to those of the source")
    extra = sorted(set(state) - set(own))
    if extra:
        raise CheckpointError(f"{source}: {who} layer {extra[0]!r} is not in this run's {who}; the architectures "
                              "differ (compare arch, img_size, d_norm, conditional)")
    with torch.no_grad():
        net.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()}, strict=True)


def warm_start(init_from: str, G: nn.Module, D: nn.Module, G_ema: nn.Module | None, freeze_d: int = 0) -> str:
    """Load G, D (when the source has one) and the averaged G from `init_from`; returns what was loaded, in words."""
    source = load_source(init_from)
    if freeze_d and source.D is None:
        raise ConfigError(f"freeze_d={freeze_d}: {source.name} has no discriminator to freeze layers of; "
                          "use freeze_d=0 with it, or a source that has one (a run checkpoint, a model exported with D)")
    copy_weights(G, source.G, "generator", source.name)
    if source.D is not None:
        copy_weights(D, source.D, "discriminator", source.name)
    if G_ema is not None:
        copy_weights(G_ema, source.ema if source.ema is not None else source.G, "generator", source.name)
    loaded = "G and D" if source.D is not None else "G only (the source has no discriminator; D starts fresh)"
    return f"started from {source.name}: {loaded}"


def d_layers(D: nn.Module) -> list[list[nn.Parameter]]:
    """D's layers from its input upward: each weight layer (conv/linear) with the norm that follows it."""
    layers: list[list[nn.Parameter]] = []
    for module in getattr(D, "body", nn.Sequential()):
        own = list(module.parameters(recurse=False))
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            layers.append(own)
        elif own and layers:  # a norm's scale and shift belong to the layer before it
            layers[-1].extend(own)
    return layers


def trainable_d_parameters(D: nn.Module, freeze: int) -> list[nn.Parameter]:
    """FreezeD (Mo et al. 2020): switch off the gradients of D's first `freeze` layers; the rest, to train."""
    layers = d_layers(D)
    if freeze > len(layers):
        raise ConfigError(f"freeze_d={freeze}: this discriminator has {len(layers)} layers below its output "
                              f"layer; choose 0 to {len(layers)}")
    frozen = {id(p) for layer in layers[:freeze] for p in layer}
    for p in D.parameters():
        if id(p) in frozen:
            p.requires_grad_(False)
    return [p for p in D.parameters() if id(p) not in frozen]
