"""Continuing a run from its latest checkpoint: which settings may change, and the rebuilt trainer."""

from __future__ import annotations

from typing import Any

from ganlab.config import ConfigError, TrainConfig
from ganlab.runs import CheckpointError, Run, changing, load_checkpoint
from ganlab.train.trainer import Trainer

# Settings a resume may change; anything else would no longer match the networks or data in the checkpoint.
RESUMABLE = frozenset({"epochs", "max_steps", "log_every", "sample_every", "checkpoint_every", "keep_checkpoints",
                       "device", "precision", "threads", "quality_every", "name", "ema", "max_minutes"})


def checkpoint_step(run: Run) -> int:
    """The step stored in latest.pt (exact, unlike status.json after a crash); 0 without a checkpoint."""
    path = run.latest_checkpoint
    return int(load_checkpoint(path).get("step", 0)) if path else 0


def extra_steps_overrides(run: Run, extra_steps: int) -> dict[str, Any]:
    """Overrides that train `extra_steps` beyond the checkpoint (0 = finish the planned steps: no overrides)."""
    if isinstance(extra_steps, bool) or not isinstance(extra_steps, int) or extra_steps < 0:
        raise ValueError(f"extra steps={extra_steps!r}: give a whole number >= 0 (0 = finish the planned steps)")
    if extra_steps == 0:
        return {}
    # Steps are the budget from here on: a minutes budget (already spent, most likely) would end it at once.
    return {"max_steps": checkpoint_step(run) + extra_steps, "max_minutes": 0.0}


def resumed_config(config: TrainConfig, overrides: dict[str, Any] | None) -> TrainConfig:
    """config with the overrides a resume allows; ConfigError naming the others."""
    if not overrides:
        return config
    bad = sorted(set(overrides) - RESUMABLE)
    if bad:
        raise ConfigError(f"cannot change {', '.join(bad)} when resuming; allowed: {', '.join(sorted(RESUMABLE))}")
    # The EMA decay may change (average over a longer or shorter window from here on), but the
    # averaged copy cannot appear or vanish: the checkpoint either has one or it does not.
    new_ema = float(overrides.get("ema", config.ema))
    if (new_ema > 0) != (config.ema > 0):
        raise ConfigError(f"ema={new_ema!r}: this run was trained with ema={config.ema!r}; when resuming, "
                          "the EMA decay can change but EMA cannot be switched on or off")
    return TrainConfig.from_dict({**config.to_dict(), **overrides})


def read_for_resume(run: Run, config_overrides: dict[str, Any] | None = None) -> tuple[TrainConfig, dict[str, Any]]:
    """(the config to continue with, the latest checkpoint's state); config.json is rewritten when the overrides
    change it. Call it while holding the run's lock (see resume_trainer)."""
    checkpoint = run.latest_checkpoint
    if checkpoint is None:
        raise CheckpointError(f"run {run.id} has no checkpoint to resume from")
    state = load_checkpoint(checkpoint)
    config = TrainConfig.from_dict(state["train_config"])
    if config_overrides:
        config = resumed_config(config, config_overrides)
        run.write_config(config)
    return config, state


def resume_trainer(run: Run, *, config_overrides: dict[str, Any] | None = None, **kwargs: Any) -> Trainer:
    """Rebuild a run's trainer from its latest checkpoint (optimiser state and RNG included).

    config_overrides may extend the run (e.g. more epochs / max_steps); fields that change the
    networks or data are refused because the checkpoint could no longer be loaded.
    """
    # Under the run's lock (held by the caller's recorder, or taken for this block): another process that
    # trains the run must never see its config rewritten and its metrics cut back under it.
    with changing(run, "resume"):
        config, state = read_for_resume(run, config_overrides)
        trainer = Trainer(config, run, warm=False, **kwargs)  # weights come from the checkpoint, not init_from
        try:
            trainer.load_state_dict(state)
        except CheckpointError as exc:
            raise CheckpointError(f"{run.latest_checkpoint.name}: {exc}") from None
        run.truncate_metrics(trainer.step)  # after a crash, records past the checkpoint are logged again
    return trainer
