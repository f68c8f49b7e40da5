"""Exporting a run's generator (the app's checks: names, taken names, atomic files) and the download zips."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest

from ganlab.explore import load_generator
from ganlab.runs import ExportError, RunError, archive, create_run, export_run, rename_run, suggest_model_name
from ganlab.runs.archive import model_zip_bytes, plan_run_zip, run_zip_bytes, write_run_zip
from ganlab.train import Trainer
from tests.helpers import blobs_dataset, record_state, tiny_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny trained run (3 step checkpoints + latest.pt), made once; tests copy it."""
    home = tmp_path_factory.mktemp("archive_home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANLAB_HOME", str(home))
        config = tiny_config(max_steps=12, checkpoint_every=4, sample_every=4, keep_checkpoints=3, name="zip me")
        run = create_run(config)
        Trainer(config, run, dataset=blobs_dataset()).run()
        record_state(run, "finished", step=12)
    return run.path


@pytest.fixture
def run(trained: Path, tmp_path: Path):
    import shutil

    from ganlab.runs import Run

    copy = tmp_path / "runs" / trained.name
    shutil.copytree(trained, copy)
    return Run(copy)


def names(data: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(data)).namelist()


# --------------------------------------------------------------------------- export


def test_export_run_writes_a_loadable_model_with_its_run_and_data_licence(run, tmp_path: Path) -> None:
    weights = export_run(run, "my-model", out_dir=tmp_path / "models")
    card = json.loads(weights.with_suffix(".json").read_text())
    assert card["run"] == run.id and card["steps"] == 12
    assert card["dataset"] == "blobs" and "data_licence" not in card  # made-up data: no licence is claimed
    assert load_generator(weights).step == 12
    assert not [p.name for p in weights.parent.iterdir() if p.name.startswith(".")], "temp files left behind"


def test_built_in_datasets_have_their_data_licence() -> None:
    from ganlab.data.licences import data_licence

    assert data_licence("digits")["data_licence"] == "CC-BY-4.0"
    assert data_licence("fashion-mnist")["data_licence"] == "MIT"
    assert data_licence("emoji-all")["data_licence"] == data_licence("emoji:faces")["data_licence"] == "OFL-1.1"
    assert data_licence("mnist") == data_licence("folder") == {}  # terms not recorded here: nothing claimed


def test_export_refuses_a_taken_name_unless_told_to_replace(run, tmp_path: Path) -> None:
    folder = tmp_path / "models"
    first = export_run(run, "taken", out_dir=folder).read_bytes()
    with pytest.raises(ExportError, match=r"'taken' already exists .*--force"):
        export_run(run, "taken", out_dir=folder, use_ema=False)
    assert (folder / "taken.safetensors").read_bytes() == first, "a refused export must not touch the files"
    export_run(run, "taken", out_dir=folder, overwrite=True)
    with pytest.raises(ExportError, match="letters, digits"):
        export_run(run, "../escape", out_dir=folder)


def test_export_of_a_run_without_checkpoint_says_why(tmp_path: Path) -> None:
    fresh = create_run(tiny_config())
    with pytest.raises(ExportError, match="no checkpoint yet"):
        export_run(fresh, "x", out_dir=tmp_path)


def test_suggested_model_name_is_valid_and_readable(run) -> None:
    assert suggest_model_name(run) == "zip-me"
    rename_run(run, "«über» ✨")
    assert suggest_model_name(run) == "ber"
    rename_run(run, "✨")
    assert suggest_model_name(run) == run.id


def test_cli_export_refuses_a_taken_name_and_force_replaces(run, tmp_path: Path, capsys) -> None:
    from ganlab.cli import main

    args = ["export", str(run.latest_checkpoint), "cli-model", "--out", str(tmp_path)]
    assert main(args) == 0
    assert main(args) == 2 and "already exists" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0


# --------------------------------------------------------------------------- zips


def test_run_zip_holds_the_run_but_not_the_older_step_checkpoints(run) -> None:
    assert len(run.step_checkpoints()) == 3
    data = run_zip_bytes(run)
    inside = names(data)
    prefix = f"{run.id}/"
    for expected in ("config.json", "metrics.jsonl", "status.json", "name.txt", "checkpoints/latest.pt",
                     "samples/step_000012.png", "README.txt"):
        assert prefix + expected in inside, expected
    assert not [n for n in inside if "/checkpoints/step_" in n]
    readme = zipfile.ZipFile(io.BytesIO(data)).read(prefix + "README.txt").decode()
    assert "3 older step checkpoint(s)" in readme
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.read(prefix + "metrics.jsonl") == (run.path / "metrics.jsonl").read_bytes()
        assert z.testzip() is None


def test_run_zip_leaves_out_latest_checkpoint_that_would_break_the_limit(run) -> None:
    small = sum(p.stat().st_size for p in run.path.rglob("*") if p.is_file() and p.suffix != ".pt")
    plan = plan_run_zip(run, limit=small + 10)
    assert all(not name.endswith(".pt") for _, name in plan.members)
    assert any("latest.pt" in note and "exceed" in note for note in plan.left_out)
    with pytest.raises(RunError, match="copy the folder"):
        plan_run_zip(run, limit=small // 2)


def test_run_zip_copies_in_chunks_and_skips_temp_files_and_links(run, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(archive, "CHUNK", 1000)  # many chunks per file
    (run.path / ".metrics.jsonl.123.abcdefgh.tmp").write_text("half written")
    secret = tmp_path / "secret.txt"
    secret.write_text("not part of the run")
    os.symlink(secret, run.path / "link.txt")
    out = io.BytesIO()
    write_run_zip(run, out)
    with zipfile.ZipFile(out) as z:
        assert not [n for n in z.namelist() if n.endswith(".tmp") or n.endswith("link.txt")]
        latest = z.read(f"{run.id}/checkpoints/latest.pt")
    assert latest == run.latest_checkpoint.read_bytes()  # about 100 chunks, reassembled exactly


def test_model_zip_holds_weights_and_card(run, tmp_path: Path) -> None:
    export_run(run, "zipped", out_dir=tmp_path)
    data = model_zip_bytes("zipped", tmp_path)
    assert sorted(names(data)) == ["zipped.json", "zipped.safetensors"]
    with pytest.raises(RunError, match="no zipped2.safetensors"):
        model_zip_bytes("zipped2", tmp_path)
    with pytest.raises(ExportError):
        model_zip_bytes("../zipped", tmp_path)
