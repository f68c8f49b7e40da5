"""Where a metric's real images come from: a dataset in memory, a bounded sample decoded from a folder stream,
or the held-out split of a built-in dataset (for `evaluate`); statistics go through the disk cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ganlab.data import DataRequest, Dataset, FolderStream, ImageDataset, open_dataset
from ganlab.data.decode import SkipImage, decode_image
from ganlab.data.registry import get_spec
from ganlab.metrics.cache import cached_file_stats, cached_real_stats
from ganlab.metrics.extractors import FeatureExtractor
from ganlab.metrics.stats import FeatureStats

STREAM_SAMPLE = 2000  # images decoded from a folder too big for memory (once; then cached on disk)


def decode_files(files: list[Path], size: int, channels: int, fit: str) -> Tensor:
    """uint8 (N, C, size, size) of the decodable files among `files` (unusable ones are left out)."""
    arrays = []
    for path in files:
        try:
            arrays.append(decode_image(path, size, channels, fit).transpose(2, 0, 1))  # (C, H, W)
        except SkipImage:
            continue
    if len(arrays) < 2:
        raise ValueError(f"only {len(arrays)} of {len(files)} sampled images could be decoded: "
                         f"a quality metric needs at least 2")
    return torch.from_numpy(np.ascontiguousarray(np.stack(arrays)))


def dataset_real_stats(
    extractor: FeatureExtractor, dataset: Dataset, *, max_count: int = 5000, seed: int = 0, split: str = ""
) -> FeatureStats:
    """Cached statistics of a training dataset: up to max_count images in memory, or STREAM_SAMPLE decoded files."""
    split = split or f"{dataset.name} (training images)"
    if isinstance(dataset, ImageDataset):
        return cached_real_stats(extractor, dataset.images, split, max_count=max_count, seed=seed)
    if isinstance(dataset, FolderStream):
        count = min(len(dataset), max_count, STREAM_SAMPLE)
        order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))[:count].sort().values
        files = [dataset.root / dataset.files[int(i)] for i in order]
        size, channels, fit = dataset.image_size, dataset.image_channels, dataset.fit
        return cached_file_stats(extractor, files, lambda fs: decode_files(fs, size, channels, fit), split,
                                 settings=f"{size}|{channels}|{fit}", seed=seed)
    raise ValueError(f"dataset {dataset.name!r} ({type(dataset).__name__}) holds no images a metric can read")


def evaluation_images(request: DataRequest) -> tuple[Tensor | Dataset, str]:
    """(real images or dataset, split label) to score a generator trained on `request`'s data against.

    Built-in sets with a test split (fashion-mnist, mnist, cifar10) use it: images the generator never saw.
    Others use the data as trained (a folder that does not fit in memory comes back as a stream).
    """
    spec = get_spec(request.name)
    if "test" in spec.subsets and request.subset in ("", "train", spec.default_subset):
        test = open_dataset(DataRequest(name=request.name, size=request.size, channels=request.channels,
                                        path=request.path, subset="test", fit=request.fit))
        return test.images if isinstance(test, ImageDataset) else test, f"{request.name} test split"
    data = open_dataset(request)
    label = f"{request.name} {request.subset}".strip() if request.subset else request.name
    return (data.images if isinstance(data, ImageDataset) else data), f"{label} (training images)"
