"""TrainConfig: a whole training run as one frozen value (data, model, objective, optimisation, hardware, logging)."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganlab.config.fields import (
    ConfigError,
    check_choice,
    check_float_range,
    check_int_range,
    check_positive,
    from_dict,
    option,
    to_jsonable,
)
from ganlab.config.model import ARCHS, D_NORMS, ModelConfig, check_mlp_hidden

LOSSES = ("bce", "wgan-gp", "lsgan", "hinge")
DEVICES = ("auto", "cpu", "cuda", "mps")  # and cuda:K, GPU number K (see parse_device)
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
FITS = ("crop", "pad")  # how a folder's non-square images become square
AUGMENTS = ("off", "diffaugment", "ada")
# What each augmentation method may apply to the images D sees (ganlab.train.augment implements them).
# DiffAugment applies its parts to every image; 90-degree turns or flips at that rate would leak into G's images.
AUGMENT_PARTS = {"diffaugment": ("color", "translation", "cutout"),
                 "ada": ("flip", "rotate90", "translation", "color", "cutout")}
DEFAULT_AUGMENT_PARTS = {"diffaugment": "color,translation,cutout", "ada": "flip,rotate90,translation,color"}


@dataclass(frozen=True)
class TrainConfig:
    """A whole training run: data, model, objective, optimisation, device and logging."""

    # --- data
    dataset: str = option("digits", 'registered dataset name (see ganlab.data.list_datasets())')
    data_path: str = option("", 'folder or zip for the "folder"/"zip" datasets')
    data_subset: str = option("", 'dataset-specific subset: "train"/"test" split, emoji "faces" or "all"')
    fit: str = option("crop", "folders and zips: crop (centre square) or pad (whole image on its border colour)")
    img_size: int = option(32, 'pixels per side')
    channels: int = option(0, "0 = the dataset's own (1 for digits, 3 for emoji/folders)")
    flip: bool = option(False, 'random horizontal flips as augmentation')
    centre_crop: float = option(1.0, "keep the centre of each image before resizing, as a fraction of its side "
                                     "(0.5: a 96 px image keeps its middle 48 px); 1 = the whole image")
    # --- model
    arch: str = option("dcgan", 'mlp | dcgan | dcgan-upsample')
    conditional: bool = option(False, 'feed class labels to G and D (labelled datasets only)')
    z_dim: int = option(100, 'latent size')
    g_channels: int = option(64, 'DCGAN generator width (channels of the last hidden stage)')
    d_channels: int = option(64, 'DCGAN discriminator width (channels of the first stage)')
    mlp_hidden: tuple[int, ...] = option((256, 512, 1024), 'MLP generator hidden sizes (D uses them reversed)')
    dropout: float = option(0.3, 'MLP discriminator dropout')
    d_norm: str = option("auto", 'auto = layer for wgan-gp, none for mlp, else batch; spectral = spectral '
                                    'normalisation of every D layer (Miyato et al.)')
    # --- objective
    loss: str = option("bce", 'bce (non-saturating) | wgan-gp | lsgan | hinge')
    gp_lambda: float = option(10.0, 'gradient-penalty weight for wgan-gp')
    d_steps: int = option(1, 'discriminator (critic) updates per iteration')
    g_steps: int = option(1, 'generator updates per iteration (2 = "G twice per D step")')
    # --- augmentation of everything D sees (real and fake alike, differentiable): small datasets
    augment: str = option("off", "off | diffaugment (Zhao et al. 2020: every image, every step) | ada (Karras et "
                                 "al. 2020: each part with a probability p that adapts to D's overfitting)")
    augment_parts: str = option("", "comma-separated parts, empty = the method's default; diffaugment: color, "
                                    "translation, cutout; ada: also flip, rotate90 (translation is by whole pixels)")
    ada_target: float = option(0.6, "ADA: raise p while the mean sign of D's scores on reals is above this")
    ada_interval: int = option(4, "ADA: iterations between adjustments of p")
    ada_kimg: float = option(50.0, "ADA: thousands of real images over which p can move from 0 to 1 (the paper's "
                                   "500 suits runs of millions of images)")
    # --- starting point
    init_from: str = option("", "start from a trained model: a run checkpoint (.pt) or a shipped model's name or "
                                ".safetensors; G (and D when it has one) must match this config's networks")
    freeze_d: int = option(0, "FreezeD (Mo et al. 2020): keep D's first N layers fixed (with init_from)")
    # --- optimisation
    lr_g: float = option(2e-4, 'generator learning rate (Adam)')
    lr_d: float = option(2e-4, 'discriminator learning rate (Adam)')
    beta1: float = option(0.5, 'Adam beta1 (momentum)')
    beta2: float = option(0.999, 'Adam beta2')
    batch_size: int = option(64, 'images per batch')
    epochs: float = option(5.0, 'passes over the data (by discriminator batches)')
    max_steps: int = option(0, '> 0 overrides epochs: number of iterations')
    max_minutes: float = option(0.0, '> 0 also stops after this many minutes of training (the time of the steps '
                                     'themselves: pauses, data loading, grids and quality estimates not counted)')
    ema: float = option(0.0, '> 0 keeps an exponential moving average of G with this decay (e.g. 0.999)')
    ema_rampup: float = option(0.0, "> 0: the EMA's half-life is at most this share of the G updates so far "
                                    "(StyleGAN's ema_rampup, e.g. 0.05); 0 = the fixed warm-up (1+n)/(10+n)")
    seed: int = option(0, 'seed of every random stream of the run')
    # --- hardware
    device: str = option("auto", 'auto = cuda > mps > cpu; cuda = any free GPU; cuda:K = GPU number K')
    precision: str = option("auto", 'auto = bf16 autocast where fast (CUDA, CPUs with AMX/AVX512-BF16), else fp32')
    threads: int = option(0, 'CPU threads for torch; 0 = all CPUs this process may use')
    # --- logging
    log_every: int = option(10, 'iterations between metric records')
    sample_every: int = option(100, 'iterations between fixed-noise sample grids')
    checkpoint_every: int = option(500, 'iterations between checkpoints')
    keep_checkpoints: int = option(3, 'step checkpoints kept besides latest.pt')
    num_samples: int = option(64, 'images in each fixed-noise grid')
    quality_every: int = option(200, 'iterations between live FID/KID estimates (capped at 5% of training time); 0 = off')
    name: str = option("", 'optional human name for the run folder')

    def __post_init__(self) -> None:
        if not isinstance(self.dataset, str) or not self.dataset:
            raise ConfigError(f"dataset={self.dataset!r}: give a dataset name", field="dataset")
        check_choice("arch", self.arch, ARCHS)
        check_choice("loss", self.loss, LOSSES)
        check_choice("d_norm", self.d_norm, D_NORMS)
        parse_device(self.device)
        check_choice("precision", self.precision, PRECISIONS)
        check_choice("fit", self.fit, FITS)
        check_mlp_hidden(self.mlp_hidden)
        check_int_range("channels", self.channels, 0, 16)
        check_positive("lr_g", self.lr_g, upper=1.0)
        check_positive("lr_d", self.lr_d, upper=1.0)
        check_float_range("beta1", self.beta1, 0.0, 0.9999)
        check_float_range("beta2", self.beta2, 0.0, 0.99999)
        check_int_range("batch_size", self.batch_size, 1, 65_536)
        check_float_range("epochs", self.epochs, 0.0, 1e6)
        check_int_range("max_steps", self.max_steps, 0, 10**9)
        check_float_range("max_minutes", self.max_minutes, 0.0, 1e6)
        if self.epochs <= 0 and self.max_steps <= 0 and self.max_minutes <= 0:
            raise ConfigError(f"epochs={self.epochs}, max_steps={self.max_steps} and max_minutes={self.max_minutes}: "
                              "set one of them > 0", field="max_steps")
        check_float_range("ema", self.ema, 0.0, 0.99999)
        check_float_range("ema_rampup", self.ema_rampup, 0.0, 1.0)
        check_float_range("gp_lambda", self.gp_lambda, 0.0, 1e4)
        check_int_range("d_steps", self.d_steps, 1, 100)
        check_int_range("g_steps", self.g_steps, 1, 100)
        check_float_range("centre_crop", self.centre_crop, 0.05, 1.0)
        self.augment_part_list()  # validates augment and augment_parts
        check_float_range("ada_target", self.ada_target, 0.0, 1.0)
        check_int_range("ada_interval", self.ada_interval, 1, 10_000)
        check_positive("ada_kimg", self.ada_kimg, upper=1e6)
        if not isinstance(self.init_from, str):
            raise ConfigError(f"init_from={self.init_from!r}: give a checkpoint path or a shipped model name",
                              field="init_from")
        check_int_range("freeze_d", self.freeze_d, 0, 64)
        if self.freeze_d and not self.init_from:
            raise ConfigError(f"freeze_d={self.freeze_d}: freezing D's first layers needs a trained D; "
                              "set init_from too (or freeze_d=0)", field="freeze_d")
        check_int_range("seed", self.seed, 0, 2**63 - 1)
        check_int_range("threads", self.threads, 0, 1024)
        check_int_range("log_every", self.log_every, 1, 10**9)
        check_int_range("sample_every", self.sample_every, 1, 10**9)
        check_int_range("checkpoint_every", self.checkpoint_every, 1, 10**9)
        check_int_range("keep_checkpoints", self.keep_checkpoints, 0, 1000)
        check_int_range("num_samples", self.num_samples, 1, 1024)
        check_int_range("quality_every", self.quality_every, 0, 10**9)
        if self.name and (len(self.name) > 80 or any(c in self.name for c in "/\\\0")):
            raise ConfigError(f"name={self.name!r}: use at most 80 characters and no slashes", field="name")
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

    def augment_part_list(self) -> tuple[str, ...]:
        """The augmentation parts in use (empty when augment is off); ConfigError naming a part not allowed."""
        check_choice("augment", self.augment, AUGMENTS)
        if self.augment == "off":
            return ()
        if not isinstance(self.augment_parts, str):
            raise ConfigError(f"augment_parts={self.augment_parts!r}: give comma-separated part names",
                              field="augment_parts")
        text = self.augment_parts.strip() or DEFAULT_AUGMENT_PARTS[self.augment]
        parts = tuple(p.strip() for p in text.split(",") if p.strip())
        allowed = AUGMENT_PARTS[self.augment]
        for part in parts:
            if part not in allowed:
                raise ConfigError(f"augment_parts has {part!r}, which {self.augment} does not offer; "
                                  f"choose from: {', '.join(allowed)}", field="augment_parts")
        if not parts or len(set(parts)) != len(parts):
            raise ConfigError(f"augment_parts={self.augment_parts!r}: name each part once, e.g. {', '.join(allowed)}",
                              field="augment_parts")
        return parts

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
        """Iterations to run: max_steps, else epochs counted in discriminator batches; 0 = no step limit (the run
        ends when max_minutes are spent)."""
        if self.max_steps > 0:
            return self.max_steps
        if self.epochs <= 0:
            return 0
        per_epoch = max(1, num_images // (self.batch_size * self.d_steps))
        return max(1, math.ceil(self.epochs * per_epoch))

    def replace(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        return from_dict(cls, _migrate(data))

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


def parse_device(name: Any) -> tuple[str, int | None]:
    """'cuda:1' -> ('cuda', 1), 'cuda' -> ('cuda', None); ConfigError for anything but auto/cpu/mps/cuda[:K]."""
    kind, colon, index = name.partition(":") if isinstance(name, str) else ("", "", "")
    if kind in DEVICES and not colon:
        return kind, None
    if kind == "cuda" and index.isdigit() and int(index) < 1024:
        return kind, int(index)
    raise ConfigError(f"device={name!r} is not allowed; choose one of: auto, cpu, cuda (any free GPU), "
                      "cuda:K (GPU number K, from 0), mps")


def _migrate(data: Any) -> Any:
    """Configs written before `fit` existed kept crop/pad in data_subset: move it to its own field."""
    if isinstance(data, dict) and "fit" not in data and data.get("data_subset") in FITS:
        data = {**data, "fit": data["data_subset"], "data_subset": ""}
    return data


def field_help() -> dict[str, str]:
    """Help text per TrainConfig field (the CLI's --help and the Train form's tooltips)."""
    return {f.name: f.metadata.get("help", "") for f in dataclasses.fields(TrainConfig)}


def config_errors(values: dict[str, Any]) -> dict[str, str]:
    """Every problem of a set of field values, by field ("" for whole-config problems): what a form shows.

    TrainConfig stops at its first error; here each bad field is reported, then set to its default so the
    fields after it are checked too.
    """
    errors: dict[str, str] = {}
    trial = dict(values)
    defaults = TrainConfig().to_dict()
    for _ in range(len(defaults) + 1):
        try:
            TrainConfig.from_dict(trial)
            return errors
        except ConfigError as exc:
            if exc.field in errors:  # still wrong with that field at its default: the cause lies elsewhere
                return errors
            field = exc.field if exc.field in defaults else ""
            errors[field] = str(exc)
            if not field:
                return errors
            trial[field] = defaults[field]
    return errors
