"""A trainer's state as plain CPU data (weights, optimisers, RNG streams, counters): all that exact resume needs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from ganlab.runs import CheckpointError, to_cpu

if TYPE_CHECKING:
    from ganlab.train.trainer import Trainer


def trainer_state(t: "Trainer") -> dict[str, Any]:
    """Weights, optimiser states, RNG states and counters of `t` as plain CPU data."""
    rng: dict[str, Any] = {"torch": torch.get_rng_state(), "noise": t.noise.get_state()}
    if t.device.type == "cuda":
        rng["cuda"] = torch.cuda.get_rng_state(t.device)
    state = {
        "train_config": t.config.to_dict(), "model_config": t.model_config.to_dict(),
        "class_names": list(t.class_names), "dataset": t.dataset_name, "num_images": t.num_images,
        "step": t.step, "d_updates": t.d_updates, "g_updates": t.g_updates, "elapsed": t.elapsed,
        "G": t.G.state_dict(), "D": t.D.state_dict(),
        "ema": t.G_ema.state_dict() if t.G_ema is not None else None,
        "opt_g": t.opt_g.state_dict(), "opt_d": t.opt_d.state_dict(),
        "scaler_g": t.scaler_g.state_dict(), "scaler_d": t.scaler_d.state_dict(),
        "sampler": t.sampler.state_dict(), "rng": rng, "fixed_z": t.fixed_z,
        "quality": t.ticks.state_dict(),  # the best live value so far and the collapse watch
    }
    if t.augment is not None:  # ADA's p, its running r_t and the augmentation's own random stream
        state["augment"] = t.augment.state_dict()
    return to_cpu(state)


def restore_trainer(t: "Trainer", state: dict[str, Any]) -> None:
    """Put a trainer_state() back into `t` (built from the same config); CheckpointError on a mismatch."""
    try:
        t.G.load_state_dict(state["G"])
        t.D.load_state_dict(state["D"])
        if t.G_ema is not None and state.get("ema") is not None:
            t.G_ema.load_state_dict(state["ema"])
        t.opt_g.load_state_dict(state["opt_g"])
        t.opt_d.load_state_dict(state["opt_d"])
    except (KeyError, RuntimeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint does not match this run's networks: {str(exc).splitlines()[0]}") from None
    if state.get("scaler_g"):
        t.scaler_g.load_state_dict(state["scaler_g"])
        t.scaler_d.load_state_dict(state["scaler_d"])
    t.sampler.load_state_dict(state["sampler"])
    torch.set_rng_state(state["rng"]["torch"])
    t.noise.set_state(state["rng"]["noise"])
    if "cuda" in state["rng"] and t.device.type == "cuda":
        torch.cuda.set_rng_state(state["rng"]["cuda"], t.device)
    if t.augment is not None and state.get("augment") is not None:
        t.augment.load_state_dict(state["augment"])
    t.fixed_z = state["fixed_z"].to(t.device)
    t.step = int(state["step"])
    t.d_updates = int(state.get("d_updates", 0))
    t.g_updates = int(state.get("g_updates", 0))
    t.elapsed = float(state.get("elapsed", 0.0))
    t.meter.restart(t.step)
    t.last_good_step = t.step
    t.ticks.load_state_dict(state.get("quality"))
