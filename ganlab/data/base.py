"""Dataset registry, the ImageDataset value and tensor helpers shared by every image source."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

Progress = Callable[[int, int], None]

MIN_SIZE, MAX_SIZE = 2, 1024
CHANNEL_CHOICES = (0, 1, 3)


@dataclass(frozen=True, eq=False)  # eq=False: comparing by tensor contents is ambiguous; identity is clear
class ImageDataset:
    """A whole dataset in memory: uint8 images (N, C, H, W), optional int64 labels (N,)."""

    images: torch.Tensor
    labels: torch.Tensor | None
    class_names: tuple[str, ...]
    name: str
    skipped: tuple[str, ...] = ()  # "file: reason" for the first few skipped files
    num_skipped: int = 0  # all skipped files, also those not listed in `skipped`

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise ValueError(f"images must be uint8 (N, C, H, W), got {self.images.dtype} {tuple(self.images.shape)}")
        if self.labels is not None and self.labels.shape != (self.images.shape[0],):
            raise ValueError(f"labels shape {tuple(self.labels.shape)} does not match {self.images.shape[0]} images")

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def channels(self) -> int:
        return int(self.images.shape[1])

    @property
    def size(self) -> int:
        return int(self.images.shape[-1])

    def __len__(self) -> int:
        return int(self.images.shape[0])


@dataclass(frozen=True)
class LoadRequest:
    """What a source is asked for; `channels` is already resolved (never 0)."""

    size: int
    channels: int
    path: str = ""
    subset: str = ""
    progress: Progress | None = None
    max_images: int = 0
    min_images: int = 1

    def report(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)


@dataclass(frozen=True)
class DatasetSpec:
    """A registered source: its loader plus what the UI needs to offer it."""

    name: str
    loader: Callable[[LoadRequest], ImageDataset]
    description: str
    labelled: bool
    default_channels: int
    needs_path: bool = False
    subsets: tuple[str, ...] = ()
    default_subset: str = ""
    order: int = 100  # position in list_datasets(): simple built-ins first, user data last


_REGISTRY: dict[str, DatasetSpec] = {}

# Non-image sources that live in the registry's namespace but are loaded by their own function;
# asking load_dataset for them points the caller there (see toy2d.py).
_ELSEWHERE: dict[str, str] = {}


def register_dataset(
    name: str,
    *,
    description: str,
    labelled: bool,
    default_channels: int,
    needs_path: bool = False,
    subsets: tuple[str, ...] = (),
    default_subset: str = "",
    order: int = 100,
) -> Callable[[Callable[[LoadRequest], ImageDataset]], Callable[[LoadRequest], ImageDataset]]:
    """Decorator: add an image source to the registry under `name`."""

    def wrap(fn: Callable[[LoadRequest], ImageDataset]) -> Callable[[LoadRequest], ImageDataset]:
        _REGISTRY[name] = DatasetSpec(
            name, fn, description, labelled, default_channels, needs_path, tuple(subsets), default_subset, order
        )
        return fn

    return wrap


def register_elsewhere(name: str, hint: str) -> None:
    """Reserve a name whose data is not an image set; load_dataset(name) raises with `hint`."""
    _ELSEWHERE[name] = hint


def list_datasets() -> list[str]:
    """Names of the image datasets, digits (the default) first, user folders and zips last."""
    return sorted(_REGISTRY, key=lambda n: (_REGISTRY[n].order, n))


def get_spec(name: str) -> DatasetSpec:
    """The registered spec, or a ValueError listing the known names."""
    if name in _ELSEWHERE:
        raise ValueError(f"dataset {name!r} is not an image dataset: {_ELSEWHERE[name]}")
    if name not in _REGISTRY:
        raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(list_datasets())}")
    return _REGISTRY[name]


def dataset_info(name: str) -> dict:
    """What the UI needs to offer a dataset: description, labels, channels, path, subsets."""
    spec = get_spec(name)
    return {
        "name": spec.name,
        "description": spec.description,
        "labelled": spec.labelled,
        "default_channels": spec.default_channels,
        "needs_path": spec.needs_path,
        "subsets": list(spec.subsets),
        "default_subset": spec.default_subset,
    }


def check_request(size: int, channels: int, max_images: int) -> None:
    """ValueError naming the first bad value among the generic load arguments."""
    if isinstance(size, bool) or not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"size={size!r}: give an integer image side between {MIN_SIZE} and {MAX_SIZE} pixels")
    if channels not in CHANNEL_CHOICES:
        raise ValueError(f"channels={channels!r}: choose 1 (greyscale), 3 (RGB) or 0 (the dataset's own)")
    if isinstance(max_images, bool) or not isinstance(max_images, int) or max_images < 0:
        raise ValueError(f"max_images={max_images!r}: give 0 (all) or a positive count")


def load_dataset(
    name: str,
    *,
    size: int,
    channels: int = 0,
    path: str = "",
    subset: str = "",
    progress: Progress | None = None,
    max_images: int = 0,
    min_images: int = 1,
) -> ImageDataset:
    """Load a registered dataset as uint8 (N, C, size, size); channels=0 = the dataset's own."""
    spec = get_spec(name)
    check_request(size, channels, max_images)
    request = LoadRequest(
        size=size,
        channels=channels or spec.default_channels,
        path=str(path or ""),
        subset=str(subset or "") or spec.default_subset,
        progress=progress,
        max_images=max_images,
        min_images=max(1, int(min_images)),
    )
    if spec.subsets and request.subset.split(":")[0] not in {s.split(":")[0] for s in spec.subsets}:
        raise ValueError(f"subset={subset!r} is not offered by {name!r}; choose one of {', '.join(spec.subsets)}")
    dataset = spec.loader(request)
    if len(dataset) < request.min_images:
        raise ValueError(
            f"dataset {name!r} has only {len(dataset)} usable images, fewer than the {request.min_images} needed"
        )
    return dataset


# ---------------------------------------------------------------- helpers shared by sources


def downloads_allowed() -> bool:
    """False in tests and when GANLAB_OFFLINE is set: sources must then use local files only."""
    flag = os.environ.get("GANLAB_OFFLINE", "").lower()
    return flag not in ("1", "true", "yes") and not os.environ.get("GANLAB_TEST")


def pick_indices(total: int, max_images: int) -> np.ndarray:
    """Evenly spaced indices, so a capped labelled set still covers every class."""
    if max_images <= 0 or max_images >= total:
        return np.arange(total)
    return np.linspace(0, total - 1, max_images).round().astype(np.int64)


def convert_channels(images: torch.Tensor, channels: int) -> torch.Tensor:
    """uint8 (N, C, H, W) to 1 or 3 channels (ITU-R 601 luma, like PIL's convert('L'))."""
    have = images.shape[1]
    if have == channels:
        return images
    if have == 1 and channels == 3:
        return images.expand(-1, 3, -1, -1).contiguous()
    if have == 3 and channels == 1:
        weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
        out = torch.empty((images.shape[0], 1, *images.shape[2:]), dtype=torch.uint8)
        for start in range(0, images.shape[0], 4096):  # chunks bound the float copy's memory
            chunk = images[start : start + 4096].float()
            out[start : start + 4096] = (chunk * weights).sum(1, keepdim=True).round().clamp(0, 255).to(torch.uint8)
        return out
    raise ValueError(f"cannot convert {have}-channel images to {channels} channels")


def resize_uint8(images: torch.Tensor, size: int, chunk: int = 2048) -> torch.Tensor:
    """Resize uint8 (N, C, H, W) to size x size: antialiased bicubic down, bilinear up (no ringing)."""
    n, c, h, w = images.shape
    if h == size and w == size:
        return images.contiguous()
    mode = "bilinear" if size > max(h, w) else "bicubic"
    out = torch.empty((n, c, size, size), dtype=torch.uint8)
    for start in range(0, n, chunk):  # chunks keep the float copy small for 60k-image sets
        x = images[start : start + chunk].float()
        y = F.interpolate(x, size=(size, size), mode=mode, antialias=True, align_corners=False)
        out[start : start + chunk] = y.round_().clamp_(0, 255).to(torch.uint8)
    return out


def finish(images: torch.Tensor, size: int, channels: int) -> torch.Tensor:
    """Common tail of array sources: resize, then set the channel count; contiguous uint8."""
    # Resizing before widening grey to RGB does a third of the work.
    if images.shape[1] == 3 and channels == 1:
        return resize_uint8(convert_channels(images, 1), size)
    return convert_channels(resize_uint8(images, size), channels).contiguous()
