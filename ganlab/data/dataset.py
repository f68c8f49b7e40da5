"""The dataset types every source returns: images in memory, or a folder decoded while training."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

Progress = Callable[[int, int], None]


class Dataset:
    """What training and the UI need of any dataset (ganlab.data.make_sampler turns one into batches)."""

    name: str
    class_names: tuple[str, ...]
    labels: torch.Tensor | None
    skipped: tuple[str, ...]  # "file: reason" for the first few skipped files
    num_skipped: int  # all skipped files, also those not listed in `skipped`

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def channels(self) -> int:
        raise NotImplementedError

    @property
    def size(self) -> int:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError



@dataclass(frozen=True, eq=False)  # eq=False: comparing by tensor contents is ambiguous; identity is clear
class ImageDataset(Dataset):
    """A whole dataset in memory: uint8 images (N, C, H, W), optional int64 labels (N,)."""

    images: torch.Tensor
    labels: torch.Tensor | None
    class_names: tuple[str, ...]
    name: str
    skipped: tuple[str, ...] = ()
    num_skipped: int = 0

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise ValueError(f"images must be uint8 (N, C, H, W), got {self.images.dtype} {tuple(self.images.shape)}")
        if self.labels is not None and self.labels.shape != (self.images.shape[0],):
            raise ValueError(f"labels shape {tuple(self.labels.shape)} does not match {self.images.shape[0]} images")

    @property
    def channels(self) -> int:
        return int(self.images.shape[1])

    @property
    def size(self) -> int:
        return int(self.images.shape[-1])

    def __len__(self) -> int:
        return int(self.images.shape[0])



@dataclass(frozen=True, eq=False)
class FolderStream(Dataset):
    """A folder too big for memory: the file list and labels, decoded batch by batch while training."""

    root: Path
    files: tuple[str, ...]
    labels: torch.Tensor | None
    class_names: tuple[str, ...]
    name: str
    image_size: int
    image_channels: int
    fit: str = "crop"
    crop: float = 1.0  # centre fraction kept before resizing
    skipped: tuple[str, ...] = field(default=())
    num_skipped: int = 0

    @property
    def channels(self) -> int:
        return self.image_channels

    @property
    def size(self) -> int:
        return self.image_size

    def __len__(self) -> int:
        return len(self.files)
