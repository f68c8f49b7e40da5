"""Datasets: open_dataset(request) for every image source, resumable batch samplers, safe zip extraction.

Image sources (registered on import): digits (default, offline), mnist, fashion-mnist, cifar10, emoji, folder, zip.
"""

from ganlab.data import cifar, digits, emoji, folder, mnist  # noqa: F401  (importing registers the sources)
from ganlab.data.archive import extract_zip
from ganlab.data.dataset import Dataset, FolderStream, ImageDataset
from ganlab.data.emoji import find_emoji_font
from ganlab.data.folder import scan_folder
from ganlab.data.open import (
    Preview,
    default_memory_budget,
    open_dataset,
    preview_dataset,
)
from ganlab.data.registry import (
    DataRequest,
    dataset_info,
    list_datasets,
    register_dataset,
)
from ganlab.data.sampler import BatchSampler
from ganlab.data.stream import StreamingBatchSampler, make_sampler

__all__ = [
    "BatchSampler", "DataRequest", "Dataset", "FolderStream", "ImageDataset", "Preview", "StreamingBatchSampler",
    "dataset_info", "default_memory_budget", "extract_zip", "find_emoji_font", "list_datasets", "make_sampler",
    "open_dataset", "preview_dataset", "register_dataset", "scan_folder",
]
