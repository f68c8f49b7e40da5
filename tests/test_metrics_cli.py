"""`python -m ganlab evaluate` (one JSON object, the same code the app uses) and picking best or latest by run id
in evaluate, sample, export and load_generator."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganlab.cli.main import main
from ganlab.explore import load_generator
from ganlab.runs import RunError, create_run
from ganlab.runs.locate import checkpoint_path
from ganlab.train.trainer import Trainer
from tests.helpers import tiny_config

JSON_KEYS = {"fid", "kid", "kid_std", "precision", "recall", "density", "knn_coverage", "coverage", "extractor",
             "n_fake", "n_real", "n_manifold", "real_split", "extractor_note", "checkpoint", "step", "dataset"}


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """A tiny digits run with latest.pt (step 6) and best.pt (written by the live metric)."""
    config = tiny_config(quality_every=2, max_steps=6, checkpoint_every=6)
    run = create_run(config, tmp_path_factory.mktemp("runs"))
    Trainer(config, run).run()
    return run


def _json(capsys) -> dict:
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1  # exactly one JSON object, nothing else on stdout
    return json.loads(out[0])


def test_evaluate_prints_one_json_object_with_every_metric(digits_run, capsys):
    assert main(["evaluate", str(digits_run.latest_checkpoint), "--samples", "60"]) == 0
    result = _json(capsys)
    assert JSON_KEYS <= set(result)
    assert result["extractor"] == "digits-layers" and result["n_fake"] == 60 and result["n_real"] == 1797
    assert result["dataset"] == "digits" and result["step"] == 6 and len(result["coverage"]) == 10
    assert result["real_split"] == "digits (training images)"


def test_evaluate_by_run_id_best_and_named_extractor(digits_run, capsys, monkeypatch):
    monkeypatch.setenv("GANLAB_HOME", str(digits_run.path.parent.parent))
    best = digits_run.checkpoints_dir / "best.pt"
    assert best.is_file()
    monkeypatch.chdir(digits_run.path.parent)  # the id also names the folder here; the run lookup must win
    assert main(["evaluate", str(digits_run.path), "--which", "best", "--extractor", "random-conv-v1",
                 "--samples", "40"]) == 0
    result = _json(capsys)
    assert result["checkpoint"] == str(best) and result["extractor"] == "random-conv-v1"
    assert result["coverage"] is None and result["n_fake"] == 40


def test_evaluate_same_numbers_twice_from_the_cache(digits_run, capsys):
    main(["evaluate", str(digits_run.latest_checkpoint), "--samples", "40"])
    first = _json(capsys)
    main(["evaluate", str(digits_run.latest_checkpoint), "--samples", "40"])
    second = _json(capsys)
    assert {k: v for k, v in first.items() if k != "seconds"} == {k: v for k, v in second.items() if k != "seconds"}


def test_evaluate_rgb_folder_without_inception_uses_the_generic_extractor_and_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # no cached Inception weights
    folder = tmp_path / "pics"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(20):
        Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    config = tiny_config(dataset="folder", data_path=str(folder), channels=3, batch_size=8, max_steps=2)
    run = create_run(config)
    Trainer(config, run).run()
    assert main(["evaluate", str(run.latest_checkpoint), "--samples", "30"]) == 0
    result = _json(capsys)
    assert result["extractor"] == "random-conv-v1" and result["n_real"] == 20
    assert "inception-v3 is not available" in result["extractor_note"]


def test_evaluate_user_errors_are_one_line(capsys, tmp_path):
    assert main(["evaluate", str(tmp_path / "missing.pt")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "missing.pt"), "--samples", "3"]) == 2
    assert "samples=3" in capsys.readouterr().err


def test_sample_and_export_pick_best_or_latest_by_run_id(digits_run, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GANLAB_HOME", str(digits_run.path.parent.parent))
    monkeypatch.setattr("ganlab.paths.runs_dir", lambda: digits_run.path.parent)
    best = load_generator(digits_run.id, which="best")
    assert best.source == str(digits_run.checkpoints_dir / "best.pt")
    assert load_generator(digits_run.id).source == str(digits_run.latest_checkpoint)
    assert main(["sample", digits_run.id, "--which", "best", "--seeds", "0-3", "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").is_file()
    assert main(["export", digits_run.id, "mine", "--which", "best", "--out", str(tmp_path / "models")]) == 0
    assert (tmp_path / "models" / "mine.safetensors").is_file()
    assert load_generator(str(digits_run.latest_checkpoint)).step == 6  # plain paths work as before


def test_checkpoint_path_says_when_best_does_not_exist_yet(tmp_path):
    run = create_run(tiny_config(), tmp_path)
    (run.checkpoints_dir / "latest.pt").write_bytes(b"x")
    assert checkpoint_path(run.path) == run.checkpoints_dir / "latest.pt"
    with pytest.raises(RunError, match="no best.pt yet .*quality_every"):
        checkpoint_path(run.path, "best")
    with pytest.raises(ValueError, match="which='worst'"):
        checkpoint_path(run.path, "worst")


def test_a_run_id_with_a_dot_is_found_by_its_id(tmp_path):
    run = create_run(tiny_config(name="sweep lr_g=0.0002"), tmp_path)  # sweep runs are named like this
    assert "." in run.id
    (run.checkpoints_dir / "latest.pt").write_bytes(b"x")
    assert checkpoint_path(run.id, root=tmp_path) == run.checkpoints_dir / "latest.pt"
    assert checkpoint_path("missing.pt", root=tmp_path) == Path("missing.pt")  # a file name stays a file name
