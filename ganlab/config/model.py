"""ModelConfig: everything needed to rebuild G and D, stored with every checkpoint and shipped model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ganlab.config.fields import (
    ConfigError,
    check_choice,
    check_float_range,
    check_int_range,
    from_dict,
    option,
    to_jsonable,
)

ARCHS = ("mlp", "dcgan", "dcgan-upsample")
DCGAN_SIZES = (16, 28, 32, 48, 64, 96, 128)
D_NORMS = ("auto", "batch", "layer", "none", "spectral")
MAX_MLP_LAYERS = 16  # hidden layers of an MLP generator; deeper plain MLPs do not train as GANs anyway


def check_mlp_hidden(value: Any) -> None:
    """One to MAX_MLP_LAYERS positive layer sizes (a huge count of tiny layers would take minutes to build)."""
    if not value or any(int(h) < 1 for h in value):
        raise ConfigError(f"mlp_hidden={value!r}: give one or more positive layer sizes", field="mlp_hidden")
    if len(value) > MAX_MLP_LAYERS:
        raise ConfigError(f"mlp_hidden has {len(value)} layers; give at most {MAX_MLP_LAYERS} layer sizes",
                          field="mlp_hidden")


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild G and D; stored with every checkpoint and pretrained card."""

    arch: str = option("dcgan", "one of ARCHS")
    img_size: int = option(32, "square images, pixels per side")
    img_channels: int = option(1, "1 = greyscale, 3 = RGB (any positive count works)")
    z_dim: int = option(100, "latent size")
    g_channels: int = option(64, "DCGAN generator width (channels of the last hidden stage)")
    d_channels: int = option(64, "DCGAN discriminator width (channels of the first stage)")
    mlp_hidden: tuple[int, ...] = option((256, 512, 1024), "MLP generator hidden sizes (D uses them reversed)")
    dropout: float = option(0.3, "MLP discriminator dropout")
    d_norm: str = option("batch", "batch | layer | none | spectral (resolved; 'auto' lives only in TrainConfig)")
    num_classes: int = option(0, "> 0 makes G and D class-conditional")

    def __post_init__(self) -> None:
        check_choice("arch", self.arch, ARCHS)
        check_choice("d_norm", self.d_norm, D_NORMS[1:])
        check_int_range("img_channels", self.img_channels, 1, 16)
        check_int_range("z_dim", self.z_dim, 1, 4096)
        check_int_range("g_channels", self.g_channels, 1, 2048)
        check_int_range("d_channels", self.d_channels, 1, 2048)
        check_int_range("num_classes", self.num_classes, 0, 10_000)
        check_float_range("dropout", self.dropout, 0.0, 0.95)
        check_mlp_hidden(self.mlp_hidden)
        if self.arch == "mlp":
            check_int_range("img_size", self.img_size, 2, 256)
        elif self.img_size not in DCGAN_SIZES:
            raise ConfigError(
                f"img_size={self.img_size} is not supported by {self.arch}; "
                f"choose one of: {', '.join(map(str, DCGAN_SIZES))}", field="img_size",
            )

    @property
    def conditional(self) -> bool:
        return self.num_classes > 0

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        return from_dict(cls, data)
