"""Export a run's generator as pretrained weights: safetensors (no pickle) + a JSON model card."""

from __future__ import annotations

import json
import platform
import re
from pathlib import Path
from typing import Any

import torch

from ganlab import paths
from ganlab.files import atomic_write_bytes
from ganlab.runs.checkpoint import build_from_state, load_checkpoint
from ganlab.config import ModelConfig
from ganlab.nets import recalibrate_batchnorm


def machine_description() -> str:
    """CPU/GPU model and torch version, for model cards and benchmark tables."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    gpu = f", {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""
    return f"{cpu}{gpu}, {torch.get_num_threads()} threads, torch {torch.__version__}"


def export_generator(checkpoint: Path, name: str, *, out_dir: Path | None = None, use_ema: bool = True,
                     card_extra: dict[str, Any] | None = None) -> Path:
    """Write <name>.safetensors (fp16 weights, loaded back as fp32) and <name>.json from a checkpoint.

    The checkpoint's discriminator goes to <name>.D.safetensors (fp16 too), named in the card, so the shipped
    model can be fine-tuned with both networks (TrainConfig.init_from).
    """
    from safetensors.torch import save_file

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
        raise ValueError(f"name={name!r}: use 1-64 letters, digits, '-', '_' or '.' (it becomes a file name)")
    out_dir = Path(out_dir) if out_dir else paths.pretrained_dir()
    out_dir.mkdir(parents=True, exist_ok=True)
    data = load_checkpoint(checkpoint)
    use = bool(use_ema and data.get("ema"))
    state = data["ema"] if use else data["G"]
    if use:  # BatchNorm statistics that belong to the averaged weights (see ganlab.train.ema)
        generator = build_from_state(ModelConfig.from_dict(data["model_config"]), state, checkpoint.name)
        recalibrate_batchnorm(generator, batches=16, batch_size=128, seed=0)
        state = generator.state_dict()
    # fp16 halves the files (the 40 MB budget); sampling quality is unaffected after upcasting.
    weights = out_dir / f"{name}.safetensors"
    save_file(_half(state), str(weights), metadata={"name": name, "format": "ganlab-generator-v1"})
    d_weights = out_dir / f"{name}.D.safetensors"
    if isinstance(data.get("D"), dict):
        save_file(_half(data["D"]), str(d_weights), metadata={"name": name, "format": "ganlab-discriminator-v1"})
    else:
        d_weights.unlink(missing_ok=True)  # a D left from an earlier export would not match this G
    train_config = data["train_config"]
    card = {
        "name": name,
        "dataset": data.get("dataset", train_config.get("dataset")),
        "architecture": train_config["arch"],
        "loss": train_config["loss"],
        "model_config": data["model_config"],
        "train_config": train_config,
        "class_names": data.get("class_names", []),
        "steps": int(data["step"]),
        "images_seen": int(data["d_updates"]) * int(train_config["batch_size"]),
        "train_seconds": round(float(data.get("elapsed", 0.0)), 1),
        "ema": use,
        "weights_dtype": "float16",
        "discriminator": d_weights.name if d_weights.is_file() else None,
        **(card_extra or {}),
    }
    atomic_write_bytes(out_dir / f"{name}.json", json.dumps(card, indent=2).encode())
    return weights


def _half(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Floating-point tensors as fp16 (halves the files; upcast on loading), the rest (BatchNorm counters) as is."""
    return {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in state.items()}


def list_pretrained(folder: Path | None = None) -> list[dict[str, Any]]:
    """Model cards of the shipped generators (those with both files), sorted by name."""
    folder = Path(folder) if folder else paths.pretrained_dir()
    cards = []
    for card_path in sorted(folder.glob("*.json")):
        if not card_path.with_suffix(".safetensors").is_file():
            continue
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        card["path"] = str(card_path.with_suffix(".safetensors"))
        cards.append(card)
    return cards
