"""Checkpoints: atomic writes, weights-only loading, clear errors, generator rebuilt from the file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from ganlab import files
from ganlab.explore import load_generator
from ganlab.runs import checkpoint, create_run
from ganlab.runs.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ganlab.train.trainer import Trainer
from tests.helpers import blobs_dataset, tiny_config


def _trained_run(**changes):
    config = tiny_config(**{"max_steps": 4, **changes})
    run = create_run(config)
    Trainer(config, run, dataset=blobs_dataset()).run()
    return run


def test_save_is_atomic_when_rename_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "latest.pt"
    save_checkpoint(path, {"step": 1})

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", broken_replace)
    with pytest.raises(CheckpointError, match="could not write checkpoint .*disk full"):
        save_checkpoint(path, {"step": 2})
    assert load_checkpoint(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["latest.pt"]  # no temp file left behind


def test_save_reports_disk_full_during_write_and_keeps_previous(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "latest.pt"
    save_checkpoint(path, {"step": 1})
    real_fsync = os.fsync

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full_disk)
    with pytest.raises(CheckpointError, match="No space left on device"):
        save_checkpoint(path, {"step": 2})
    monkeypatch.setattr(files.os, "fsync", real_fsync)
    assert load_checkpoint(path)["step"] == 1


def test_load_refuses_pickle_that_runs_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.pt"
    torch.save({"format": checkpoint.FORMAT, "G": Evil()}, path)
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint(path)
    assert not marker.exists()


def test_load_rejects_truncated_and_foreign_files(tmp_path: Path) -> None:
    run = _trained_run()
    data = run.latest_checkpoint.read_bytes()
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="unreadable or truncated"):
        load_checkpoint(truncated)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    with pytest.raises(CheckpointError, match="not a GAN Lab checkpoint"):
        load_checkpoint(foreign)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "missing.pt")


def test_generator_rebuilt_from_checkpoint_alone_matches_trainer_samples() -> None:
    config = tiny_config(max_steps=4, ema=0.5)
    run = create_run(config)
    trainer = Trainer(config, run, dataset=blobs_dataset())
    trainer.run()
    loaded = load_generator(run.latest_checkpoint)
    assert loaded.used_ema and loaded.step == 4
    with torch.no_grad():
        assert torch.allclose(loaded.generator(trainer.fixed_z), trainer.sample(), atol=1e-6)
    raw = load_generator(run.latest_checkpoint, use_ema=False)
    assert not raw.used_ema


def test_checkpoint_from_other_architecture_is_refused_clearly(tmp_path: Path) -> None:
    run = _trained_run()
    data = torch.load(run.latest_checkpoint, weights_only=True)
    data["model_config"]["img_size"] = 32  # claims another layout than the stored weights
    bad = tmp_path / "other.pt"
    torch.save(data, bad)
    with pytest.raises(CheckpointError, match="weights do not match a dcgan generator at 32px"):
        load_generator(bad)


def test_only_newest_step_checkpoints_are_kept() -> None:
    run = _trained_run(max_steps=12, checkpoint_every=2, keep_checkpoints=2)
    assert [p.name for p in run.step_checkpoints()] == ["step_000010.pt", "step_000012.pt"]


def test_exported_generator_loads_from_card_and_matches_checkpoint(tmp_path: Path) -> None:
    from ganlab.runs.export import export_generator, list_pretrained

    run = _trained_run()
    export_generator(run.latest_checkpoint, "tiny", out_dir=tmp_path, card_extra={"command": "test"})
    cards = list_pretrained(tmp_path)
    assert [c["name"] for c in cards] == ["tiny"] and cards[0]["steps"] == 4
    pretrained = load_generator(tmp_path / "tiny.safetensors")
    from_checkpoint = load_generator(run.latest_checkpoint)
    z = torch.randn(4, pretrained.model_config.z_dim)
    with torch.no_grad():
        # fp16 storage: equal to the checkpoint's generator within half-precision rounding
        assert torch.allclose(pretrained.generator(z), from_checkpoint.generator(z), atol=2e-2)
    with pytest.raises(ValueError, match="name='../x'"):
        export_generator(run.latest_checkpoint, "../x", out_dir=tmp_path)


def test_ema_generator_has_batchnorm_statistics_of_its_own_weights() -> None:
    from ganlab.nets import recalibrate_batchnorm

    config = tiny_config(max_steps=6, ema=0.9)
    run = create_run(config)
    trainer = Trainer(config, run, dataset=blobs_dataset())
    trainer.run()
    bn = next(m for m in trainer.G_ema.modules() if isinstance(m, torch.nn.BatchNorm2d))
    before = bn.running_mean.clone()
    recalibrate_batchnorm(trainer.G_ema, batch_size=config.batch_size, seed=config.seed + 3)
    assert torch.allclose(bn.running_mean, before, atol=1e-5)  # already calibrated at save time


def test_export_refuses_an_existing_name_unless_forced_and_never_leaves_half_a_model(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ganlab.runs.export import export_generator, list_pretrained

    run = _trained_run()
    export_generator(run.latest_checkpoint, "tiny", out_dir=tmp_path)
    before = (tmp_path / "tiny.safetensors").read_bytes()
    with pytest.raises(ValueError, match="a model named .tiny. already exists"):
        export_generator(run.latest_checkpoint, "tiny", out_dir=tmp_path)
    real_replace = files.os.replace

    def crash_on_weights(src, dst):
        if str(dst).endswith(".safetensors"):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", crash_on_weights)
    with pytest.raises(OSError):
        export_generator(run.latest_checkpoint, "tiny", out_dir=tmp_path, overwrite=True)
    monkeypatch.undo()
    assert (tmp_path / "tiny.safetensors").read_bytes() == before  # the shipped model is intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.D.safetensors", "tiny.json", "tiny.safetensors"]  # no temps
    export_generator(run.latest_checkpoint, "tiny", out_dir=tmp_path, overwrite=True, use_ema=False)
    assert [c["name"] for c in list_pretrained(tmp_path)] == ["tiny"]


def test_weights_that_became_nan_are_never_written_to_a_checkpoint() -> None:
    from ganlab.train.events import DivergedError
    from ganlab.train.trainer import Trainer

    run = create_run(tiny_config(max_steps=8, checkpoint_every=4))
    trainer = Trainer(run.config(), run)
    for _ in range(4):
        trainer.train_step()  # checkpoint at step 4
    good = run.latest_checkpoint.read_bytes()
    with torch.no_grad():
        next(trainer.G.parameters()).fill_(float("nan"))  # the last update blew up; the losses were still finite
    trainer.step = 7
    with pytest.raises(DivergedError, match="G's weights became NaN/inf.*last good checkpoint: step 4"):
        trainer.save()
    assert run.latest_checkpoint.read_bytes() == good


def test_a_pretrained_card_that_is_a_json_list_is_listed_and_loading_it_says_why(tmp_path: Path) -> None:
    from ganlab.runs.export import list_pretrained

    (tmp_path / "odd.safetensors").write_bytes(b"x")
    (tmp_path / "odd.json").write_text("[1, 2, 3]")
    cards = list_pretrained(tmp_path)
    assert [c["name"] for c in cards] == ["odd"]
    with pytest.raises(CheckpointError, match="odd.json: invalid model card"):
        load_generator(tmp_path / "odd.safetensors")
