"""Turning a Trainer into a checkpoint payload and back: everything exact resume needs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ganlab.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ganlab.config import ConfigError, TrainConfig
from ganlab.runs import Run

if TYPE_CHECKING:
    from ganlab.trainer import Trainer


def _cpu(state: Any) -> Any:
    """Move every tensor in a nested state to the CPU so the file loads on any machine."""
    if isinstance(state, torch.Tensor):
        return state.detach().cpu()
    if isinstance(state, dict):
        return {k: _cpu(v) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_cpu(v) for v in state)
    return state


def checkpoint_payload(trainer: "Trainer") -> dict[str, Any]:
    """Weights, optimiser states, RNG states and counters: plain data that weights_only can load."""
    rng: dict[str, Any] = {"torch": torch.get_rng_state(), "noise": trainer.noise.get_state()}
    if trainer.device.type == "cuda":
        rng["cuda"] = torch.cuda.get_rng_state(trainer.device)
    return _cpu({
        "train_config": trainer.config.to_dict(),
        "model_config": trainer.model_config.to_dict(),
        "class_names": list(trainer.class_names),
        "dataset": trainer.dataset_name,
        "num_images": trainer.num_images,
        "step": trainer.step,
        "d_updates": trainer.d_updates,
        "g_updates": trainer.g_updates,
        "elapsed": trainer.elapsed,
        "G": trainer.G.state_dict(),
        "D": trainer.D.state_dict(),
        "ema": trainer.G_ema.state_dict() if trainer.G_ema is not None else None,
        "opt_g": trainer.opt_g.state_dict(),
        "opt_d": trainer.opt_d.state_dict(),
        "scaler_g": trainer.scaler_g.state_dict(),
        "scaler_d": trainer.scaler_d.state_dict(),
        "sampler": trainer.sampler.state_dict(),
        "rng": rng,
        "fixed_z": trainer.fixed_z,
    })


def save_trainer(trainer: "Trainer") -> None:
    """Checkpoint to checkpoints/latest.pt (+ a kept step copy), atomically; no-op without a run folder."""
    if trainer.run_dir is None:
        return
    trainer._calibrate_ema()  # the averaged G is saved with BatchNorm statistics that match its weights
    payload = checkpoint_payload(trainer)
    folder = trainer.run_dir.checkpoints_dir
    save_checkpoint(folder / "latest.pt", payload)
    if trainer.config.keep_checkpoints > 0:
        save_checkpoint(folder / f"step_{trainer.step:06d}.pt", payload)
        prune_checkpoints(folder, trainer.config.keep_checkpoints)
    trainer._last_good_step = trainer.step


def restore(trainer: "Trainer", data: dict[str, Any]) -> None:
    """Load a payload into a freshly built trainer for the same config."""
    try:
        trainer.G.load_state_dict(data["G"])
        trainer.D.load_state_dict(data["D"])
        if trainer.G_ema is not None and data.get("ema") is not None:
            trainer.G_ema.load_state_dict(data["ema"])
        trainer.opt_g.load_state_dict(data["opt_g"])
        trainer.opt_d.load_state_dict(data["opt_d"])
    except (KeyError, RuntimeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint does not match this run's networks: {str(exc).splitlines()[0]}") from None
    if data.get("scaler_g"):
        trainer.scaler_g.load_state_dict(data["scaler_g"])
        trainer.scaler_d.load_state_dict(data["scaler_d"])
    trainer.sampler.load_state_dict(data["sampler"])
    torch.set_rng_state(data["rng"]["torch"])
    trainer.noise.set_state(data["rng"]["noise"])
    if "cuda" in data["rng"] and trainer.device.type == "cuda":
        torch.cuda.set_rng_state(data["rng"]["cuda"], trainer.device)
    trainer.fixed_z = data["fixed_z"].to(trainer.device)
    trainer.step = int(data["step"])
    trainer.d_updates = int(data.get("d_updates", 0))
    trainer.g_updates = int(data.get("g_updates", 0))
    trainer.elapsed = float(data.get("elapsed", 0.0))
    trainer._tick_step = trainer.step
    trainer._last_good_step = trainer.step


def resume_trainer(run: Run, *, config_overrides: dict[str, Any] | None = None, **kwargs: Any) -> "Trainer":
    """Rebuild a run's trainer from its latest checkpoint (optimiser state and RNG included).

    config_overrides may extend the run (e.g. more epochs / max_steps); fields that change the
    networks or data are refused because the checkpoint could no longer be loaded.
    """
    from ganlab.trainer import Trainer

    checkpoint = run.latest_checkpoint
    if checkpoint is None:
        raise CheckpointError(f"run {run.id} has no checkpoint to resume from")
    data = load_checkpoint(checkpoint)
    config = TrainConfig.from_dict(data["train_config"])
    if config_overrides:
        allowed = {"epochs", "max_steps", "log_every", "sample_every", "checkpoint_every", "keep_checkpoints",
                   "device", "precision", "threads", "quality_every", "name", "ema"}
        bad = sorted(set(config_overrides) - allowed)
        if bad:
            raise ConfigError(f"cannot change {', '.join(bad)} when resuming; allowed: {', '.join(sorted(allowed))}")
        # The EMA decay may change (average over a longer or shorter window from here on), but the
        # averaged copy cannot appear or vanish: the checkpoint either has one or it does not.
        new_ema = float(config_overrides.get("ema", config.ema))
        if (new_ema > 0) != (config.ema > 0):
            raise ConfigError(f"ema={new_ema!r}: this run was trained with ema={config.ema!r}; when resuming, "
                              "the EMA decay can change but EMA cannot be switched on or off")
        config = config.replace(**config_overrides)
        run.write_config(config)
    trainer = Trainer(config, run, **kwargs)
    restore(trainer, data)
    run.truncate_metrics(trainer.step)  # after a crash, records past the checkpoint are logged again
    return trainer


def prune_checkpoints(folder: Path, keep: int) -> None:
    """Delete all but the newest `keep` step_*.pt files (latest.pt is never touched)."""
    steps = sorted(p for p in folder.glob("step_*.pt") if re.fullmatch(r"step_\d+\.pt", p.name))
    for old in steps[:-keep] if keep > 0 else steps:
        old.unlink(missing_ok=True)
