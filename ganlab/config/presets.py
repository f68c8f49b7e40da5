"""Recipes: per-architecture and per-loss defaults, and named presets; the CLI and the Train form share them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ganlab.config.fields import ConfigError
from ganlab.config.training import LOSSES, TrainConfig

# Choosing an architecture, a loss or a dataset loads the settings known to work for it; every other field keeps
# its value. The three kinds set disjoint fields, so the order of the choices never matters (form == CLI).
ARCH_RECIPES: dict[str, dict[str, Any]] = {
    "mlp": dict(mlp_hidden=(256, 512, 1024), dropout=0.3),
    "dcgan": {},  # its widths come with the dataset (DATASET_RECIPES)
    "dcgan-upsample": {},
}
LOSS_RECIPES: dict[str, dict[str, Any]] = {
    "bce": dict(lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999, d_steps=1, g_steps=1),
    "lsgan": dict(lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999, d_steps=1, g_steps=1),
    # Two time-scale update rule (Heusel et al. 2017) with Adam(0, 0.9), as SAGAN/BigGAN use with hinge.
    "hinge": dict(lr_g=1e-4, lr_d=4e-4, beta1=0.0, beta2=0.9, d_steps=1, g_steps=1),
    # Gulrajani et al. 2017, Algorithm 1: lambda 10, 5 critic steps, Adam(1e-4, 0, 0.9).
    "wgan-gp": dict(lr_g=1e-4, lr_d=1e-4, beta1=0.0, beta2=0.9, d_steps=5, g_steps=1, gp_lambda=10.0),
}
assert set(LOSS_RECIPES) == set(LOSSES)
# Per built-in dataset: image size, DCGAN widths, batch and the averaged G, measured with
# `python -m ganlab bench --quality` (docs/bench-quality.md). Folders and zips keep whatever the form holds.
# Every entry sets the same fields, so switching between datasets never keeps one dataset's value on another.
# 28 px greyscale: widths 32 and batch 32 train 2x the images/s of widths 64 at batch 64 and reach a given FID in
# about half the minutes (races of 2026-11-27/28, docs/bench-quality.md); MNIST shares Fashion-MNIST's geometry.
_GREY_28 = dict(img_size=28, g_channels=32, d_channels=32, batch_size=32, ema=0.0, ema_rampup=0.0, flip=False)
DATASET_RECIPES: dict[str, dict[str, Any]] = {
    # digits: 8x8 scans upscaled to 32 px (digits-dcgan's size and widths).
    "digits": dict(img_size=32, g_channels=64, d_channels=64, batch_size=64, ema=0.0, ema_rampup=0.0, flip=False),
    # Fashion-MNIST and MNIST at their own 28 px (README, Time to a good generator).
    "fashion-mnist": dict(_GREY_28),
    "mnist": dict(_GREY_28),
    # emoji at 64 px with mirrored glyphs and EMA of G: the shipped emoji-dcgan's recipe (its card).
    "emoji": dict(img_size=64, g_channels=64, d_channels=64, batch_size=64, ema=0.999, ema_rampup=0.0, flip=True),
    # CIFAR-10 at its own 32 px with mirrored images, the usual recipe (not measured here: no CIFAR-10 offline).
    "cifar10": dict(img_size=32, g_channels=64, d_channels=64, batch_size=64, ema=0.0, ema_rampup=0.0, flip=True),
}
assert all(set(r) == set(DATASET_RECIPES["digits"]) for r in DATASET_RECIPES.values())
_ARCH_FIELDS = {k for r in ARCH_RECIPES.values() for k in r}
_LOSS_FIELDS = {k for r in LOSS_RECIPES.values() for k in r}
_DATASET_FIELDS = {k for r in DATASET_RECIPES.values() for k in r}
assert not (_ARCH_FIELDS & _LOSS_FIELDS or _ARCH_FIELDS & _DATASET_FIELDS or _LOSS_FIELDS & _DATASET_FIELDS)


# Learning rates measured for a dataset together with a loss, on the DCGAN networks: they replace the loss's own
# when all three are chosen, in any order (the form applies them on a change of any; the CLI after all).
PAIR_RECIPES: dict[tuple[str, str], dict[str, Any]] = {
    ("fashion-mnist", "bce"): dict(lr_g=4e-4, lr_d=4e-4),  # batch 32 and narrow nets take the larger steps well
    ("mnist", "bce"): dict(lr_g=4e-4, lr_d=4e-4),
}
PAIR_ARCHS = ("dcgan", "dcgan-upsample")  # the MLP GAN was not measured with them: it keeps the loss's rates
assert all(set(r) <= {"lr_g", "lr_d"} for r in PAIR_RECIPES.values())


def pair_recipe(loss: str, dataset: str, arch: str = "dcgan") -> dict[str, Any]:
    """The learning rates for this loss on this dataset and architecture: measured ones, else the loss's own."""
    own = {k: v for k, v in LOSS_RECIPES.get(loss, {}).items() if k in ("lr_g", "lr_d")}
    return {**own, **(PAIR_RECIPES.get((dataset, loss), {}) if arch in PAIR_ARCHS else {})}


def dataset_recipe(dataset: str) -> dict[str, Any]:
    """The field values the form loads when a dataset is chosen ({} for folders, zips and unknown names)."""
    return dict(DATASET_RECIPES.get(dataset, {}))


def recipe(arch: str, loss: str, dataset: str | None = None) -> dict[str, Any]:
    """The field values the form loads when arch and loss (and a dataset) are chosen; the CLI applies the same."""
    values = {"arch": arch, "loss": loss, **ARCH_RECIPES.get(arch, {}), **LOSS_RECIPES.get(loss, {})}
    if dataset is not None:
        values.update(dataset=dataset, **dataset_recipe(dataset), **pair_recipe(loss, dataset, arch))
    return values


@dataclass(frozen=True)
class Preset:
    """A named recipe: `name` is what the CLI takes, `title` and `description` what the app shows."""

    name: str
    title: str
    description: str
    values: dict[str, Any] = field(default_factory=dict)


_ALL = (
    Preset("dcgan-paper", "DCGAN paper (Radford et al.)", "BCE, Adam(2e-4, 0.5), batch 128: the 2015 recipe.",
           dict(arch="dcgan", loss="bce", lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999, batch_size=128,
                d_steps=1, g_steps=1)),
    Preset("wgan-gp-paper", "WGAN-GP (Gulrajani et al.)",
           "Wasserstein loss with gradient penalty 10, 5 critic steps per G step, Adam(1e-4, 0, 0.9).",
           dict(arch="dcgan", loss="wgan-gp", gp_lambda=10.0, d_steps=5, g_steps=1, lr_g=1e-4, lr_d=1e-4,
                beta1=0.0, beta2=0.9, batch_size=64, d_norm="auto")),
    Preset("vanilla-mlp", "Vanilla GAN (MLP, Goodfellow et al.)",
           "Fully connected G and D (256-512-1024) with dropout: the original GAN.",
           dict(arch="mlp", loss="bce", lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999, batch_size=64,
                mlp_hidden=(256, 512, 1024), dropout=0.3)),
    Preset("ttur", "TTUR (D learns faster)", "Hinge loss, D at 4e-4 and G at 1e-4 (Heusel et al. 2017).",
           dict(arch="dcgan", loss="hinge", lr_g=1e-4, lr_d=4e-4, beta1=0.0, beta2=0.9)),
    Preset("g-twice", "G twice per D step", "Two generator updates per discriminator update (a weak-G remedy).",
           dict(arch="dcgan", loss="bce", d_steps=1, g_steps=2)),
    # Raced against the default by `bench --quality` (README): neither beat it within 15 minutes on Fashion-MNIST.
    Preset("ema-rampup", "EMA of G with a ramp-up", "Averaged G (0.999) whose window grows with training (StyleGAN's "
           "ema_rampup 0.05): smoother samples; on par with no EMA by FID within 15 CPU-minutes here.",
           dict(ema=0.999, ema_rampup=0.05)),
    Preset("hinge-sn", "Hinge + spectral norm (SNGAN/TTUR)", "Hinge loss, spectral-normalised D, D at 4e-4 and G at "
           "1e-4, Adam(0, 0.9), EMA with ramp-up: a slower start here, meant for longer runs.",
           dict(arch="dcgan", loss="hinge", d_norm="spectral", lr_g=1e-4, lr_d=4e-4, beta1=0.0, beta2=0.9,
                ema=0.999, ema_rampup=0.05)),
    # The classic recipes for a folder of your own colour images (the projects this app grew from).
    Preset("folder-dcgan-128", "Your folder: DCGAN 128 px, D 10x faster",
           "DCGAN at 128 px with lr_G 4e-5 and lr_D 4e-4 (faces, landscapes): set the folder path.",
           dict(dataset="folder", img_size=128, arch="dcgan", loss="bce", lr_g=4e-5, lr_d=4e-4, beta1=0.5,
                beta2=0.999, batch_size=64, d_steps=1, g_steps=1, conditional=False, centre_crop=1.0)),
    Preset("folder-dcgan-96", "Your folder: DCGAN 96 px",
           "The DCGAN paper's recipe at 96 px (anime faces): BCE, Adam(2e-4, 0.5), batch 64; set the folder path.",
           dict(dataset="folder", img_size=96, arch="dcgan", loss="bce", lr_g=2e-4, lr_d=2e-4, beta1=0.5,
                beta2=0.999, batch_size=64, d_steps=1, g_steps=1, conditional=False, centre_crop=1.0)),
    Preset("folder-wgan-gp-96", "Your folder: WGAN-GP 96 px",
           "WGAN-GP at 96 px (gemstones): lambda 10, Adam(1e-4, 0, 0.9), 5 critic steps per G step; set the folder.",
           dict(dataset="folder", img_size=96, arch="dcgan", loss="wgan-gp", gp_lambda=10.0, lr_g=1e-4, lr_d=1e-4,
                beta1=0.0, beta2=0.9, batch_size=64, d_steps=5, g_steps=1, d_norm="auto", conditional=False,
                centre_crop=1.0)),
    Preset("folder-cdcgan-48", "Your labelled folder: conditional DCGAN 48 px, centre crop",
           "Conditional DCGAN on class subfolders, G stepped twice per D step, the centre half kept (96 -> 48 px).",
           dict(dataset="folder", img_size=48, centre_crop=0.5, arch="dcgan", loss="bce", conditional=True,
                lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999, batch_size=64, d_steps=1, g_steps=2)),
)
PRESETS: dict[str, Preset] = {p.name: p for p in _ALL}


def get_preset(name: str) -> Preset:
    """A preset by its name or its title; ConfigError listing the names otherwise."""
    for preset in PRESETS.values():
        if name in (preset.name, preset.title):
            return preset
    raise ConfigError(f"preset={name!r} is unknown; choose one of: {', '.join(PRESETS)}")


def build_config(choices: dict[str, Any], *, preset: str | None = None,
                 base: dict[str, Any] | None = None) -> TrainConfig:
    """The config a user's explicit choices mean: defaults < base < recipes of arch x loss and of the dataset
    < preset < choices.

    base is a whole config (e.g. a config.json) whose values the recipes must not override; the recipes fill
    in what the chosen architecture, loss and dataset need, exactly as choosing them on the Train form does.
    """
    values: dict[str, Any] = dict(base or {})
    preset_values = get_preset(preset).values if preset else {}
    arch = choices.get("arch", preset_values.get("arch", values.get("arch", TrainConfig.arch)))
    loss = choices.get("loss", preset_values.get("loss", values.get("loss", TrainConfig.loss)))
    dataset = choices.get("dataset", preset_values.get("dataset", values.get("dataset", TrainConfig.dataset)))
    if base is None or "arch" in choices or "loss" in choices or preset:
        values.update(recipe(str(arch), str(loss)))
    if base is None or "dataset" in choices or "dataset" in preset_values:
        values.update(dataset_recipe(str(dataset)))
    if base is None or {"arch", "loss", "dataset"} & (set(choices) | set(preset_values)) or preset:
        values.update(pair_recipe(str(loss), str(dataset), str(arch)))
    values.update(preset_values)
    values.update(choices)
    return TrainConfig.from_dict({k: list(v) if isinstance(v, tuple) else v for k, v in values.items()})
