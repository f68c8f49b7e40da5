"""Building G and D from a ModelConfig (architecture is independent of the loss), with a parameter cap."""

from __future__ import annotations

import torch
from torch import nn

from ganlab.config import ConfigError, ModelConfig, TrainConfig
from ganlab.nets.dcgan import DCGANDiscriminator, DCGANGenerator
from ganlab.nets.init import count_parameters, init_weights
from ganlab.nets.mlp import MLPDiscriminator, MLPGenerator
from ganlab.nets.spectral import apply_spectral_norm


def _img_shape(mc: ModelConfig) -> tuple[int, int, int]:
    return (mc.img_channels, mc.img_size, mc.img_size)


# Per network. 200 M parameters is 0.8 GB of fp32 weights and ~3 GB with gradients and Adam's moments:
# trainable on a workstation, while a typo'd width (or a forged checkpoint) cannot exhaust its memory.
MAX_PARAMETERS = 200_000_000


def _make_generator(mc: ModelConfig) -> nn.Module:
    if mc.arch == "mlp":
        return MLPGenerator(mc.z_dim, _img_shape(mc), mc.mlp_hidden, num_classes=mc.num_classes, out_activation="tanh")
    if mc.arch in ("dcgan", "dcgan-upsample"):
        return DCGANGenerator(mc.z_dim, mc.img_size, mc.img_channels, base_channels=mc.g_channels,
                              num_classes=mc.num_classes, upsample=mc.arch == "dcgan-upsample")
    raise ValueError(f"arch={mc.arch!r} is not allowed; choose one of: mlp, dcgan, dcgan-upsample")


def _make_discriminator(mc: ModelConfig) -> nn.Module:
    # Spectral normalisation wraps the layers of a D without any other norm (see build_discriminator).
    norm = "none" if mc.d_norm == "spectral" else mc.d_norm
    if mc.arch == "mlp":
        # D mirrors G: the hidden sizes reversed (1024, 512, 256 for the classic recipe).
        hidden = tuple(reversed(mc.mlp_hidden))
        return MLPDiscriminator(_img_shape(mc), hidden, mc.dropout, num_classes=mc.num_classes, norm=norm)
    if mc.arch in ("dcgan", "dcgan-upsample"):
        return DCGANDiscriminator(mc.img_size, mc.img_channels, base_channels=mc.d_channels, norm=norm,
                                  num_classes=mc.num_classes)
    raise ValueError(f"arch={mc.arch!r} is not allowed; choose one of: mlp, dcgan, dcgan-upsample")


def _check_count(mc: ModelConfig, which: str, make) -> None:
    with torch.device("meta"):  # shapes only: no memory is allocated, however large the config
        count = count_parameters(make(mc))
    if count > MAX_PARAMETERS:
        widths = f"mlp_hidden={list(mc.mlp_hidden)}" if mc.arch == "mlp" else (
            f"g_channels={mc.g_channels}, d_channels={mc.d_channels}, img_size={mc.img_size}")
        raise ConfigError(f"{widths} makes a {which} of {count / 1e6:,.0f} million parameters, over the limit of "
                          f"{MAX_PARAMETERS / 1e6:.0f} million; use smaller widths or a smaller image size")


def check_size(mc: ModelConfig) -> None:
    """Raise ConfigError when G or D of this config would have more than MAX_PARAMETERS parameters."""
    _check_count(mc, "generator", _make_generator)
    _check_count(mc, "discriminator", _make_discriminator)


def check_config_size(config: TrainConfig) -> None:
    """check_size for a training config before its dataset is loaded (so before a run folder exists).

    The dataset's channels and classes are not known yet: channels=0 (the dataset's) is bounded by 3 and a
    conditional model by 10 classes; both change the parameter count by a sliver.
    """
    check_size(config.model_config(num_classes=10 if config.conditional else 0, channels=config.channels or 3))


def build_generator(mc: ModelConfig) -> nn.Module:
    """G for mc.arch, initialised N(0, 0.02) (BatchNorm weights N(1, 0.02)) as in DCGAN."""
    _check_count(mc, "generator", _make_generator)
    g = _make_generator(mc)
    init_weights(g)
    return g


def build_discriminator(mc: ModelConfig) -> nn.Module:
    """D (critic) for mc.arch; mc.d_norm picks batch / per-sample layer / spectral / no normalisation."""
    _check_count(mc, "discriminator", _make_discriminator)
    d = _make_discriminator(mc)
    init_weights(d)
    return apply_spectral_norm(d) if mc.d_norm == "spectral" else d
