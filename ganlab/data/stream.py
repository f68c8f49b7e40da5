"""Folders too big for memory: decode batches in DataLoader workers, with the BatchSampler interface."""

from __future__ import annotations

import os

import numpy as np
import torch
from torch.utils.data import DataLoader
from torch.utils.data import Dataset as TorchDataset

from ganlab.data.dataset import Dataset, FolderStream
from ganlab.data.decode import SkipImage, decode_image
from ganlab.data.folder import FolderScan, infer_labels, no_images_message
from ganlab.data.pixels import pick_indices
from ganlab.data.sampler import BatchSampler, EpochOrder, OrderedSampler, to_model_range


def stream_scanned(scan: FolderScan, size: int, channels: int, fit: str, max_images: int, name: str,
                   crop: float = 1.0) -> FolderStream:
    """A FolderStream over a scanned folder (no decoding now; unusable files are replaced while streaming)."""
    if not scan.files:
        raise ValueError(no_images_message(scan))
    files = tuple(scan.files[i] for i in pick_indices(len(scan.files), max_images))
    labels, class_names = infer_labels(files)
    return FolderStream(
        root=scan.root,
        files=files,
        labels=torch.tensor(labels, dtype=torch.int64) if labels is not None else None,
        class_names=class_names,
        name=name or scan.root.name,
        image_size=size,
        image_channels=channels,
        fit=fit,
        crop=crop,
    )


class _Decoded(TorchDataset):
    """Index -> (uint8 (C, H, W), label); an unusable file is replaced by the next usable one."""

    def __init__(self, stream: FolderStream):
        self.stream = stream

    def __len__(self) -> int:
        return len(self.stream)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, int]:
        s = self.stream
        for k in range(len(s)):  # deterministic substitute, so resumed runs see the same data
            j = (i + k) % len(s)
            try:
                arr = decode_image(s.root / s.files[j], s.image_size, s.image_channels, s.fit, crop=s.crop)
            except SkipImage:
                continue
            label = int(s.labels[j]) if s.labels is not None else -1
            return torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1))), label, k
        raise ValueError(f"no usable images in {str(s.root)!r}: every file failed to decode")


def _collate(items: list) -> tuple[torch.Tensor, torch.Tensor, int]:
    images = torch.stack([it[0] for it in items])
    labels = torch.tensor([it[1] for it in items], dtype=torch.int64)
    return images, labels, sum(1 for it in items if it[2])


class StreamingBatchSampler(OrderedSampler):
    """Same interface and same index order as BatchSampler, decoding in DataLoader workers."""

    def __init__(
        self,
        stream: FolderStream,
        batch_size: int,
        device: torch.device | str,
        *,
        flip: bool = False,
        seed: int = 0,
        drop_last: bool = True,
        num_workers: int | None = None,
        shard: tuple[int, int] = (0, 1),
    ):
        self.dataset = stream
        self.device = torch.device(device)
        self._order = EpochOrder(len(stream), batch_size, seed=seed, flip=flip, drop_last=drop_last, name=stream.name,
                                 shard=shard)
        if num_workers is None:
            num_workers = min(4, max(1, (os.cpu_count() or 2) - 1))
        self.num_workers = num_workers
        self.num_substituted = 0  # batches' images that were replaced because their file was unusable
        self._iter = None
        self._iter_epoch = -1

    def _loader(self) -> object:
        batches = [b.tolist() for b in self._order.remaining()]
        loader = DataLoader(
            _Decoded(self.dataset),
            batch_sampler=batches,
            num_workers=self.num_workers,
            collate_fn=_collate,
            pin_memory=self.device.type == "cuda",
            prefetch_factor=4 if self.num_workers else None,
        )
        return iter(loader)

    def next(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        self._order.ensure_epoch()
        if self._iter is None or self._iter_epoch != self._order.epoch:
            self._iter, self._iter_epoch = self._loader(), self._order.epoch
        images, labels, substituted = next(self._iter)
        _, mask = self._order.take()
        self.num_substituted += substituted
        x = to_model_range(images.to(self.device, non_blocking=True), mask)
        return x, (labels.to(self.device) if self.dataset.labels is not None else None)

    def state_dict(self) -> dict:
        return self._order.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self._order.load_state_dict(state)
        self._iter = None  # the workers' queue belongs to the old position


def make_sampler(
    data: Dataset,
    batch_size: int,
    device: torch.device | str,
    *,
    flip: bool = False,
    seed: int = 0,
    drop_last: bool = True,
    shard: tuple[int, int] = (0, 1),
) -> BatchSampler | StreamingBatchSampler:
    """The right sampler for what open_dataset returned (shard=(rank, world): this process's part of each step)."""
    if isinstance(data, FolderStream):
        return StreamingBatchSampler(data, batch_size, device, flip=flip, seed=seed, drop_last=drop_last, shard=shard)
    return BatchSampler(data, batch_size, device, flip=flip, seed=seed, drop_last=drop_last, shard=shard)
