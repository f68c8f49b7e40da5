"""AppTest of the Explore page: generator from a run checkpoint, sliders change the image, GIF/zip export."""

from __future__ import annotations

import io
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from ganlab import paths
from ganlab.config import TrainConfig
from ganlab.runs import create_run, list_runs
from tests.helpers import open_page

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "3_Explore.py")
TIMEOUT = 60


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny trained run (EMA on, so the EMA toggle has weights to pick), made once per module."""
    from ganlab.train.trainer import Trainer

    home = tmp_path_factory.mktemp("explore_template")
    cfg = TrainConfig(dataset="digits", img_size=16, g_channels=8, d_channels=8, max_steps=6, batch_size=32,
                      sample_every=3, checkpoint_every=3, log_every=1, threads=1, ema=0.9, z_dim=16)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANLAB_HOME", str(home))
        run = create_run(cfg)
        Trainer(cfg, run).run()
    return run.path


@pytest.fixture
def no_pretrained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty pretrained/ folder, so the page's choices do not depend on what the repo ships."""
    empty = tmp_path / "pretrained"
    empty.mkdir()
    monkeypatch.setattr(paths, "pretrained_dir", lambda: empty)


@pytest.fixture
def run_id(trained_run: Path, no_pretrained: None) -> str:
    shutil.copytree(trained_run, paths.runs_dir() / trained_run.name)
    return list_runs()[0].id


@pytest.fixture
def media_bytes(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], bytes]:
    """url -> bytes of what the app handed to Streamlit's media store (AppTest drops the store after a run)."""
    stored: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def spy(self, path_or_data, mimetype, kind, filename=None):  # noqa: ANN001 - mirrors Streamlit's signature
        file_id = original(self, path_or_data, mimetype, kind, filename)
        stored[file_id] = self._files_by_id[file_id].content
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    return lambda url: stored[url.rsplit("/", 1)[-1].split(".")[0]]


def explore_page() -> AppTest:
    at = open_page("pages/3_Explore.py", TIMEOUT).run()
    assert not at.exception, at.exception
    return at


def main_image(at: AppTest) -> str:
    return next(img.value[0] for img in at.image if img.captions[0].startswith("seed "))


def grid_image(at: AppTest) -> str:
    return next(img.value[0] for img in at.image if img.captions[0].startswith("seeds "))


def test_explore_smoke_without_generators_shows_hint(no_pretrained: None) -> None:
    at = explore_page()
    assert "Nothing to explore yet" in at.info[0].value
    assert not at.slider


def test_explore_renders_run_checkpoint_with_ema_and_grid(run_id: str) -> None:
    at = explore_page()
    assert at.radio(key="explore.kind").value == "Run checkpoint"
    assert at.selectbox(key="explore.run").value == run_id
    assert at.selectbox(key="explore.ckpt").options == ["latest", "best", "step 6", "step 3"]
    assert any("step 6" in c.value and "EMA weights" in c.value for c in at.caption)
    assert len([s for s in at.slider if s.key.startswith("explore.dim.")]) == 8
    main_image(at), grid_image(at)  # both rendered


def test_latent_slider_changes_main_image_but_not_seed_grid(run_id: str, media_bytes) -> None:
    at = explore_page()
    before, grid_before = media_bytes(main_image(at)), media_bytes(grid_image(at))
    at.slider(key="explore.dim.0").set_value(2.5).run()
    assert not at.exception
    after = media_bytes(main_image(at))
    assert after[:8] == b"\x89PNG\r\n\x1a\n" and after != before
    assert media_bytes(grid_image(at)) == grid_before  # offsets move the slider point only
    at.button(key="explore.reset").click().run()
    assert at.slider(key="explore.dim.0").value == 0.0
    assert media_bytes(main_image(at)) == before


def test_principal_direction_slider_changes_image_and_each_direction_has_a_strip(run_id: str, media_bytes) -> None:
    at = explore_page()
    assert not at.exception and not at.error
    before = media_bytes(main_image(at))  # directions at 0 sigma leave z unchanged
    strips = [img for img in at.image if img.captions and img.captions[0].startswith("PC ")]
    assert len(strips) == len([s for s in at.slider if s.key.startswith("explore.pc.")]) > 0
    assert strips[0].captions[0] == "PC 1 from −2σ to +2σ"
    at.slider(key="explore.pc.0").set_value(3.0).run()
    assert media_bytes(main_image(at)) != before


def test_every_latent_dimension_has_a_slider_and_offsets_survive_paging(run_id: str, media_bytes) -> None:
    at = explore_page()
    pages = at.selectbox(key="explore.dim_page")
    assert list(pages.options) == ["z[0] – z[7]", "z[8] – z[15]"]  # z_dim 16: every dimension, 8 at a time
    at.slider(key="explore.dim.2").set_value(2.0).run()
    moved = media_bytes(main_image(at))
    pages.set_value(pages.options[1]).run()  # show z[8]..z[15]: z[2]'s offset stays applied
    assert at.slider(key="explore.dim.9") and media_bytes(main_image(at)) == moved
    at.slider(key="explore.dim.9").set_value(-2.0).run()
    assert media_bytes(main_image(at)) != moved


def test_slider_offsets_reset_when_the_model_changes(run_id: str, media_bytes) -> None:
    at = explore_page()
    at.slider(key="explore.dim.1").set_value(3.0).run()
    at.selectbox(key="explore.ckpt").set_value(at.selectbox(key="explore.ckpt").options[-1]).run()
    assert not at.exception
    assert at.slider(key="explore.dim.1").value == 0.0
    assert at.session_state["explore.offsets"] == {}


def test_dimension_sweep_grid_and_download(run_id: str) -> None:
    at = explore_page()
    assert any(img.captions and "rows; −2σ … +2σ" in img.captions[0] for img in at.image)
    assert at.download_button(key="explore.dl_sweep")
    at.text_input(key="explore.sweep_rows").set_value("0-20").run()
    assert "dimension 16 does not exist" in at.error[0].value


def test_seed_grid_rejects_backwards_range_with_fix(run_id: str) -> None:
    at = explore_page()
    at.text_input(key="explore.grid_seeds").set_value("9-2").run()
    assert not at.exception
    assert "runs backwards" in at.error[0].value and "What to do" in at.error[0].value


def test_build_gif_download_is_gif_with_requested_frame_count(run_id: str, media_bytes) -> None:
    at = explore_page()
    at.text_input(key="explore.key_seeds").set_value("0,5,9")
    at.slider(key="explore.frames").set_value(7)
    at.select_slider(key="explore.side").set_value(64)
    at.button(key="explore.build").click().run()
    assert not at.exception and not at.error
    gif = media_bytes(at.download_button(key="explore.dl_gif").proto.url)
    assert gif[:4] == b"GIF8"
    with Image.open(io.BytesIO(gif)) as im:
        assert im.n_frames == 7 and im.size == (64, 64)
    frames_zip = media_bytes(at.download_button(key="explore.dl_zip").proto.url)
    with zipfile.ZipFile(io.BytesIO(frames_zip)) as zf:
        assert len(zf.namelist()) == 7


def test_pingpong_from_current_point_keeps_requested_frame_count(run_id: str, media_bytes) -> None:
    at = explore_page()
    at.slider(key="explore.dim.1").set_value(-1.0).run()
    at.checkbox(key="explore.use_current").check()
    at.checkbox(key="explore.pingpong").check()
    at.slider(key="explore.frames").set_value(12)
    at.button(key="explore.build").click().run()
    gif = media_bytes(at.download_button(key="explore.dl_gif").proto.url)
    with Image.open(io.BytesIO(gif)) as im:
        assert im.n_frames == 12
        im.seek(0)
        first = im.convert("L").tobytes()
    # The first frame is the current slider point: the explorer's main image at 256 px shows the same picture.
    main = Image.open(io.BytesIO(media_bytes(main_image(at)))).convert("L")
    assert first == main.resize((256, 256), Image.Resampling.NEAREST).tobytes()


def test_build_with_bad_keyframes_shows_error(run_id: str) -> None:
    at = explore_page()
    at.text_input(key="explore.key_seeds").set_value("a,b")
    at.button(key="explore.build").click().run()
    assert not at.exception
    assert "not a number" in at.error[0].value
    assert {b.key for b in at.download_button} == {"explore.dl_image", "explore.dl_grid", "explore.dl_sweep"}


def test_conditional_generator_class_picker_changes_image(no_pretrained: None, media_bytes) -> None:
    from ganlab.train.trainer import Trainer

    cfg = TrainConfig(dataset="digits", img_size=16, g_channels=8, d_channels=8, max_steps=2, batch_size=32,
                      log_every=1, threads=1, z_dim=16, conditional=True)
    Trainer(cfg, create_run(cfg)).run()
    at = explore_page()
    picker = at.selectbox(key="explore.class")
    assert len(picker.options) == 10
    before = media_bytes(main_image(at))
    picker.set_value(7).run()
    assert not at.exception
    assert media_bytes(main_image(at)) != before
    at.slider(key="explore.frames").set_value(4)
    at.button(key="explore.build").click().run()  # keyframes use the picked class too
    assert not at.exception and not at.error
    assert at.download_button(key="explore.dl_gif")


def test_a_run_with_best_pt_offers_best_beside_latest(run_id: str) -> None:
    from ganlab.runs import open_run
    from ui.explore import run_checkpoints

    run = open_run(run_id)
    assert (run.checkpoints_dir / "best.pt").is_file()  # written by the live metric while it trained
    assert list(run_checkpoints(run))[:2] == ["latest", "best"]
    (run.checkpoints_dir / "best.pt").rename(run.checkpoints_dir / "best.moved")
    assert "best" not in run_checkpoints(run)  # no best.pt (no live metric): nothing to offer
    (run.checkpoints_dir / "best.moved").rename(run.checkpoints_dir / "best.pt")
    at = explore_page()
    at.selectbox(key="explore.ckpt").set_value("best").run()
    assert not at.exception, at.exception
    assert main_image(at)
