"""TrainConfig / ModelConfig: defaults, validation messages, presets and JSON round-trip."""

from __future__ import annotations

import json

import pytest

from ganlab.config import (
    ARCH_RECIPES,
    DATASET_RECIPES,
    LOSS_RECIPES,
    LOSSES,
    PRESETS,
    ConfigError,
    ModelConfig,
    TrainConfig,
    build_config,
    recipe,
)


def test_config_roundtrip_through_json_is_identity() -> None:
    config = TrainConfig(dataset="emoji", img_size=64, channels=3, mlp_hidden=(128, 256), ema=0.999, flip=True)
    assert TrainConfig.from_json(config.to_json()) == config
    assert ModelConfig.from_dict(config.model_config(num_classes=3).to_dict()) == config.model_config(num_classes=3)


def test_config_rejects_unknown_keys_naming_them() -> None:
    with pytest.raises(ConfigError, match="unknown config key.*learning_rate"):
        TrainConfig.from_dict({"learning_rate": 0.1})


def test_config_fills_missing_keys_with_defaults_for_old_runs() -> None:
    assert TrainConfig.from_dict({"lr_g": 1e-3}) == TrainConfig(lr_g=1e-3)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lr_g": 0}, r"lr_g=0"),
        ({"lr_d": -1e-4}, r"lr_d=-0.0001"),
        ({"batch_size": 0}, r"batch_size=0 must be a whole number from 1"),
        ({"img_size": 30}, r"img_size=30 is not supported by dcgan; choose one of: 16, 28, 32"),
        ({"arch": "stylegan"}, r"arch='stylegan' is not allowed; choose one of: mlp, dcgan"),
        ({"loss": "wasserstein"}, r"loss='wasserstein'"),
        ({"d_steps": 0}, r"d_steps=0"),
        ({"epochs": 0, "max_steps": 0}, r"max_minutes=0.0: set one of them > 0"),
        ({"beta1": 1.5}, r"beta1=1.5"),
        ({"device": "tpu"}, r"device='tpu'"),
        ({"name": "a/b"}, r"no slashes"),
    ],
)
def test_config_rejects_out_of_range_values_naming_them(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_dict(changes)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [("batch_size", "lots", "batch_size='lots' must be a whole number"), ("lr_g", "fast", "lr_g='fast' must be a number"),
     ("flip", "maybe", "flip='maybe' must be true or false"), ("mlp_hidden", "a,b", "mlp_hidden='a'")],
)
def test_config_rejects_wrong_types_from_hand_edited_json(key: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_json(json.dumps({key: value}))


def test_config_coerces_cli_strings() -> None:
    config = TrainConfig.from_dict({"batch_size": "32", "lr_g": "1e-4", "flip": "true", "mlp_hidden": "64,128"})
    assert (config.batch_size, config.lr_g, config.flip, config.mlp_hidden) == (32, 1e-4, True, (64, 128))


def test_config_rejects_invalid_json_text() -> None:
    with pytest.raises(ConfigError, match="not valid JSON"):
        TrainConfig.from_json("{lr_g: 1")


def test_every_preset_builds_a_valid_config_by_name_or_title() -> None:
    for name, preset in PRESETS.items():
        assert build_config({}, preset=name) == build_config({}, preset=preset.title)
        assert preset.description and preset.title
    with pytest.raises(ConfigError, match="preset='nope' is unknown"):
        build_config({}, preset="nope")


def test_wgan_gp_preset_uses_the_paper_recipe_and_a_critic_without_batchnorm() -> None:
    config = build_config({}, preset="wgan-gp-paper")
    assert (config.gp_lambda, config.d_steps, config.beta1, config.beta2) == (10.0, 5, 0.0, 0.9)
    assert config.model_config().d_norm == "layer"
    assert TrainConfig(loss="bce").model_config().d_norm == "batch"


def test_g_twice_per_d_step_is_expressible() -> None:
    assert build_config({}, preset="g-twice").g_steps == 2


def test_default_config_is_the_recipe_of_its_own_arch_loss_and_dataset() -> None:
    assert build_config({}) == TrainConfig() == TrainConfig(**recipe("dcgan", "bce"))
    assert TrainConfig() == TrainConfig(**recipe("dcgan", "bce", "digits"))


def test_arch_loss_and_dataset_recipes_set_disjoint_fields_so_the_order_of_choices_does_not_matter() -> None:
    fields = [{k for r in kind.values() for k in r} for kind in (ARCH_RECIPES, LOSS_RECIPES, DATASET_RECIPES)]
    assert not (fields[0] & fields[1] or fields[0] & fields[2] or fields[1] & fields[2])
    assert set(TrainConfig.__dataclass_fields__) >= set().union(*fields)


@pytest.mark.parametrize("dataset", sorted(DATASET_RECIPES))
def test_choosing_a_dataset_loads_its_recipe_unless_a_field_is_given(dataset: str) -> None:
    config = build_config({"dataset": dataset})
    assert config == TrainConfig(**recipe("dcgan", "bce", dataset))
    assert build_config({"dataset": dataset, "batch_size": 24}).batch_size == 24  # an explicit choice wins
    with_loss = build_config({"dataset": dataset, "loss": "wgan-gp"})
    assert (with_loss.lr_d, with_loss.d_steps) == (1e-4, 5)  # the loss recipe still applies beside it
    assert with_loss.img_size == config.img_size  # and leaves the dataset's size alone


def test_a_datasets_learning_rates_for_a_loss_apply_in_either_order_and_only_to_that_pair() -> None:
    from ganlab.config import PAIR_RECIPES, pair_recipe

    assert PAIR_RECIPES[("fashion-mnist", "bce")] == dict(lr_g=4e-4, lr_d=4e-4)
    fashion = build_config({"dataset": "fashion-mnist"})
    assert (fashion.lr_g, fashion.lr_d, fashion.batch_size, fashion.g_channels) == (4e-4, 4e-4, 32, 32)
    assert fashion == TrainConfig(**recipe("dcgan", "bce", "fashion-mnist"))
    wgan = build_config({"dataset": "fashion-mnist", "loss": "wgan-gp"})
    assert (wgan.lr_g, wgan.lr_d) == (1e-4, 1e-4)  # the pair has no measured rates: the loss's own
    assert (build_config({"dataset": "digits"}).lr_g, pair_recipe("bce", "digits")) == (2e-4, dict(lr_g=2e-4, lr_d=2e-4))
    assert build_config({"dataset": "fashion-mnist", "lr_g": 1e-3}).lr_g == 1e-3  # an explicit choice wins
    mlp = build_config({"dataset": "fashion-mnist", "arch": "mlp"})
    assert (mlp.lr_g, mlp.lr_d) == (2e-4, 2e-4)  # measured with the DCGAN only: the MLP keeps the loss's rates
    base = TrainConfig(dataset="fashion-mnist", lr_g=5e-5, lr_d=5e-5).to_dict()
    assert build_config({"epochs": 2}, base=base).lr_g == 5e-5  # a saved config keeps its rates
    assert build_config({"loss": "bce"}, base=base).lr_g == 4e-4  # choosing the loss loads the pair's


def test_a_base_config_keeps_its_size_unless_the_dataset_is_chosen() -> None:
    base = TrainConfig(dataset="fashion-mnist", img_size=64, batch_size=32).to_dict()
    assert (build_config({"epochs": 2}, base=base).img_size, build_config({"epochs": 2}, base=base).batch_size) == (64, 32)
    assert build_config({"dataset": "digits"}, base=base).img_size == DATASET_RECIPES["digits"]["img_size"]


@pytest.mark.parametrize("loss", LOSSES)
def test_choosing_a_loss_loads_its_recipe_unless_a_field_is_given(loss: str) -> None:
    config = build_config({"loss": loss, "arch": "mlp"})
    assert config == TrainConfig(**recipe("mlp", loss))
    assert build_config({"loss": loss, "lr_g": 3e-4}).lr_g == 3e-4  # an explicit choice wins over the recipe


def test_a_base_config_keeps_its_values_unless_arch_or_loss_is_chosen() -> None:
    base = TrainConfig(loss="wgan-gp", lr_g=5e-5).to_dict()
    assert build_config({"batch_size": 32}, base=base).lr_g == 5e-5
    assert build_config({"loss": "bce"}, base=base).lr_g == 2e-4


def test_legacy_configs_with_crop_or_pad_in_data_subset_load_with_fit() -> None:
    config = TrainConfig.from_dict({"dataset": "folder", "data_subset": "pad"})
    assert (config.fit, config.data_subset) == ("pad", "")


def test_every_field_has_help_text() -> None:
    from ganlab.config import field_help

    assert all(field_help().values()) and set(field_help()) == set(TrainConfig.__dataclass_fields__)


def test_total_steps_counts_epochs_in_discriminator_batches() -> None:
    assert TrainConfig(batch_size=10, epochs=2, d_steps=1).total_steps(100) == 20
    assert TrainConfig(batch_size=10, epochs=2, d_steps=5).total_steps(100) == 4
    assert TrainConfig(max_steps=7).total_steps(100) == 7


def test_dcgan_sizes_accepted_and_mlp_any_size() -> None:
    for size in (16, 28, 32, 48, 64, 96, 128):
        TrainConfig(img_size=size)
    assert TrainConfig(arch="mlp", img_size=20).img_size == 20


def test_mlp_hidden_layer_count_is_bounded_before_anything_is_built() -> None:
    # 10^5 one-unit layers passed the parameter cap and took minutes to build; now the config refuses them.
    with pytest.raises(ConfigError, match="mlp_hidden has 100000 layers; give at most 16"):
        TrainConfig(arch="mlp", mlp_hidden=(1,) * 100_000)
    assert TrainConfig(arch="mlp", mlp_hidden=(8,) * 16).mlp_hidden == (8,) * 16
