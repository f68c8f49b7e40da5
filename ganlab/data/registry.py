"""The dataset registry: what a source is asked for (DataRequest), how sources register, what the UI may offer."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ganlab.config import FITS, TrainConfig
from ganlab.data.dataset import ImageDataset, Progress

MIN_SIZE, MAX_SIZE = 2, 1024
CHANNEL_CHOICES = (0, 1, 3)


@dataclass(frozen=True)
class DataRequest:
    """One request for a dataset; every source receives it with channels and subset already resolved."""

    name: str
    size: int
    channels: int = 0  # 0 = the dataset's own
    path: str = ""  # folder, zip or font file, for the sources that read one
    subset: str = ""  # dataset-specific: train/test split, emoji faces/all
    fit: str = "crop"  # folders: crop or pad to a square
    crop: float = 1.0  # keep the centre fraction of each image's side before resizing (1 = all of it)
    max_images: int = 0  # 0 = all; else evenly spaced (every class keeps its share)
    min_images: int = 1  # fewer usable images than this is an error (training needs one batch)
    memory_budget: int = 0  # bytes of uint8 images a folder may hold in RAM before it streams (0 = default)
    progress: Progress | None = field(default=None, compare=False)

    @classmethod
    def of(cls, config: TrainConfig, progress: Progress | None = None) -> "DataRequest":
        """The data a training config asks for (at least one batch of images)."""
        return cls(name=config.dataset, size=config.img_size, channels=config.channels, path=config.data_path,
                   subset=config.data_subset, fit=config.fit, crop=config.centre_crop, min_images=config.batch_size,
                   progress=progress)

    def report(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)

    def check(self) -> None:
        """ValueError naming the first bad value among the generic arguments."""
        size, max_images = self.size, self.max_images
        if isinstance(size, bool) or not isinstance(size, int) or not MIN_SIZE <= size <= MAX_SIZE:
            raise ValueError(f"size={size!r}: give an integer image side between {MIN_SIZE} and {MAX_SIZE} pixels")
        if self.channels not in CHANNEL_CHOICES:
            raise ValueError(f"channels={self.channels!r}: choose 1 (greyscale), 3 (RGB) or 0 (the dataset's own)")
        if isinstance(max_images, bool) or not isinstance(max_images, int) or max_images < 0:
            raise ValueError(f"max_images={max_images!r}: give 0 (all) or a positive count")
        if self.fit not in FITS:
            raise ValueError(f"fit={self.fit!r}: choose {' or '.join(FITS)} (how images become square)")
        if isinstance(self.crop, bool) or not isinstance(self.crop, (int, float)) or not 0.05 <= self.crop <= 1:
            raise ValueError(f"crop={self.crop!r}: give the centre fraction to keep, from 0.05 to 1 (1 = whole image)")

    def resolved(self, spec: "DatasetSpec") -> "DataRequest":
        """Channels and subset filled in from the source's defaults; an unoffered subset is refused."""
        subset = str(self.subset or "") or spec.default_subset
        # A subset may carry an option after a colon (emoji "faces:#202020" sets the background).
        if spec.subsets and subset.split(":")[0] not in {s.split(":")[0] for s in spec.subsets}:
            raise ValueError(f"subset={self.subset!r} is not offered by {self.name!r}; "
                             f"choose one of {', '.join(spec.subsets)}")
        return replace(self, channels=self.channels or spec.default_channels, subset=subset, path=str(self.path or ""),
                       min_images=max(1, int(self.min_images)))


Loader = Callable[[DataRequest], ImageDataset]


@dataclass(frozen=True)
class DatasetSpec:
    """A registered source: its loader plus what the UI needs to offer it."""

    name: str
    loader: Loader
    description: str
    labelled: bool
    default_channels: int
    needs_path: bool = False
    subsets: tuple[str, ...] = ()
    default_subset: str = ""
    order: int = 100  # position in list_datasets(): simple built-ins first, user data last


_REGISTRY: dict[str, DatasetSpec] = {}
# Names that are not image sets; asking for them says where their data lives.
_ELSEWHERE = {"toy2d": "it holds 2-D points for the Playground; load them with ganlab.toy.load_toy2d()"}


def register_dataset(name: str, *, description: str, labelled: bool, default_channels: int, needs_path: bool = False,
                     subsets: tuple[str, ...] = (), default_subset: str = "", order: int = 100) -> Callable[[Loader], Loader]:
    """Decorator: add an image source to the registry under `name`."""

    def wrap(fn: Loader) -> Loader:
        _REGISTRY[name] = DatasetSpec(name, fn, description, labelled, default_channels, needs_path, tuple(subsets),
                                      default_subset, order)
        return fn

    return wrap


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


def downloads_allowed() -> bool:
    """False in tests and when GANLAB_OFFLINE is set: sources must then use local files only."""
    flag = os.environ.get("GANLAB_OFFLINE", "").lower()
    return flag not in ("1", "true", "yes") and not os.environ.get("GANLAB_TEST")
