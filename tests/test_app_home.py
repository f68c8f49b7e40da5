"""AppTest of the Home page: empty gallery state, a pretrained grid with new seeds, the quick start."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ganlab import paths
from ganlab.config import ModelConfig

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")



@pytest.fixture
def pretrained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty pretrained folder in place of the repository's."""
    folder = tmp_path / "pretrained"
    folder.mkdir()
    monkeypatch.setattr(paths, "pretrained_dir", lambda: folder)
    return folder


def write_tiny_generator(folder: Path, name: str = "tiny-digits") -> None:
    """A randomly initialised 16 px DCGAN generator with its model card, as export would write it."""
    from safetensors.torch import save_file

    from ganlab.nets import build_generator

    mc = ModelConfig(arch="dcgan", img_size=16, img_channels=1, z_dim=8, g_channels=8, d_channels=8)
    state = {k: v.contiguous() for k, v in build_generator(mc).state_dict().items()}
    save_file(state, str(folder / f"{name}.safetensors"))
    card = {"name": name, "dataset": "digits", "architecture": "dcgan", "loss": "bce",
            "model_config": mc.to_dict(), "steps": 10}
    (folder / f"{name}.json").write_text(json.dumps(card))


def test_home_without_pretrained_models_shows_friendly_state(app_manager, pretrained: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "GAN Lab"
    assert any("No pretrained generators yet" in i.value for i in at.info)
    assert not at.error
    assert at.button(key="home.quickstart").label == "Train a DCGAN on digits"


def test_home_gallery_shows_a_grid_and_new_seed_changes_it(app_manager, pretrained: Path) -> None:
    write_tiny_generator(pretrained)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    captions = [c for image in at.image for c in image.captions]
    assert "seeds 0–15" in captions
    at.button(key="home.new_seed.tiny-digits").click().run()
    seed = at.session_state["home.seed.tiny-digits"]
    assert f"seeds {seed}–{seed + 15}" in [c for image in at.image for c in image.captions]


def test_home_broken_pretrained_file_is_an_error_not_a_traceback(app_manager, pretrained: Path) -> None:
    (pretrained / "broken.safetensors").write_bytes(b"not a safetensors file")
    (pretrained / "broken.json").write_text(json.dumps({"name": "broken", "model_config": {"arch": "dcgan"}}))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    assert any("broken" in e.value for e in at.error)


def test_quick_start_submits_digits_job_and_switches_to_train(app_manager, pretrained: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.button(key="home.quickstart").click().run()
    assert not at.exception, at.exception
    jobs = app_manager.jobs()
    assert len(jobs) == 1
    config = jobs[0].config
    assert (config.dataset, config.arch, config.img_size) == ("digits", "dcgan", 32)
    assert 200 <= config.total_steps(1797) <= 1000  # long enough to show digits, short enough for a demo
    assert at.title[0].value == "Train"
    assert at.session_state["train.selected_job"] == jobs[0].job_id
    assert any("Quick start" in s.value for s in at.success)
