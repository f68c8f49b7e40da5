"""Datasets: a registry of image sources (uint8 N,C,H,W + optional labels), samplers and 2-D toys.

Image sources: digits (default, offline), mnist, fashion-mnist, cifar10, emoji, folder, zip.
toy2d is not an image source: it is loaded with load_toy2d() and listed by list_toy2d();
list_datasets() leaves it out so image selectboxes never offer it.
"""

from __future__ import annotations

from . import digits, emoji, folder, idx, toy2d, zipsafe  # noqa: F401  (importing registers the sources)
from .base import ImageDataset, dataset_info, list_datasets, load_dataset, register_dataset
from .emoji import find_emoji_font
from .folder import scan_folder
from .sampler import BatchSampler
from .stream import (
    FolderStream,
    StreamingBatchSampler,
    default_memory_budget,
    make_sampler,
    open_dataset,
    open_folder_stream,
)
from .toy2d import list_toy2d, load_toy2d, toy2d_descriptions
from .zipsafe import extract_zip

__all__ = [
    "BatchSampler",
    "FolderStream",
    "ImageDataset",
    "StreamingBatchSampler",
    "dataset_info",
    "default_memory_budget",
    "extract_zip",
    "find_emoji_font",
    "list_datasets",
    "list_toy2d",
    "load_dataset",
    "load_toy2d",
    "make_sampler",
    "open_dataset",
    "open_folder_stream",
    "register_dataset",
    "scan_folder",
    "toy2d_descriptions",
]
