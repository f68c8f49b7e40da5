"""AppTest of the export and download buttons: Runs (export a model, download it and the run folder as zips)
and Explore (the current image and the seed grid as PNG)."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from ganlab import paths
from ganlab.config import TrainConfig
from ganlab.runs import create_run, list_runs
from tests.helpers import open_page, record_state

TIMEOUT = 60


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny trained run with two step checkpoints besides latest.pt, made once per module."""
    from ganlab.train.trainer import Trainer

    home = tmp_path_factory.mktemp("exports_template")
    cfg = TrainConfig(dataset="digits", img_size=16, g_channels=8, d_channels=8, max_steps=6, batch_size=32,
                      sample_every=3, checkpoint_every=3, log_every=1, threads=1, ema=0.9, z_dim=16,
                      name="exportable")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANLAB_HOME", str(home))
        run = create_run(cfg)
        Trainer(cfg, run).run()
        record_state(run, "finished")
    return run.path


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """GANLAB_PRETRAINED: an empty models folder of this test (exports land here, never in the checkout)."""
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("GANLAB_PRETRAINED", str(folder))
    return folder


@pytest.fixture
def run_id(trained_run: Path, models: Path) -> str:
    shutil.copytree(trained_run, paths.runs_dir() / trained_run.name)
    return list_runs()[0].id


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> dict[str, Callable[[], bytes]]:
    """file name -> the callable a download button runs on click (AppTest drops the media store after a run)."""
    found: dict[str, Callable[[], bytes]] = {}
    original = MediaFileManager.add_deferred

    def spy(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        found[file_name] = data_callable
        return original(self, data_callable, mimetype, coordinates, file_name=file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", spy)
    return found


def runs_page() -> AppTest:
    return open_page("pages/2_Runs.py", TIMEOUT).run()


def test_export_writes_the_model_and_offers_its_zip(run_id: str, models: Path, downloads) -> None:
    at = runs_page()
    assert not at.exception
    assert at.text_input(key=f"runs.export_name.{run_id}").value == "exportable"
    assert not [b for b in at.download_button if b.key == "runs.download_model"], "nothing exported yet"
    at.button(key="runs.export").click().run()
    assert not at.exception and not at.error
    assert "Exported" in at.success[0].value and "exportable" in at.success[0].value
    card = json.loads((models / "exportable.json").read_text())
    assert card["run"] == run_id and card["ema"] is True
    button = at.download_button(key="runs.download_model")
    assert button.label == "Download model exportable (.zip)"
    with zipfile.ZipFile(io.BytesIO(downloads["exportable.zip"]())) as z:
        assert sorted(z.namelist()) == ["exportable.json", "exportable.safetensors"]
        assert z.read("exportable.safetensors") == (models / "exportable.safetensors").read_bytes()


def test_export_refuses_a_taken_name_until_replace_is_ticked(run_id: str, models: Path) -> None:
    at = runs_page()
    at.button(key="runs.export").click().run()
    first = (models / "exportable.safetensors").stat().st_mtime_ns
    at.toggle(key="runs.export_ema").set_value(False)
    at.button(key="runs.export").click().run()
    assert "already exists" in at.error[0].value and "Replace" in at.error[0].value
    assert (models / "exportable.safetensors").stat().st_mtime_ns == first
    at.checkbox(key="runs.export_overwrite").check()
    at.button(key="runs.export").click().run()
    assert not at.error and at.success
    assert json.loads((models / "exportable.json").read_text())["ema"] is False


def test_export_rejects_a_bad_name_with_the_rule(run_id: str, models: Path) -> None:
    at = runs_page()
    at.text_input(key=f"runs.export_name.{run_id}").set_value("../../evil").run()
    at.button(key="runs.export").click().run()
    assert "letters, digits" in at.error[0].value
    assert list(models.iterdir()) == []


def test_run_folder_download_is_a_bounded_zip_without_old_step_checkpoints(run_id: str, downloads) -> None:
    at = runs_page()
    assert at.download_button(key="runs.download_run").label == "Download run folder (.zip)"
    caption = next(c.value for c in at.caption if "before compression" in c.value)
    assert "256 MiB" in caption and "older step checkpoint" in caption
    with zipfile.ZipFile(io.BytesIO(downloads[f"{run_id}.zip"]())) as z:
        inside = z.namelist()
    assert f"{run_id}/checkpoints/latest.pt" in inside and f"{run_id}/metrics.jsonl" in inside
    assert not [n for n in inside if "checkpoints/step_" in n]


def test_explore_downloads_the_image_and_the_seed_grid_as_png(run_id: str, downloads) -> None:
    at = open_page("pages/3_Explore.py", TIMEOUT).run()
    assert not at.exception
    assert at.download_button(key="explore.dl_image").label == "Download image (PNG)"
    assert at.download_button(key="explore.dl_grid").label == "Download grid (PNG)"
    with Image.open(io.BytesIO(downloads["ganlab-seed-0.png"]())) as image:
        assert image.format == "PNG" and min(image.size) >= 320  # as shown: 16 px upscaled, still sharp
    with Image.open(io.BytesIO(downloads["ganlab-seed-grid.png"]())) as grid:
        assert grid.format == "PNG" and grid.width >= 512
