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


def test_a_datasets_learning_rates_for_the_loss_follow_either_choice(app_manager) -> None:
    at = open_train()

    def rates() -> tuple[float, float]:
        assert not at.exception, at.exception
        return at.number_input(key="cfg.lr_g").value, at.number_input(key="cfg.lr_d").value

    at.selectbox(key="cfg.dataset").set_value("fashion-mnist").run()
    assert rates() == pytest.approx((4e-4, 4e-4))  # measured for Fashion-MNIST with BCE
    at.selectbox(key="cfg.loss").set_value("wgan-gp").run()
    assert rates() == pytest.approx((1e-4, 1e-4))  # no rates measured for the pair: the loss's own
    at.selectbox(key="cfg.dataset").set_value("digits").run()
    at.selectbox(key="cfg.loss").set_value("bce").run()
    assert rates() == pytest.approx((2e-4, 2e-4))
    at.selectbox(key="cfg.dataset").set_value("fashion-mnist").run()
    assert rates() == pytest.approx((4e-4, 4e-4))  # the same pair reached in the other order
    at.selectbox(key="cfg.arch").set_value("mlp").run()
    assert rates() == pytest.approx((2e-4, 2e-4))  # measured with the DCGAN only
    at.selectbox(key="cfg.arch").set_value("dcgan").run()
    assert rates() == pytest.approx((4e-4, 4e-4))


def test_mlp_architecture_shows_layer_sizes_instead_of_widths(app_manager) -> None:
    at = open_train()
    assert "cfg.g_channels" in keys(at.number_input)
    at.selectbox(key="cfg.arch").set_value("mlp").run()
    assert not at.exception, at.exception
    assert at.text_input(key="cfg.mlp_hidden").value == "256,512,1024"
    assert "cfg.g_channels" not in keys(at.number_input)
    assert "cfg.dropout" in keys(at.number_input)


def test_invalid_field_shows_error_beside_it_and_start_is_off(app_manager) -> None:
    at = open_train()
    at.selectbox(key="cfg.arch").set_value("mlp").run()
    at.text_input(key="cfg.mlp_hidden").set_value("256,abc").run()
    assert not at.exception, at.exception
    assert any("mlp_hidden='abc'" in c.value for c in at.caption)  # right under the field
    assert at.button(key="train.start").disabled
    assert any("Start is off until" in e.value and "mlp_hidden" in e.value for e in at.error)
    assert app_manager.jobs() == []


def test_a_value_the_browser_would_clamp_is_kept_and_refused_not_replaced(app_manager) -> None:
    at = open_train()
    at.number_input(key="cfg.batch_size").set_value(0).run()  # no widget bounds: the box keeps what was typed
    assert at.number_input(key="cfg.batch_size").value == 0
    assert any("batch_size=0 must be a whole number from 1" in c.value for c in at.caption)
    assert at.button(key="train.start").disabled
    at.number_input(key="cfg.batch_size").set_value(32).run()
    assert not at.button(key="train.start").disabled


def test_a_missing_folder_turns_start_off_and_queues_nothing(app_manager, tmp_path: Path) -> None:
    at = open_train()
    at.selectbox(key="cfg.dataset").set_value("folder").run()
    at.text_input(key="cfg.data_path").set_value(str(tmp_path / "no-such-folder")).run()
    assert at.button(key="train.start").disabled
    assert any("does not exist" in c.value for c in at.caption)
    assert app_manager.jobs() == []


def test_form_values_are_remembered_across_sessions_and_restarts(app_manager) -> None:
    at = open_train()
    at.number_input(key="cfg.batch_size").set_value(48).run()
    at.number_input(key="cfg.seed").set_value(7).run()
    fresh = open_train()  # a reload: a new session, as after restarting the app
    assert (fresh.number_input(key="cfg.batch_size").value, fresh.number_input(key="cfg.seed").value) == (48, 7)


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
    assert at.selectbox(key="cfg.device").options == [f"auto ({available_devices()[0]})", *labels]
    expected = ["auto", *supported_precisions(resolve_device("auto"))]
    assert at.selectbox(key="cfg.precision").options == expected


def test_every_config_field_has_a_widget_and_start_submits_exactly_the_form(app_manager) -> None:
    from ganlab.config import TrainConfig

    at = open_train()
    shown = {w.key for kind in ("selectbox", "number_input", "text_input", "checkbox") for w in at.get(kind)}
    # Shown only when they apply: MLP widths, the WGAN-GP weight, folder fields, augmentation details, FreezeD.
    hidden_for_dcgan_bce = {"mlp_hidden", "dropout", "gp_lambda", "data_path", "data_subset", "fit", "augment_parts",
                            "ada_target", "ada_interval", "ada_kimg", "freeze_d"}
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


def test_augmentation_and_start_from_widgets_reach_the_config(app_manager) -> None:
    at = open_train()
    at.selectbox(key="cfg.augment").set_value("ada").run()
    assert at.number_input(key="cfg.ada_target").value == 0.6
    at.text_input(key="cfg.augment_parts").set_value("flip,teleport").run()
    assert any("teleport" in c.value for c in at.caption) and at.button(key="train.start").disabled
    at.text_input(key="cfg.augment_parts").set_value("flip,translation").run()
    starts = at.selectbox(key="cfg.init_from")
    assert "shipped model fashion-dcgan (fashion-mnist)" in starts.options
    starts.set_value("fashion-dcgan").run()
    assert at.number_input(key="cfg.freeze_d")
    assert not at.button(key="train.start").disabled


def test_choosing_a_dataset_loads_its_recipe_as_the_cli_does(app_manager) -> None:
    from ganlab import data
    from ganlab.cli import build_parser
    from ganlab.cli.training import config_from_args
    from ganlab.config import DATASET_RECIPES, TrainConfig

    at = open_train()
    names = [n for n in DATASET_RECIPES if n in data.list_datasets()]
    for name in [*names[1:], names[0]]:  # away from the default and back
        at.selectbox(key="cfg.dataset").set_value(name).run()
        assert not at.exception, at.exception
        form = {f: at.session_state[f"cfg.{f}"] for f in TrainConfig.__dataclass_fields__}
        from_form = TrainConfig.from_dict(form)
        from_cli = config_from_args(build_parser().parse_args(["train", "--dataset", name]))
        # The form names the subset it shows (the dataset's default); the CLI leaves "" (= that default).
        default_subset = data.dataset_info(name).get("default_subset") or (data.dataset_info(name)["subsets"] or [""])[0]
        if from_cli.data_subset == "" and from_form.data_subset == default_subset:
            from_form = from_form.replace(data_subset="")
        assert from_form == from_cli, name
        assert {k: getattr(from_form, k) for k in DATASET_RECIPES[name]} == DATASET_RECIPES[name]
