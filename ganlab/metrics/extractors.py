"""Feature extractors for quality metrics: the common interface, input helpers and a name -> factory registry.

get_extractor() picks, in this order: the dataset's own extractor (shipped classifiers), then the generic ones by
priority (Inception-v3 when its weights are cached, then the seeded random encoder that works for any image set).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn


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

    def fingerprint(self) -> str:
        """Hash of the name, the way features are read and every weight: cached statistics are keyed on it,
        so new weights (or a torch whose seeded RNG draws differently) never reuse stale numbers."""
        cached = getattr(self, "_fingerprint", None)
        if cached is None:
            h = hashlib.sha256(f"{self.name}|{self.num_features}|{self.describe_features()}".encode())
            for key, value in sorted(self.state_dict().items()):
                h.update(key.encode())
                h.update(value.detach().to("cpu").contiguous().numpy().tobytes())
            cached = h.hexdigest()[:16]
            self._fingerprint = cached
        return cached

    def describe_features(self) -> str:
        """Extra text that changes when the same weights are read differently (part of the fingerprint)."""
        return ""


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


def to_rgb(images: Tensor) -> Tensor:
    """(N, C, H, W) -> (N, 3, H, W): grey repeated (so a grey set and its RGB render score alike), RGB(A) kept."""
    c = images.shape[1]
    if c >= 3:
        return images[:, :3]
    return (images if c == 1 else images.mean(dim=1, keepdim=True)).expand(-1, 3, -1, -1)


def resize_square(images: Tensor, size: int) -> Tensor:
    """Bilinear resize to size x size; antialias when shrinking so 64 px inputs are not aliased."""
    if images.shape[-2:] == (size, size):
        return images
    return F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False, antialias=True)


# --------------------------------------------------------------------------- registry

Factory = Callable[[int, int], "FeatureExtractor | None"]


@dataclass(frozen=True)
class _Entry:
    factory: Factory
    datasets: tuple[str, ...] | None  # None = usable for any dataset (a generic extractor)
    channels: tuple[int, ...] | None  # None = any channel count
    available: Callable[[], bool]
    priority: int  # among generic extractors: lower is tried first
    why_missing: Callable[[], str]
    retired: str = ""  # why it is no longer chosen or listed; still built by name, to re-score older records


@dataclass(frozen=True)
class ExtractorChoice:
    """The extractor get_extractor picked and, when a better one was passed over, why (shown to the user)."""

    extractor: FeatureExtractor
    note: str = ""


_REGISTRY: dict[str, _Entry] = {}


def register_extractor(
    name: str,
    *,
    datasets: Sequence[str] | None = (),
    channels: Sequence[int] | None = None,
    available: Callable[[], bool] | None = None,
    priority: int = 50,
    why_missing: Callable[[], str] | None = None,
    retired: str = "",
) -> Callable[[Factory], Factory]:
    """Decorator registering `factory(channels, img_size) -> FeatureExtractor | None` under `name`.

    datasets=() means "the dataset called `name`"; None means a generic extractor, tried by `priority`.
    `available()` is checked at lookup time, so an extractor whose weights are missing is simply not offered;
    `why_missing()` says why (e.g. which file is absent) when a lookup passes it over. A `retired` extractor (the
    reason given) is never chosen for a dataset nor listed, but `extractor_by_name` still builds it, so records and
    cards measured with it can be measured again the same way.
    """

    def deco(factory: Factory) -> Factory:
        ds = None if datasets is None else (tuple(datasets) or (name,))
        ch = None if channels is None else tuple(channels)
        _REGISTRY[name] = _Entry(factory, ds, ch, available or (lambda: True), priority,
                                 why_missing or (lambda: "its files are missing"), retired)
        return factory

    return deco


def list_extractors() -> list[str]:
    """Names of the registered extractors, not retired, that can be built on this machine right now."""
    return sorted(name for name, entry in _REGISTRY.items() if not entry.retired and entry.available())


def retired_extractors() -> dict[str, str]:
    """{name: why} of the extractors kept only to measure older records again."""
    return {name: entry.retired for name, entry in _REGISTRY.items() if entry.retired}


def _check_shape(channels: int, img_size: int) -> None:
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
        raise ValueError(f"channels={channels!r}: give a positive number of image channels")
    if isinstance(img_size, bool) or not isinstance(img_size, int) or img_size < 1:
        raise ValueError(f"img_size={img_size!r}: give a positive image size in pixels")


def choose_extractor(dataset: str, channels: int, img_size: int, name: str | None = None) -> ExtractorChoice | None:
    """The extractor for images of `dataset` (or the one called `name`), with a note on what was passed over.

    None only when `name` is None and no registered extractor fits (never with the generic encoder registered).
    """
    _check_shape(channels, img_size)
    if name:
        return ExtractorChoice(extractor_by_name(name, channels, img_size))
    key = (dataset or "").strip().lower()
    current = {n: e for n, e in _REGISTRY.items() if not e.retired}
    specific = [(n, e) for n, e in current.items() if e.datasets is not None and key in e.datasets]
    generic = sorted(((n, e) for n, e in current.items() if e.datasets is None), key=lambda ne: ne[1].priority)
    skipped = []
    for entry_name, entry in specific + generic:
        if entry.channels is not None and channels not in entry.channels:
            continue
        if not entry.available():
            skipped.append(f"{entry_name} is not available ({entry.why_missing()})")
            continue
        extractor = entry.factory(channels, img_size)
        if extractor is not None:
            note = "; ".join(skipped)
            return ExtractorChoice(extractor, f"{note}; using {extractor.name} instead" if note else "")
    return None


def get_extractor(dataset: str, channels: int, img_size: int) -> FeatureExtractor | None:
    """The extractor for images of `dataset`: its own if shipped, else the best generic one available."""
    choice = choose_extractor(dataset, channels, img_size)
    return choice.extractor if choice else None


def extractor_by_name(name: str, channels: int, img_size: int) -> FeatureExtractor:
    """A registered extractor by its name (e.g. to score with the same one an older run used)."""
    _check_shape(channels, img_size)
    entry = _REGISTRY.get(name)
    if entry is None:
        raise ValueError(f"unknown extractor {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    if not entry.available():
        raise ValueError(f"extractor {name!r} is not available on this machine: {entry.why_missing()}")
    if entry.channels is not None and channels not in entry.channels:
        raise ValueError(f"extractor {name!r} takes {' or '.join(map(str, entry.channels))}-channel images, "
                         f"not {channels}")
    extractor = entry.factory(channels, img_size)
    if extractor is None:
        raise ValueError(f"extractor {name!r} cannot score {channels}-channel {img_size} px images")
    return extractor
