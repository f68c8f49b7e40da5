"""Configs as frozen dataclasses (TrainConfig, ModelConfig), their validation, and the recipes/presets."""

from ganlab.config.fields import ConfigError
from ganlab.config.model import ARCHS, D_NORMS, DCGAN_SIZES, MAX_MLP_LAYERS, ModelConfig
from ganlab.config.presets import (
    ARCH_RECIPES,
    LOSS_RECIPES,
    PRESETS,
    Preset,
    build_config,
    get_preset,
    recipe,
)
from ganlab.config.training import (
    DEVICES,
    FITS,
    LOSSES,
    PRECISIONS,
    TrainConfig,
    field_help,
    parse_device,
)

__all__ = [
    "ARCHS", "ARCH_RECIPES", "ConfigError", "DCGAN_SIZES", "DEVICES", "D_NORMS", "FITS", "LOSSES", "LOSS_RECIPES",
    "MAX_MLP_LAYERS", "ModelConfig", "PRECISIONS", "PRESETS", "Preset", "TrainConfig", "build_config",
    "field_help", "get_preset", "parse_device", "recipe",
]
