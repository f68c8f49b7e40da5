"""The one entry point: open_dataset(request) turns any dataset request into a Dataset (in memory or streamed)."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from ganlab.data.archive import extract_zip, extraction_notes
from ganlab.data.dataset import Dataset, ImageDataset
from ganlab.data.folder import load_scanned, scan_folder
from ganlab.data.pixels import pick_indices
from ganlab.data.registry import DataRequest, get_spec
from ganlab.data.stream import stream_scanned

FOLDER_SOURCES = ("folder", "zip")


def default_memory_budget() -> int:
    """Bytes of uint8 images a dataset may hold in RAM: $GANLAB_DATA_MEMORY_MB, else 40% of RAM (<= 8 GiB)."""
    env = os.environ.get("GANLAB_DATA_MEMORY_MB", "").strip()
    if env:
        return int(float(env) * 1024**2)
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        ram = 8 * 1024**3
    return int(min(8 * 1024**3, 0.4 * ram))


def open_dataset(request: DataRequest | str, /, **fields: Any) -> Dataset:
    """Open a dataset: `open_dataset(DataRequest(...))` or `open_dataset("digits", size=32, ...)`.

    A zip is hashed and extracted once, a folder scanned once; a folder (or zip) whose decoded images would
    exceed the memory budget comes back as a FolderStream decoded while training, everything else in memory.
    """
    req = request if isinstance(request, DataRequest) else DataRequest(request, **fields)
    spec = get_spec(req.name)
    req.check()
    req = req.resolved(spec)
    if req.name not in FOLDER_SOURCES:
        dataset = spec.loader(req) if req.crop >= 1 else _centre_cropped(spec.loader, req)
        _check_count(req, len(dataset))
        return dataset
    if not req.path:
        raise ValueError(f"no {'zip file' if req.name == 'zip' else 'folder'} given: set path to "
                         f"{'a .zip archive' if req.name == 'zip' else 'a folder'} of images")
    root = extract_zip(req.path) if req.name == "zip" else req.path
    name = Path(req.path).stem if req.name == "zip" else ""
    notes = extraction_notes(root) if req.name == "zip" else []
    scan = scan_folder(root)
    count = len(pick_indices(len(scan.files), req.max_images))
    if count * req.channels * req.size * req.size > (req.memory_budget or default_memory_budget()):
        stream = stream_scanned(scan, req.size, req.channels, req.fit, req.max_images, name, req.crop)
        if len(stream) < req.min_images:
            raise ValueError(f"only {len(stream)} image files in {str(scan.root)!r}, fewer than {req.min_images}")
        return stream
    return load_scanned(scan, req, name=name, notes=notes)


def _centre_cropped(loader: Any, req: DataRequest) -> ImageDataset:
    """A built-in source's images with only their centre kept: loaded at size/crop, then the middle size x size."""
    big = max(req.size, round(req.size / req.crop))
    dataset = loader(replace(req, size=big, crop=1.0))
    top = (big - req.size) // 2
    images = dataset.images[:, :, top : top + req.size, top : top + req.size].contiguous()  # (N, C, size, size)
    return replace(dataset, images=images)


def _check_count(req: DataRequest, count: int) -> None:
    if count < req.min_images:
        raise ValueError(f"dataset {req.name!r} has only {count} usable images, fewer than the {req.min_images} needed")


@dataclass(frozen=True, eq=False)
class Preview:
    """The first images of a dataset for the Train page, with how many it holds and what was skipped."""

    images: torch.Tensor  # uint8 (N, C, H, W), at most `shown`
    count: int  # image files (folders) or images (everything else)
    class_names: tuple[str, ...]
    skipped: tuple[str, ...]


def preview_dataset(req: DataRequest, shown: int = 64) -> Preview:
    """A few evenly spaced images; a folder is scanned once and only the shown files are decoded."""
    spec = get_spec(req.name)
    req.check()
    req = req.resolved(spec)
    if req.name in FOLDER_SOURCES and req.path:
        scan = scan_folder(extract_zip(req.path) if req.name == "zip" else req.path)
        dataset = load_scanned(scan, replace(req, max_images=shown, min_images=1))
        count = len(scan.files)
    else:
        dataset = open_dataset(replace(req, min_images=1))
        count = len(dataset)
    images = dataset.images[torch.from_numpy(pick_indices(len(dataset), shown))]
    extra = dataset.num_skipped - len(dataset.skipped)
    skipped = tuple(dataset.skipped) + ((f"… {extra} more",) if extra > 0 else ())
    return Preview(images, count, tuple(dataset.class_names), skipped)
