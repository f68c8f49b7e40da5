"""Export a run's generator as pretrained weights: safetensors (no pickle) + a JSON model card."""

from __future__ import annotations

import json
import platform
import re
from pathlib import Path
from typing import Any

import torch

from ganlab import paths
from ganlab.config import ModelConfig
from ganlab.data.licences import data_licence
from ganlab.files import atomic_write_bytes
from ganlab.nets import recalibrate_batchnorm
from ganlab.runs.checkpoint import build_from_state, load_checkpoint
from ganlab.runs.lifecycle import changing
from ganlab.runs.store import Run

MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # a model's name is its file stem


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


class ExportError(ValueError):
    """A model name that cannot be used (bad characters, or taken and not to be replaced)."""


def check_model_name(name: str, out_dir: Path, *, overwrite: bool = False) -> None:
    """Raise ExportError unless name is a safe file stem that is free in out_dir (or may be replaced)."""
    if not MODEL_NAME.fullmatch(name):
        raise ExportError(f"name={name!r}: use 1-64 letters, digits, '-', '_' or '.' (it becomes a file name)")
    taken = [p.name for p in (out_dir / f"{name}.safetensors", out_dir / f"{name}.json") if p.exists()]
    if taken and not overwrite:
        raise ExportError(f"a model named {name!r} already exists in {out_dir} ({', '.join(taken)}); "
                          "choose another name, or replace it (--force on the command line)")


def export_generator(checkpoint: Path, name: str, *, out_dir: Path | None = None, use_ema: bool = True,
                     card_extra: dict[str, Any] | None = None, overwrite: bool = False) -> Path:
    """Write <name>.safetensors (fp16 weights, loaded back as fp32) and <name>.json from a checkpoint.

    An existing model of that name is only replaced with overwrite=True; both files are written atomically, the
    card last (a model is listed only once both exist). A run's checkpoint is read under the run's lock.
    """
    from safetensors.torch import save

    out_dir = Path(out_dir) if out_dir else paths.pretrained_dir()
    check_model_name(name, out_dir, overwrite=overwrite)
    out_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = Path(checkpoint)
    run_folder = checkpoint.resolve().parent.parent
    if checkpoint.resolve().parent.name == "checkpoints" and (run_folder / "config.json").is_file():
        with changing(Run(run_folder), "export"):
            data = load_checkpoint(checkpoint)
    else:
        data = load_checkpoint(checkpoint)
    use = bool(use_ema and data.get("ema"))
    state = data["ema"] if use else data["G"]
    if use:  # BatchNorm statistics that belong to the averaged weights (see ganlab.train.ema)
        generator = build_from_state(ModelConfig.from_dict(data["model_config"]), state, checkpoint.name)
        recalibrate_batchnorm(generator, batches=16, batch_size=128, seed=0)
        state = generator.state_dict()
    # fp16 halves the files (the 40 MB budget); sampling quality is unaffected after upcasting.
    weights = out_dir / f"{name}.safetensors"
    atomic_write_bytes(weights, save(_half(state), metadata={"name": name, "format": "ganlab-generator-v1"}))
    d_weights = out_dir / f"{name}.D.safetensors"
    if isinstance(data.get("D"), dict):
        atomic_write_bytes(d_weights, save(_half(data["D"]), metadata={"name": name,
                                                                       "format": "ganlab-discriminator-v1"}))
    else:
        d_weights.unlink(missing_ok=True)  # a D left from an earlier export would not match this G
    train_config = data["train_config"]
    dataset = data.get("dataset", train_config.get("dataset"))
    card = {
        "name": name,
        "dataset": dataset,
        **data_licence(str(dataset or "")),
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


def suggest_model_name(run: Run) -> str:
    """A valid, readable model name for a run: its display name with other characters turned into '-'."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", run.display_name).strip("-._")[:64]
    return name if MODEL_NAME.fullmatch(name) else run.id


def export_run(run: Run, name: str, *, use_ema: bool = True, overwrite: bool = False,
               out_dir: Path | None = None) -> Path:
    """Export the generator of a run's latest checkpoint as a model (the Runs page's Export button)."""
    checkpoint = run.latest_checkpoint
    if checkpoint is None:
        raise ExportError(f"run {run.id} has no checkpoint yet: it saves one every checkpoint_every steps "
                          "and when it stops")
    return export_generator(checkpoint, name, out_dir=out_dir, use_ema=use_ema, overwrite=overwrite,
                            card_extra={"run": run.id})


# Gallery order: the sharpest pictures first (a card's own "showcase" number wins); unlisted models follow by name.
SHOWCASE = {"fashion-cdcgan": 1, "fashion-dcgan": 2, "emoji-dcgan": 3, "fashion-wgangp": 4, "fashion-mlp": 5,
            "digits-dcgan": 9}


def _half(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Floating-point tensors as fp16 (halves the files; upcast on loading), the rest (BatchNorm counters) as is."""
    return {k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in state.items()}


def list_pretrained(folder: Path | None = None) -> list[dict[str, Any]]:
    """Model cards of the shipped generators (those with both files), best-looking first."""
    folder = Path(folder) if folder else paths.pretrained_dir()
    cards = []
    for card_path in sorted(folder.glob("*.json")):
        if not card_path.with_suffix(".safetensors").is_file():
            continue
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, RecursionError):
            card = None
        if not isinstance(card, dict):  # listed by name: loading it then says what is wrong with the card
            card = {"name": card_path.stem}
        card["path"] = str(card_path.with_suffix(".safetensors"))
        cards.append(card)

    def rank(card: dict[str, Any]) -> tuple[float, str]:
        name = str(card.get("name", ""))
        showcase = card.get("showcase", SHOWCASE.get(name, 50))
        return (float(showcase) if isinstance(showcase, (int, float)) else 50.0, name)

    return sorted(cards, key=rank)
