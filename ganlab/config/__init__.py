"""Configs as frozen dataclasses (TrainConfig, ModelConfig), their validation, and the recipes/presets."""

from ganlab.config.fields import ConfigError
from ganlab.config.model import ARCHS, D_NORMS, DCGAN_SIZES, MAX_MLP_LAYERS, ModelConfig
from ganlab.config.presets import (
    ARCH_RECIPES,
    DATASET_RECIPES,
    LOSS_RECIPES,
    PAIR_RECIPES,
    PRESETS,
    Preset,
    build_config,
    dataset_recipe,
    get_preset,
    pair_recipe,
    recipe,
)
from ganlab.config.training import (
    AUGMENT_PARTS,
    AUGMENTS,
    DEFAULT_AUGMENT_PARTS,
    DEVICES,
    FITS,
    LOSSES,
    PRECISIONS,
    TrainConfig,
    config_errors,
    field_help,
    parse_device,
)

__all__ = [
    "ARCHS", "AUGMENTS", "AUGMENT_PARTS", "ARCH_RECIPES", "ConfigError", "DATASET_RECIPES", "DCGAN_SIZES",
    "DEFAULT_AUGMENT_PARTS", "DEVICES", "D_NORMS", "FITS", "LOSSES", "LOSS_RECIPES", "PAIR_RECIPES", "MAX_MLP_LAYERS", "ModelConfig",
    "PRECISIONS", "PRESETS", "Preset", "TrainConfig", "build_config", "config_errors", "dataset_recipe", "field_help",
    "get_preset", "pair_recipe", "parse_device", "recipe",
]
