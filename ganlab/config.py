"""Training and model configuration as frozen dataclasses: validation, presets, JSON round-trip."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganlab.config_fields import (
    ConfigError,
    check_choice,
    check_float_range,
    check_int_range,
    check_positive,
    from_dict,
    to_jsonable,
)


ARCHS = ("mlp", "dcgan", "dcgan-upsample")
LOSSES = ("bce", "wgan-gp", "lsgan", "hinge")
DCGAN_SIZES = (16, 28, 32, 48, 64, 96, 128)
D_NORMS = ("auto", "batch", "layer", "none")
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild G and D; stored with every checkpoint and pretrained card."""

    arch: str = "dcgan"  # one of ARCHS
    img_size: int = 32  # square images, pixels per side
    img_channels: int = 1  # 1 = greyscale, 3 = RGB (any positive count works)
    z_dim: int = 100  # latent size
    g_channels: int = 64  # DCGAN generator width (channels of the last hidden stage)
    d_channels: int = 64  # DCGAN discriminator width (channels of the first stage)
    mlp_hidden: tuple[int, ...] = (256, 512, 1024)  # MLP generator hidden sizes (D uses them reversed)
    dropout: float = 0.3  # MLP discriminator dropout
    d_norm: str = "batch"  # batch | layer | none (resolved; "auto" lives only in TrainConfig)
    num_classes: int = 0  # > 0 makes G and D class-conditional

    def __post_init__(self) -> None:
        check_choice("arch", self.arch, ARCHS)
        check_choice("d_norm", self.d_norm, D_NORMS[1:])
        check_int_range("img_channels", self.img_channels, 1, 16)
        check_int_range("z_dim", self.z_dim, 1, 4096)
        check_int_range("g_channels", self.g_channels, 1, 2048)
        check_int_range("d_channels", self.d_channels, 1, 2048)
        check_int_range("num_classes", self.num_classes, 0, 10_000)
        check_float_range("dropout", self.dropout, 0.0, 0.95)
        if not self.mlp_hidden or any(int(h) < 1 for h in self.mlp_hidden):
            raise ConfigError(f"mlp_hidden={self.mlp_hidden!r}: give one or more positive layer sizes")
        if self.arch == "mlp":
            check_int_range("img_size", self.img_size, 2, 256)
        elif self.img_size not in DCGAN_SIZES:
            raise ConfigError(
                f"img_size={self.img_size} is not supported by {self.arch}; "
                f"choose one of: {', '.join(map(str, DCGAN_SIZES))}"
            )

    @property
    def conditional(self) -> bool:
        return self.num_classes > 0

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ModelConfig":
        return from_dict(cls, data)


@dataclass(frozen=True)
class TrainConfig:
    """A whole training run: data, model, objective, optimisation, device and logging."""

    # --- data
    dataset: str = "digits"  # registered dataset name (see ganlab.data.list_datasets())
    data_path: str = ""  # folder or zip for the "folder"/"zip" datasets
    data_subset: str = ""  # dataset-specific subset, e.g. emoji "faces" or "all"
    img_size: int = 32  # pixels per side
    channels: int = 0  # 0 = the dataset's own (1 for digits, 3 for emoji/folders)
    flip: bool = False  # random horizontal flips as augmentation
    # --- model
    arch: str = "dcgan"  # mlp | dcgan | dcgan-upsample
    conditional: bool = False  # feed class labels to G and D (labelled datasets only)
    z_dim: int = 100
    g_channels: int = 64
    d_channels: int = 64
    mlp_hidden: tuple[int, ...] = (256, 512, 1024)
    dropout: float = 0.3
    d_norm: str = "auto"  # auto = layer for wgan-gp, none for mlp, else batch
    # --- objective
    loss: str = "bce"  # bce (non-saturating) | wgan-gp | lsgan | hinge
    gp_lambda: float = 10.0  # gradient-penalty weight for wgan-gp
    d_steps: int = 1  # discriminator (critic) updates per iteration
    g_steps: int = 1  # generator updates per iteration (2 = "G twice per D step")
    # --- optimisation
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    batch_size: int = 64
    epochs: float = 5.0  # passes over the data (by discriminator batches)
    max_steps: int = 0  # > 0 overrides epochs: number of iterations
    ema: float = 0.0  # > 0 keeps an exponential moving average of G with this decay (e.g. 0.999)
    seed: int = 0
    # --- hardware
    device: str = "auto"  # auto = cuda > mps > cpu
    precision: str = "auto"  # auto = bf16 autocast where fast (CUDA, CPUs with AMX/AVX512-BF16), else fp32
    threads: int = 0  # CPU threads for torch; 0 = all CPUs this process may use
    # --- logging
    log_every: int = 10  # iterations between metric records
    sample_every: int = 100  # iterations between fixed-noise sample grids
    checkpoint_every: int = 500  # iterations between checkpoints
    keep_checkpoints: int = 3  # step checkpoints kept besides latest.pt
    num_samples: int = 64  # images in each fixed-noise grid
    quality_every: int = 200  # iterations between live FID/KID estimates (capped at 5% of training time); 0 = off
    name: str = ""  # optional human name for the run folder

    def __post_init__(self) -> None:
        if not isinstance(self.dataset, str) or not self.dataset:
            raise ConfigError(f"dataset={self.dataset!r}: give a dataset name")
        check_choice("arch", self.arch, ARCHS)
        check_choice("loss", self.loss, LOSSES)
        check_choice("d_norm", self.d_norm, D_NORMS)
        check_choice("device", self.device, DEVICES)
        check_choice("precision", self.precision, PRECISIONS)
        check_int_range("channels", self.channels, 0, 16)
        check_positive("lr_g", self.lr_g, upper=1.0)
        check_positive("lr_d", self.lr_d, upper=1.0)
        check_float_range("beta1", self.beta1, 0.0, 0.9999)
        check_float_range("beta2", self.beta2, 0.0, 0.99999)
        check_int_range("batch_size", self.batch_size, 1, 65_536)
        check_float_range("epochs", self.epochs, 0.0, 1e6)
        check_int_range("max_steps", self.max_steps, 0, 10**9)
        if self.epochs <= 0 and self.max_steps <= 0:
            raise ConfigError(f"epochs={self.epochs} and max_steps={self.max_steps}: set epochs > 0 or max_steps > 0")
        check_float_range("ema", self.ema, 0.0, 0.99999)
        check_float_range("gp_lambda", self.gp_lambda, 0.0, 1e4)
        check_int_range("d_steps", self.d_steps, 1, 100)
        check_int_range("g_steps", self.g_steps, 1, 100)
        check_int_range("seed", self.seed, 0, 2**63 - 1)
        check_int_range("threads", self.threads, 0, 1024)
        check_int_range("log_every", self.log_every, 1, 10**9)
        check_int_range("sample_every", self.sample_every, 1, 10**9)
        check_int_range("checkpoint_every", self.checkpoint_every, 1, 10**9)
        check_int_range("keep_checkpoints", self.keep_checkpoints, 0, 1000)
        check_int_range("num_samples", self.num_samples, 1, 1024)
        check_int_range("quality_every", self.quality_every, 0, 10**9)
        if self.name and (len(self.name) > 80 or any(c in self.name for c in "/\\\0")):
            raise ConfigError(f"name={self.name!r}: use at most 80 characters and no slashes")
        # The model part validates image size vs architecture and the widths.
        self.model_config(num_classes=0, channels=max(self.channels, 1))

    def resolved_d_norm(self) -> str:
        """auto: layer norm for WGAN-GP (BatchNorm couples samples, which breaks the per-sample
        gradient penalty), none for the classic MLP GAN, BatchNorm for DCGAN."""
        if self.d_norm != "auto":
            return self.d_norm
        if self.loss == "wgan-gp":
            return "layer"
        return "none" if self.arch == "mlp" else "batch"

    def model_config(self, num_classes: int = 0, channels: int | None = None) -> ModelConfig:
        """The network half of this config, with the data-dependent parts filled in."""
        return ModelConfig(
            arch=self.arch,
            img_size=self.img_size,
            img_channels=channels if channels is not None else max(self.channels, 1),
            z_dim=self.z_dim,
            g_channels=self.g_channels,
            d_channels=self.d_channels,
            mlp_hidden=tuple(int(h) for h in self.mlp_hidden),
            dropout=self.dropout,
            d_norm=self.resolved_d_norm(),
            num_classes=num_classes if self.conditional else 0,
        )

    def total_steps(self, num_images: int) -> int:
        """Iterations to run: max_steps, else epochs counted in discriminator batches."""
        if self.max_steps > 0:
            return self.max_steps
        per_epoch = max(1, num_images // (self.batch_size * self.d_steps))
        return max(1, math.ceil(self.epochs * per_epoch))

    def replace(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        return from_dict(cls, data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "TrainConfig":
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:  # RecursionError: absurdly nested brackets
            raise ConfigError(f"config is not valid JSON: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | Path) -> "TrainConfig":
        """Read a config.json; a missing, unreadable or non-text file is a ConfigError naming it."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "it is not UTF-8 JSON text"
            raise ConfigError(f"config file {path} cannot be read: {reason}") from None
        return cls.from_json(text)


# Presets: named bundles of fields over the defaults (the recipes GAN Lab must reproduce).
PRESETS: dict[str, dict[str, Any]] = {
    "DCGAN paper (Radford et al.)": dict(
        arch="dcgan", loss="bce", lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999, batch_size=128, d_steps=1, g_steps=1
    ),
    "WGAN-GP (Gulrajani et al.)": dict(
        arch="dcgan", loss="wgan-gp", gp_lambda=10.0, d_steps=5, g_steps=1, lr_g=1e-4, lr_d=1e-4,
        beta1=0.0, beta2=0.9, batch_size=64, d_norm="auto",
    ),
    "Vanilla GAN (MLP, Goodfellow et al.)": dict(
        arch="mlp", loss="bce", lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999, batch_size=64,
        mlp_hidden=(256, 512, 1024), dropout=0.3,
    ),
    "TTUR (D learns faster)": dict(arch="dcgan", loss="hinge", lr_g=1e-4, lr_d=4e-4, beta1=0.0, beta2=0.9),
    "G twice per D step": dict(arch="dcgan", loss="bce", d_steps=1, g_steps=2),
}


def apply_preset(config: TrainConfig, preset: str) -> TrainConfig:
    """Return config with a named preset's fields applied."""
    if preset not in PRESETS:
        raise ConfigError(f"preset={preset!r} is unknown; choose one of: {', '.join(PRESETS)}")
    return config.replace(**PRESETS[preset])


def field_help() -> dict[str, str]:
    """Per-field help text from the comments above (used by the CLI and the forms)."""
    import inspect
    import re

    help_text: dict[str, str] = {}
    for cls in (TrainConfig,):
        source = inspect.getsource(cls)
        for match in re.finditer(r"^\s+(\w+): [^=]+=[^#\n]*#\s*(.+)$", source, re.M):
            help_text[match.group(1)] = match.group(2).strip()
    return help_text

