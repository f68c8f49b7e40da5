"""Trainer: logging, samples, checkpoints, exact resume, divergence detection, step accounting."""

from __future__ import annotations

import math

import pytest
import torch

from ganlab.config import ConfigError
from ganlab.runs import create_run
from ganlab.train.events import DivergedError
from ganlab.train.resume import resume_trainer
from ganlab.train.trainer import Trainer
from tests.helpers import blobs_dataset, tiny_config

LOSS_KEYS = ("loss_d", "loss_g", "d_real", "d_fake", "critic_real", "critic_fake", "wasserstein", "gp")


def _losses(run) -> list[tuple]:
    return [tuple(r.get(k) for k in ("step", *LOSS_KEYS)) for r in run.read_metrics() if "loss_d" in r]


def test_trainer_writes_metrics_samples_and_checkpoints() -> None:
    config = tiny_config()
    run = create_run(config)
    trainer = Trainer(config, run, dataset=blobs_dataset())
    events = []
    trainer.run(events.append)
    records = run.read_metrics()
    assert [r["step"] for r in records] == list(range(1, 9))
    for key in ("loss_d", "loss_g", "d_real", "d_fake", "img_s", "elapsed", "eta"):
        assert key in records[-1]
    assert 0.0 <= records[-1]["d_real"] <= 1.0
    assert [s for s, _ in run.sample_paths()] == [4, 8]
    assert run.latest_checkpoint is not None
    assert {e.kind for e in events} >= {"log", "sample", "checkpoint", "done"}


def test_fixed_noise_grid_is_identical_for_the_same_weights() -> None:
    config = tiny_config()
    trainer = Trainer(config, None, dataset=blobs_dataset())
    assert torch.equal(trainer.sample(), trainer.sample())


@pytest.mark.parametrize(
    "changes",
    [dict(loss="bce", ema=0.9), dict(loss="wgan-gp", d_steps=2, beta1=0.0, beta2=0.9),
     dict(loss="hinge", conditional=True, g_steps=2), dict(arch="mlp", loss="lsgan", mlp_hidden=(32, 32)),
     dict(loss="hinge", d_norm="spectral", ema=0.999, ema_rampup=0.05)],
    ids=["bce-ema", "wgan-gp", "hinge-conditional", "mlp-lsgan", "hinge-spectral-ema-rampup"],
)
def test_resume_continues_identical_losses(changes: dict) -> None:
    data = blobs_dataset()
    straight = create_run(tiny_config(max_steps=10, **changes))
    Trainer(straight.config(), straight, dataset=data).run()

    split = create_run(tiny_config(max_steps=10, **changes))
    first = Trainer(split.config(), split, dataset=data)
    first.run(abort=lambda: first.step >= 6)  # stop after 6 steps: saves a checkpoint
    assert first.step == 6
    torch.manual_seed(12345)  # whatever happens to the global RNG in between must not matter
    resumed = resume_trainer(split, dataset=data)
    assert resumed.step == 6
    resumed.run()
    assert _losses(split) == _losses(straight)


def test_resume_may_change_the_ema_decay_but_not_switch_ema_off() -> None:
    data = blobs_dataset()
    run = create_run(tiny_config(max_steps=4, ema=0.9))
    Trainer(run.config(), run, dataset=data).run()
    before = [p.clone() for p in resume_trainer(run, dataset=data).G_ema.parameters()]
    with pytest.raises(ConfigError, match=r"ema=0\.0.*cannot be switched on or off"):
        resume_trainer(run, config_overrides={"ema": 0.0}, dataset=data)
    resumed = resume_trainer(run, config_overrides={"ema": 0.99, "max_steps": 5}, dataset=data)
    assert resumed.config.ema == 0.99 and run.config().ema == 0.99
    assert all(torch.equal(a, b) for a, b in zip(before, resumed.G_ema.parameters()))  # the average carries on
    resumed.run()
    assert resumed.step == 5


def test_nan_losses_stop_the_run_as_diverged_and_keep_last_good_checkpoint() -> None:
    config = tiny_config(max_steps=20, checkpoint_every=3, log_every=1)
    run = create_run(config)
    trainer = Trainer(config, run, dataset=blobs_dataset())
    original = trainer.loss.d_loss

    def poisoned(real, fake):
        loss = original(real, fake)
        return loss * float("nan") if trainer.step >= 7 else loss

    trainer.loss.d_loss = poisoned
    with pytest.raises(DivergedError, match=r"diverged at step 8"):
        trainer.run()
    saved = torch.load(run.latest_checkpoint, weights_only=True)
    assert saved["step"] == 6
    assert all(math.isfinite(float(v.float().abs().sum())) for v in saved["G"].values())


def test_g_twice_per_d_step_counts_updates() -> None:
    trainer = Trainer(tiny_config(max_steps=3, d_steps=1, g_steps=2), None, dataset=blobs_dataset())
    trainer.run()
    assert (trainer.step, trainer.d_updates, trainer.g_updates) == (3, 3, 6)


def test_conditional_needs_labels_message() -> None:
    unlabelled = blobs_dataset()
    unlabelled = type(unlabelled)(images=unlabelled.images, labels=None, class_names=(), name="plain")
    with pytest.raises(ValueError, match="conditional=True needs a labelled dataset"):
        Trainer(tiny_config(conditional=True), None, dataset=unlabelled)


def test_bf16_autocast_trains_with_finite_losses_on_cpu() -> None:
    config = tiny_config(precision="bf16", max_steps=4, loss="wgan-gp")
    run = create_run(config)
    Trainer(config, run, dataset=blobs_dataset()).run()
    assert all(math.isfinite(r["loss_d"]) for r in run.read_metrics())


def test_trainer_on_digits_dataset_smoke() -> None:
    config = tiny_config(max_steps=3)
    run = create_run(config)
    trainer = Trainer(config, run)
    trainer.run()
    assert trainer.num_images == 1797 and trainer.class_names[:2] == ("0", "1")


def test_live_quality_is_logged_for_datasets_with_an_extractor() -> None:
    config = tiny_config(max_steps=4, quality_every=2)
    run = create_run(config)
    trainer = Trainer(config, run)
    trainer.run()
    quality = [r for r in run.read_metrics() if "fid" in r]
    assert quality and quality[-1]["step"] == 4 and quality[-1]["fid"] > 0
    assert len(quality[-1]["coverage"]) == 10


def test_a_dataset_without_its_own_classifier_gets_the_generic_live_metric() -> None:
    trainer = Trainer(tiny_config(dataset="emoji", quality_every=2), None, dataset=blobs_dataset())
    assert trainer.quality is not None and trainer.quality.extractor.name == "random-conv-v1"
    assert trainer.quality_note == ""


def test_minutes_budget_ends_the_run_finished_with_a_final_grid_and_checkpoint() -> None:
    config = tiny_config(max_steps=0, epochs=0, max_minutes=0.005, sample_every=10**6, checkpoint_every=10**6)
    run = create_run(config)
    trainer = Trainer(config, run, dataset=blobs_dataset())
    assert trainer.total_steps == 0  # no step limit: only the clock ends it
    trainer.run()
    assert trainer.finished and trainer.elapsed >= 0.3
    assert trainer.step > 1
    assert [s for s, _ in run.sample_paths()] == [trainer.step]  # the last step drew its grid although none was due
    assert run.latest_checkpoint is not None
    last = [r for r in run.read_metrics() if "loss_d" in r][-1]
    assert last["step"] == trainer.step and last["eta"] is not None and last["eta"] <= 0.3


def test_minutes_budget_stops_before_the_steps_when_it_ends_first() -> None:
    config = tiny_config(max_steps=10**6, max_minutes=0.002)
    trainer = Trainer(config, None, dataset=blobs_dataset())
    trainer.run()
    assert trainer.finished and 1 <= trainer.step < 10**6


def test_resume_with_extra_steps_lifts_a_spent_minutes_budget() -> None:
    from ganlab.train.resume import extra_steps_overrides

    config = tiny_config(max_steps=0, epochs=0, max_minutes=0.002)
    run = create_run(config)
    first = Trainer(config, run, dataset=blobs_dataset())
    first.run()
    overrides = extra_steps_overrides(run, 3)
    assert overrides == {"max_steps": first.step + 3, "max_minutes": 0.0}
    again = resume_trainer(run, config_overrides=overrides, dataset=blobs_dataset())
    again.run()
    assert again.step == first.step + 3
