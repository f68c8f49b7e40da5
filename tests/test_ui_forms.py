"""The Train form (ui/forms.py) through AppTest: presets, per-architecture fields, errors, zip upload."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.helpers import open_page

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")



def open_train() -> AppTest:
    at = open_page("pages/1_Train.py", 60).run()
    assert not at.exception, at.exception
    return at


def keys(widgets) -> set[str]:
    return {w.key for w in widgets}


def test_preset_writes_its_values_into_the_fields(app_manager) -> None:
    at = open_train()
    at.selectbox(key="train.preset").set_value("WGAN-GP (Gulrajani et al.)").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="cfg.loss").value == "wgan-gp"
    assert at.number_input(key="cfg.d_steps").value == 5
    assert at.number_input(key="cfg.lr_g").value == pytest.approx(1e-4)
    assert at.number_input(key="cfg.beta2").value == pytest.approx(0.9)
    assert at.number_input(key="cfg.gp_lambda").value == pytest.approx(10.0)


def test_loss_change_loads_that_losses_defaults(app_manager) -> None:
    at = open_train()
    assert "cfg.gp_lambda" not in keys(at.number_input)
    at.selectbox(key="cfg.loss").set_value("hinge").run()
    assert (at.number_input(key="cfg.lr_g").value, at.number_input(key="cfg.lr_d").value) == pytest.approx((1e-4, 4e-4))
    assert at.number_input(key="cfg.beta1").value == 0.0


def test_mlp_architecture_shows_layer_sizes_instead_of_widths(app_manager) -> None:
    at = open_train()
    assert "cfg.g_channels" in keys(at.number_input)
    at.selectbox(key="cfg.arch").set_value("mlp").run()
    assert not at.exception, at.exception
    assert at.text_input(key="cfg.mlp_hidden").value == "256,512,1024"
    assert "cfg.g_channels" not in keys(at.number_input)
    assert "cfg.dropout" in keys(at.number_input)


def test_invalid_field_shows_error_naming_it_and_starts_nothing(app_manager) -> None:
    at = open_train()
    at.selectbox(key="cfg.arch").set_value("mlp").run()
    at.text_input(key="cfg.mlp_hidden").set_value("256,abc").run()
    at.button(key="train.start").click().run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert any("mlp_hidden" in e and "What to do" in e for e in errors), errors
    assert app_manager.jobs() == []


def test_missing_folder_is_an_error_in_the_preview(app_manager, tmp_path: Path) -> None:
    at = open_train()
    at.selectbox(key="cfg.dataset").set_value("folder").run()
    assert any("folder path" in i.value for i in at.info)
    at.text_input(key="cfg.data_path").set_value(str(tmp_path / "missing")).run()
    assert not at.exception, at.exception
    assert any("does not exist" in e.value for e in at.error), [e.value for e in at.error]


def test_zip_upload_is_extracted_and_used_as_folder_dataset(app_manager, ganlab_home: Path) -> None:
    buffer = io.BytesIO()
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(buffer, "w") as zf:
        for i in range(5):
            png = io.BytesIO()
            Image.fromarray(rng.integers(0, 255, (20, 20, 3), dtype=np.uint8)).save(png, format="PNG")
            zf.writestr(f"faces/img{i}.png", png.getvalue())
    at = open_train()
    at.selectbox(key="cfg.dataset").set_value("zip").run()
    at.file_uploader(key="cfg.__upload__").set_value(("faces.zip", buffer.getvalue(), "application/zip")).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="cfg.dataset").value == "folder"
    folder = Path(at.text_input(key="cfg.data_path").value)
    assert folder.is_dir() and folder.is_relative_to(ganlab_home)
    assert any("Extracted faces.zip" in s.value for s in at.success)
    assert "5 images" in [c for image in at.image for c in image.captions]


def test_form_values_survive_a_visit_to_another_page(app_manager) -> None:
    at = open_train()
    at.number_input(key="cfg.batch_size").set_value(48).run()
    at.switch_page("app.py").run()
    at.switch_page("pages/1_Train.py").run()
    assert at.number_input(key="cfg.batch_size").value == 48


def test_precision_choices_are_those_of_the_device(app_manager) -> None:
    from ganlab.device import available_devices, cuda_device_count, resolve_device, supported_precisions

    at = open_train()
    labels = [f"{d} (any free GPU)" if d == "cuda" and cuda_device_count() > 1 else d for d in available_devices()]
    assert at.selectbox(key="cfg.device").options == ["auto (%s)" % available_devices()[0], *labels]
    expected = ["auto", *supported_precisions(resolve_device("auto"))]
    assert at.selectbox(key="cfg.precision").options == expected


def test_every_config_field_has_a_widget_and_start_submits_exactly_the_form(app_manager) -> None:
    from ganlab.config import TrainConfig

    at = open_train()
    shown = {w.key for kind in ("selectbox", "number_input", "text_input", "checkbox") for w in at.get(kind)}
    hidden_for_dcgan_bce = {"mlp_hidden", "dropout", "gp_lambda", "data_path", "data_subset", "fit"}
    assert {f"cfg.{f}" for f in TrainConfig.__dataclass_fields__} - shown == {f"cfg.{f}" for f in hidden_for_dcgan_bce}
    at.number_input(key="cfg.max_steps").set_value(7)
    at.number_input(key="cfg.seed").set_value(3)
    at.text_input(key="cfg.name").set_value("exact")
    at.button(key="train.start").click().run()
    assert not at.exception, at.exception
    (job,) = app_manager.jobs()
    job.stop()
    assert job.config == TrainConfig(max_steps=7, seed=3, name="exact")


@pytest.mark.parametrize("name", ["mnist", "emoji"])
def test_other_sources_preview_or_explain_without_traceback(app_manager, name: str) -> None:
    from ganlab import data

    if name not in data.list_datasets():
        pytest.skip(f"{name} is not registered")
    at = open_train()
    at.selectbox(key="cfg.dataset").set_value(name).run()
    assert not at.exception, at.exception
    captions = [c for image in at.image for c in image.captions]
    assert any(c.endswith("images") or "classes" in c for c in captions) or at.error, (captions, at.error)


def test_form_and_cli_build_the_same_config_for_every_architecture_and_loss(app_manager) -> None:
    from ganlab.cli import build_parser
    from ganlab.cli.training import config_from_args
    from ganlab.config import ARCHS, LOSSES, TrainConfig, recipe
    at = open_train()
    for arch in ARCHS:
        for loss in LOSSES:
            at.selectbox(key="cfg.arch").set_value(arch).run()
            at.selectbox(key="cfg.loss").set_value(loss).run()
            assert not at.exception, at.exception
            form = {f: at.session_state[f"cfg.{f}"] for f in TrainConfig.__dataclass_fields__}
            from_form = TrainConfig.from_dict(form)
            from_cli = config_from_args(build_parser().parse_args(["train", "--arch", arch, "--loss", loss]))
            assert from_form == from_cli == TrainConfig(**recipe(arch, loss)), (arch, loss)
