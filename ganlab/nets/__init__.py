"""Generator and discriminator networks, built from a ModelConfig (architecture is independent of the loss)."""

from __future__ import annotations

from torch import nn

from ganlab.config import ModelConfig
from ganlab.nets.conditional import ClassEmbedding, ProjectionHead
from ganlab.nets.critic import DCGANDiscriminator
from ganlab.nets.dcgan import DCGANGenerator, dcgan_layout
from ganlab.nets.init import count_parameters, init_weights
from ganlab.nets.mlp import MLPDiscriminator, MLPGenerator

__all__ = [
    "build_generator",
    "build_discriminator",
    "init_weights",
    "count_parameters",
    "dcgan_layout",
    "DCGANGenerator",
    "DCGANDiscriminator",
    "MLPGenerator",
    "MLPDiscriminator",
    "ClassEmbedding",
    "ProjectionHead",
]


def _img_shape(mc: ModelConfig) -> tuple[int, int, int]:
    return (mc.img_channels, mc.img_size, mc.img_size)


def build_generator(mc: ModelConfig) -> nn.Module:
    """G for mc.arch, initialised N(0, 0.02) (BatchNorm weights N(1, 0.02)) as in DCGAN."""
    if mc.arch == "mlp":
        g = MLPGenerator(mc.z_dim, _img_shape(mc), mc.mlp_hidden, num_classes=mc.num_classes, out_activation="tanh")
        init_weights(g)
        return g
    if mc.arch in ("dcgan", "dcgan-upsample"):
        g = DCGANGenerator(
            mc.z_dim,
            mc.img_size,
            mc.img_channels,
            base_channels=mc.g_channels,
            num_classes=mc.num_classes,
            upsample=mc.arch == "dcgan-upsample",
        )
        init_weights(g)
        return g
    raise ValueError(f"arch={mc.arch!r} is not allowed; choose one of: mlp, dcgan, dcgan-upsample")


def build_discriminator(mc: ModelConfig) -> nn.Module:
    """D (critic) for mc.arch; mc.d_norm picks batch / per-sample layer / no normalisation."""
    if mc.arch == "mlp":
        # D mirrors G: the hidden sizes reversed (1024, 512, 256 for the classic recipe).
        hidden = tuple(reversed(mc.mlp_hidden))
        d = MLPDiscriminator(_img_shape(mc), hidden, mc.dropout, num_classes=mc.num_classes, norm=mc.d_norm)
        init_weights(d)
        return d
    if mc.arch in ("dcgan", "dcgan-upsample"):
        d = DCGANDiscriminator(
            mc.img_size, mc.img_channels, base_channels=mc.d_channels, norm=mc.d_norm, num_classes=mc.num_classes
        )
        init_weights(d)
        return d
    raise ValueError(f"arch={mc.arch!r} is not allowed; choose one of: mlp, dcgan, dcgan-upsample")
