"""A live metric for every run (in-memory and streamed folders), checkpoints/best.pt by it, exact resume with it,
and the collapse alarm (trainer, live gauge and the Playground's mode count)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from ganlab.data import FolderStream, open_dataset
from ganlab.metrics import CollapseWatch, LiveQuality, extractor_by_name
from ganlab.runs import create_run, load_checkpoint
from ganlab.toy import collapse_alarm, known_modes
from ganlab.train.resume import resume_trainer
from ganlab.train.trainer import Trainer
from tests.helpers import blobs_dataset, tiny_config

RECORD_KEYS = {"fid", "kid", "precision", "recall", "density", "knn_coverage", "spread", "extractor", "n_fake",
               "n_real", "n_manifold", "real_split"}


def _quality_records(run) -> list[dict]:
    return [r for r in run.read_metrics() if "fid" in r]


def _folder(tmp_path, n: int = 24, channels: int = 3):
    gen = np.random.default_rng(0)
    for i in range(n):
        pixels = gen.integers(0, 256, (16, 16, channels) if channels == 3 else (16, 16), dtype=np.uint8)
        Image.fromarray(pixels).save(tmp_path / f"img_{i:03d}.png")
    return tmp_path


# --------------------------------------------------------------------------- a live metric for every dataset


def test_unlabelled_in_memory_dataset_gets_the_generic_live_metric():
    config = tiny_config(dataset="my-folder", quality_every=4)
    run = create_run(config)
    trainer = Trainer(config, run, dataset=blobs_dataset())
    assert trainer.quality is not None and trainer.quality.extractor.name == "random-conv-v1"
    trainer.run()
    records = _quality_records(run)
    assert [r["step"] for r in records] == [4, 8]
    assert RECORD_KEYS <= set(records[-1])
    assert records[-1]["n_real"] == 96 and records[-1]["n_fake"] == 1000 and "blobs" in records[-1]["real_split"]


def test_streamed_folder_gets_a_live_metric_from_a_decoded_sample(tmp_path):
    folder = _folder(tmp_path)
    stream = open_dataset("folder", path=str(folder), size=16, channels=3, memory_budget=1)
    assert isinstance(stream, FolderStream)
    config = tiny_config(dataset="folder", data_path=str(folder), channels=3, batch_size=8, max_steps=2,
                         quality_every=2)
    run = create_run(config)
    trainer = Trainer(config, run, dataset=stream)
    trainer.run()
    (record,) = _quality_records(run)
    assert record["extractor"] == "random-conv-v1" and record["n_real"] == 24 and record["step"] == 2


# --------------------------------------------------------------------------- checkpoints/best.pt


def _scripted(trainer, values):
    """Make the live gauge report the given FD values, one per measure (the real gauge is tested elsewhere)."""
    values = iter(values)
    quality = trainer.quality

    def measure(generator, labels=None, step=0):
        return {"fid": next(values), "extractor": quality.extractor.name, "n_fake": 10, "n_real": 10}

    quality.measure = measure


def _best_step(run) -> int | None:
    path = run.checkpoints_dir / "best.pt"
    return int(load_checkpoint(path)["step"]) if path.is_file() else None


def test_best_checkpoint_changes_only_when_the_metric_improves():
    config = tiny_config(dataset="my-folder", quality_every=1, max_steps=6, checkpoint_every=3)
    run = create_run(config)
    trainer = Trainer(config, run, dataset=blobs_dataset())
    _scripted(trainer, [5.0, 3.0, 4.0, 3.0, 2.0, 9.0])
    seen = []
    for _ in range(6):
        trainer.train_step()
        seen.append(_best_step(run))
    assert seen == [1, 2, 2, 2, 5, 5]
    assert trainer.ticks.best == {"fid": 2.0, "step": 5, "extractor": "random-conv-v1"}
    assert [r.get("best", False) for r in _quality_records(run)] == [True, True, False, False, True, False]


def test_resume_keeps_best_checkpoint_and_best_value():
    data = blobs_dataset()
    config = tiny_config(dataset="my-folder", quality_every=1, max_steps=4, checkpoint_every=4)
    run = create_run(config)
    first = Trainer(config, run, dataset=data)
    _scripted(first, [5.0, 2.0, 3.0, 4.0])
    first.run()
    assert _best_step(run) == 2
    resumed = resume_trainer(run, dataset=data, config_overrides={"max_steps": 7})
    assert resumed.ticks.best == {"fid": 2.0, "step": 2, "extractor": "random-conv-v1"}
    _scripted(resumed, [2.5, 1.5, 7.0])
    resumed.train_step()
    assert _best_step(run) == 2  # 2.5 is no better than the 2.0 kept from before the resume
    resumed.train_step()
    assert _best_step(run) == 6


def test_resume_with_live_metric_continues_identical_losses():
    data = blobs_dataset()
    straight = create_run(tiny_config(dataset="my-folder", quality_every=2, max_steps=8, ema=0.9))
    Trainer(straight.config(), straight, dataset=data).run()
    split = create_run(tiny_config(dataset="my-folder", quality_every=2, max_steps=8, ema=0.9))
    first = Trainer(split.config(), split, dataset=data)
    first.run(abort=lambda: first.step >= 4)
    resumed = resume_trainer(split, dataset=data)
    resumed.run()

    def losses(run):
        return [(r["step"], r["loss_d"], r["loss_g"]) for r in run.read_metrics() if "loss_d" in r]

    assert losses(split) == losses(straight)
    # Which steps are measured depends on wall-clock time (the 5% budget); those measured in both must agree.
    fid_split = {r["step"]: r["fid"] for r in _quality_records(split)}
    fid_straight = {r["step"]: r["fid"] for r in _quality_records(straight)}
    common = set(fid_split) & set(fid_straight)
    assert 8 in common and all(fid_split[s] == fid_straight[s] for s in common)


# --------------------------------------------------------------------------- the collapse alarm


class Replay(nn.Module):
    """G replaying a bank of real images; collapse=True always returns the first one (output ignores z)."""

    def __init__(self, bank: torch.Tensor, collapse: bool = False) -> None:
        super().__init__()
        self.z_dim = 8
        self.bank = bank.float() / 127.5 - 1
        self.collapse = collapse
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        idx = (z[:, 0].abs() * 1e6).long() % len(self.bank)
        return self.bank[idx * 0 if self.collapse else idx] * self.scale


@pytest.fixture(scope="module")
def digits():
    return open_dataset("digits", size=16).images


@pytest.mark.parametrize("name", ["digits-layers", "random-conv-v1"])
def test_alarm_fires_on_collapsed_generator_and_not_on_healthy_one(digits, name):
    extractor = extractor_by_name(name, 1, 16)
    alarms = {}
    for label, g in (("healthy", Replay(digits[900:])), ("collapsed", Replay(digits[900:], collapse=True))):
        live = LiveQuality(extractor, digits[:900], n_fake=400, kid_subsets=2, kid_subset_size=200)
        alarms[label] = [live.measure(g, step=s).get("alarm") for s in (100, 200, 300)]
    assert alarms["healthy"] == [None, None, None]
    first, _, third = alarms["collapsed"]
    if extractor.num_classes:  # realistic images of one class: the class band fires at once
        assert "class 4 makes up 100%" in first["message"]
    else:  # one low measure is not enough (an untrained G looks alike too)
        assert first is None
    assert third["kind"] == "collapse" and "stayed below" in third["message"] and "lr_g" in third["try"]


def test_alarm_reaches_metrics_jsonl_for_a_run_whose_generator_ignores_z():
    config = tiny_config(dataset="my-folder", quality_every=1, max_steps=4)
    run = create_run(config)
    trainer = Trainer(config, run, dataset=blobs_dataset())
    forward = trainer.G.forward
    trainer.G.forward = lambda z, labels=None: forward(torch.zeros_like(z), labels)  # deliberately collapsed
    trainer.run()
    alarms = [r.get("alarm") for r in _quality_records(run)]
    assert alarms[:2] == [None, None] and all(a and a["kind"] == "collapse" for a in alarms[2:])


def test_alarm_on_a_sharp_drop_and_on_a_class_outside_its_band():
    watch = CollapseWatch(num_classes=4)
    assert watch.check({"knn_coverage": 0.6, "precision": 0.8, "spread": 0.9}, step=100) is None
    drop = watch.check({"knn_coverage": 0.2, "precision": 0.8, "spread": 0.9}, step=200)
    assert "coverage fell from 0.60 (step 100) to 0.20" in drop["message"]
    state = watch.state_dict()
    again = CollapseWatch(num_classes=4)
    again.load_state_dict(state)
    assert again.state_dict() == state
    shares = {"knn_coverage": 0.6, "precision": 0.8, "spread": 0.9, "coverage": [0.85, 0.05, 0.05, 0.05]}
    assert "class 0 makes up 85%" in CollapseWatch(num_classes=4).check(shares)["message"]
    garbage = {**shares, "precision": 0.1}  # class shares of images that do not look real say nothing
    assert CollapseWatch(num_classes=4).check(garbage) is None


def test_playground_alarm_uses_the_mode_count():
    ring = known_modes("ring")
    everywhere = np.repeat(ring, 50, axis=0) + np.random.default_rng(0).normal(0, 0.02, (400, 2))
    assert collapse_alarm(everywhere, "ring") is None
    one_mode = np.repeat(ring[:1], 400, axis=0)
    assert "covers 1 of the 8 modes" in collapse_alarm(one_mode, "ring")["message"]
    assert collapse_alarm(one_mode, "moons") is None  # no known modes: nothing to count
