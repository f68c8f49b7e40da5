"""Feature extractors for quality metrics: the shipped small CNN classifiers and a name -> factory registry."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganlab.paths import shipped_dir


class FeatureExtractor(nn.Module):
    """Maps images float[-1, 1] (N, C, H, W) of any size/channel count to features (N, num_features).

    Subclasses set `name`, `num_features` (torchmetrics reads it when the module is passed as `feature=`),
    `num_classes` (0 when it is not a classifier) and `class_names`, and implement `features_and_logits`.
    """

    name: str = "extractor"
    num_features: int = 0
    num_classes: int = 0
    class_names: tuple[str, ...] = ()

    def features_and_logits(self, images: Tensor) -> tuple[Tensor, Tensor | None]:
        """One pass giving (features (N, F), logits (N, num_classes) or None)."""
        raise NotImplementedError

    def forward(self, images: Tensor) -> Tensor:
        return self.features_and_logits(images)[0]

    def classify(self, images: Tensor) -> Tensor:
        """Class logits (N, num_classes); ValueError when this extractor is not a classifier."""
        if self.num_classes <= 0:
            raise ValueError(f"extractor {self.name!r} is not a classifier: it has no class logits")
        logits = self.features_and_logits(images)[1]
        assert logits is not None
        return logits


def as_float_images(images: Tensor) -> Tensor:
    """uint8 [0, 255] or float [-1, 1] images (N, C, H, W) -> float32 [-1, 1]; ValueError for other shapes."""
    if not isinstance(images, Tensor) or images.dim() != 4:
        shape = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"images {shape}: expected a tensor of shape (N, C, H, W)")
    if images.dtype == torch.uint8:
        return images.float() / 127.5 - 1.0
    return images.float()


def to_grey(images: Tensor) -> Tensor:
    """(N, C, H, W) -> (N, 1, H, W): identity for 1 channel, luma for RGB(A), channel mean otherwise."""
    c = images.shape[1]
    if c == 1:
        return images
    if c in (3, 4):
        # ITU-R 601 luma, the same weights PIL uses for convert("L"), so RGB renders of a grey set score alike.
        w = images.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
        return (images[:, :3] * w).sum(dim=1, keepdim=True)
    return images.mean(dim=1, keepdim=True)


def resize_square(images: Tensor, size: int) -> Tensor:
    """Bilinear resize to size x size; antialias when shrinking so 64 px inputs are not aliased."""
    if images.shape[-2:] == (size, size):
        return images
    return F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False, antialias=True)


class SmallCNN(FeatureExtractor):
    """Greyscale classifier whose penultimate layer is the feature space (the shipped extractors).

    Any input is turned into grey and resized to `native_size` first, so 32 or 64 px generators can be scored.
    """

    def __init__(
        self,
        num_classes: int = 10,
        native_size: int = 28,
        width: int = 32,
        num_features: int = 128,
        dropout: float = 0.3,
        name: str = "small-cnn",
        class_names: Sequence[str] = (),
    ) -> None:
        super().__init__()
        self.name = name
        self.num_classes = num_classes
        self.native_size = native_size
        self.num_features = num_features
        self.class_names = tuple(class_names) or tuple(str(i) for i in range(num_classes))
        w = width

        def block(c_in: int, c_out: int) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]

        self.body = nn.Sequential(
            *block(1, w), nn.MaxPool2d(2),  # (N, w, s/2, s/2)
            *block(w, 2 * w), nn.MaxPool2d(2),  # (N, 2w, s/4, s/4)
            *block(2 * w, 4 * w), nn.AdaptiveAvgPool2d(3),  # (N, 4w, 3, 3): keeps coarse layout, unlike a 1x1 pool
            nn.Flatten(),  # (N, 36w)
            nn.Linear(36 * w, num_features), nn.ReLU(inplace=True),  # (N, F) = the features
        )  # fmt: skip
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(num_features, num_classes))

    def preprocess(self, images: Tensor) -> Tensor:
        """Any (N, C, H, W) uint8/float[-1, 1] -> (N, 1, native, native) float[-1, 1]."""
        return resize_square(to_grey(as_float_images(images)), self.native_size)

    def features_and_logits(self, images: Tensor) -> tuple[Tensor, Tensor | None]:
        x = self.preprocess(images.to(self._device()))
        feats = self.body(x)
        return feats, self.head(feats)

    def _device(self) -> torch.device:
        return next(self.parameters()).device


# --------------------------------------------------------------------------- shipped weights


def extractors_dir() -> Path:
    """Folder with <name>.safetensors + <name>.json (model card) for each shipped extractor."""
    return shipped_dir() / "extractors"  # part of the package: not moved by GANLAB_PRETRAINED


def read_card(name: str) -> dict[str, Any]:
    """The JSON card of a shipped extractor (architecture args, test accuracy, command)."""
    path = extractors_dir() / f"{name}.json"
    if not path.is_file():
        raise ValueError(f"no shipped extractor named {name!r} (looked for {path})")
    return json.loads(path.read_text())


@functools.lru_cache(maxsize=8)
def _load_state(name: str) -> dict[str, Tensor]:
    # Weights are read once per process; every get_extractor() call still gets its own module.
    from safetensors.torch import load_file

    return load_file(str(extractors_dir() / f"{name}.safetensors"))


def load_small_cnn(name: str) -> SmallCNN:
    """Rebuild a shipped classifier from its card and load its safetensors weights (no pickle), in eval mode."""
    card = read_card(name)
    model = SmallCNN(name=name, **card["arch"])
    model.load_state_dict(_load_state(name), strict=True)
    return model.eval().requires_grad_(False)


def shipped_available(name: str) -> bool:
    d = extractors_dir()
    return (d / f"{name}.json").is_file() and (d / f"{name}.safetensors").is_file()


# --------------------------------------------------------------------------- registry

Factory = Callable[[int, int], "FeatureExtractor | None"]


@dataclass(frozen=True)
class _Entry:
    factory: Factory
    datasets: tuple[str, ...] | None  # None = usable for any dataset (a generic extractor)
    channels: tuple[int, ...] | None  # None = any channel count
    available: Callable[[], bool]


_REGISTRY: dict[str, _Entry] = {}


def register_extractor(
    name: str,
    *,
    datasets: Sequence[str] | None = (),
    channels: Sequence[int] | None = None,
    available: Callable[[], bool] | None = None,
) -> Callable[[Factory], Factory]:
    """Decorator registering `factory(channels, img_size) -> FeatureExtractor | None` under `name`.

    datasets=() means "the dataset called `name`"; None means a generic fallback (e.g. Inception for RGB).
    `available()` is checked at lookup time, so an extractor whose weights are missing is simply not offered.
    """

    def deco(factory: Factory) -> Factory:
        ds = None if datasets is None else (tuple(datasets) or (name,))
        ch = None if channels is None else tuple(channels)
        _REGISTRY[name] = _Entry(factory, ds, ch, available or (lambda: True))
        return factory

    return deco


def list_extractors() -> list[str]:
    """Names of the registered extractors that can be built on this machine right now."""
    return sorted(name for name, entry in _REGISTRY.items() if entry.available())


def get_extractor(dataset: str, channels: int, img_size: int) -> FeatureExtractor | None:
    """The extractor for images of `dataset`, or None when there is none (the UI then shows no metric)."""
    if not isinstance(channels, int) or channels < 1:
        raise ValueError(f"channels={channels!r}: give a positive number of image channels")
    if not isinstance(img_size, int) or img_size < 1:
        raise ValueError(f"img_size={img_size!r}: give a positive image size in pixels")
    key = (dataset or "").strip().lower()
    specific = [e for e in _REGISTRY.values() if e.datasets is not None and key in e.datasets]
    generic = [e for e in _REGISTRY.values() if e.datasets is None]
    for entry in specific + generic:
        if entry.channels is not None and channels not in entry.channels:
            continue
        if entry.available():
            extractor = entry.factory(channels, img_size)
            if extractor is not None:
                return extractor
    return None


@register_extractor("digits", available=lambda: shipped_available("digits"))
def _digits(channels: int, img_size: int) -> FeatureExtractor:
    return load_small_cnn("digits")


@register_extractor(
    "fashion-mnist",
    datasets=("fashion-mnist", "fashion_mnist", "fashion", "fashionmnist"),
    available=lambda: shipped_available("fashion-mnist"),
)
def _fashion(channels: int, img_size: int) -> FeatureExtractor:
    return load_small_cnn("fashion-mnist")
