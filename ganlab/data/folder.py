"""Any folder of images: recursive scan, optional class labels from subfolders, cached preprocessing."""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ganlab import paths
from ganlab.data.budget import budget_bytes, evict, touch
from ganlab.data.dataset import ImageDataset, Progress
from ganlab.data.decode import IMAGE_EXTENSIONS, SkipImage, decode_image
from ganlab.data.pixels import pick_indices
from ganlab.data.registry import DataRequest, register_dataset
from ganlab.files import write_cache

CACHE_VERSION = 1  # bump when decoding changes, so old caches are not reused
SPLIT_NAMES = frozenset({"train", "training", "test", "testing", "val", "valid", "validation"})
JUNK_DIRS = frozenset({"__MACOSX", "__pycache__"})
MAX_LISTED_SKIPS = 20


@dataclass(frozen=True)
class FolderScan:
    """The image files under a root (relative POSIX paths, sorted) with their labels if any."""

    root: Path
    files: tuple[str, ...]
    stats: tuple[tuple[int, int], ...]  # (size in bytes, mtime in ns) per file: the cache fingerprint
    labels: tuple[int, ...] | None
    class_names: tuple[str, ...]
    other_files: tuple[str, ...]  # a few non-image files, named when nothing usable is found

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for rel, (nbytes, mtime) in zip(self.files, self.stats, strict=True):
            h.update(f"{rel}\0{nbytes}\0{mtime}\n".encode())
        return h.hexdigest()


def check_folder(path: str | Path) -> Path:
    """The resolved folder, or a ValueError saying what is wrong with the path."""
    if not str(path).strip():
        raise ValueError("no folder given: set path to a folder of images")
    root = Path(path).expanduser()
    if not root.exists():
        raise ValueError(f"folder {str(root)!r} does not exist")
    if not root.is_dir():
        hint = " (for a .zip archive use the 'zip' dataset)" if root.suffix.lower() == ".zip" else ""
        raise ValueError(f"{str(root)!r} is a file, not a folder of images{hint}")
    return root.resolve()


def _walk(root: Path) -> tuple[list[tuple[str, int, int]], list[str]]:
    images, others = [], []
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue  # an unreadable subfolder costs its files, not the dataset
        for entry in entries:
            if entry.name.startswith("."):
                continue  # hidden files, macOS "._x.jpg" resource forks
            try:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name not in JUNK_DIRS:
                        stack.append(Path(entry.path))
                    continue
            except OSError:
                continue
            rel = Path(entry.path).relative_to(root).as_posix()
            if Path(entry.name).suffix.lower() in IMAGE_EXTENSIONS:
                try:
                    st = entry.stat()
                    images.append((rel, st.st_size, st.st_mtime_ns))
                except OSError:  # dangling link, vanished file: listed, so decoding reports why
                    images.append((rel, -1, 0))
            elif len(others) < 5:
                others.append(rel)
    images.sort()
    return images, others


def infer_labels(files: list[str] | tuple[str, ...]) -> tuple[tuple[int, ...] | None, tuple[str, ...]]:
    """Class per file from its subfolder when there are >= 2 classes and no loose top-level files."""
    parts = [f.split("/") for f in files]
    # A single wrapping folder ("simpsons_dataset/<character>/...") is not a class level.
    while parts and all(len(p) > 1 for p in parts) and len({p[0] for p in parts}) == 1:
        parts = [p[1:] for p in parts]
    if not parts or any(len(p) < 2 for p in parts):
        return None, ()
    level = 0
    # "train/<class>/..." and "test/<class>/...": the class is the level below the split.
    if {p[0].lower() for p in parts} <= SPLIT_NAMES and all(len(p) >= 3 for p in parts):
        level = 1
    names = sorted({p[level] for p in parts})
    if len(names) < 2:
        return None, ()
    index = {n: i for i, n in enumerate(names)}
    return tuple(index[p[level]] for p in parts), tuple(names)


def scan_folder(path: str | Path) -> FolderScan:
    """List the image files under `path` (recursive, hidden files skipped) and infer labels."""
    root = check_folder(path)
    found, others = _walk(root)
    files = tuple(f for f, _, _ in found)
    labels, class_names = infer_labels(files)
    return FolderScan(root, files, tuple((s, m) for _, s, m in found), labels, class_names, tuple(others))


def no_images_message(scan: FolderScan) -> str:
    exts = ", ".join(sorted(IMAGE_EXTENSIONS))
    msg = f"no image files in {str(scan.root)!r} (looked recursively for {exts})"
    if scan.other_files:
        msg += f"; found other files such as {', '.join(scan.other_files[:3])}"
    return msg


def _cache_paths(scan: FolderScan, size: int, channels: int, fit: str, max_images: int,
                 crop: float = 1.0) -> tuple[Path, Path]:
    # The crop joins the key only when set, so caches written before it existed stay valid.
    key = json.dumps([CACHE_VERSION, str(scan.root), size, channels, fit, max_images] + ([crop] if crop < 1 else []))
    stem = hashlib.sha1(key.encode()).hexdigest()[:20]  # one entry per folder+settings; refreshed in place
    folder = paths.cache_dir() / "folders"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{stem}.npy", folder / f"{stem}.json"


def _read_cache(npy: Path, meta_path: Path, fingerprint: str) -> tuple[np.ndarray, dict] | None:
    try:
        meta = json.loads(meta_path.read_text())
        if meta.get("fingerprint") != fingerprint:
            return None
        touch(meta_path)  # its last use: eviction goes by it
        return np.load(npy), meta
    except (OSError, ValueError):
        return None  # missing or damaged cache: decode again


def _write_cache(npy: Path, meta_path: Path, images: np.ndarray, meta: dict) -> None:
    # The meta file is written last: a meta file means the images are complete.
    if write_cache(npy, lambda fh: np.save(fh, images)):
        write_cache(meta_path, lambda fh: fh.write(json.dumps(meta).encode()))
    folder = npy.parent
    evict(([p, p.with_suffix(".json")] for p in folder.glob("*.npy")), budget_bytes(), keep=[npy])


def decode_files(
    root: Path, files: list[str], size: int, channels: int, fit: str, progress: Progress | None = None,
    crop: float = 1.0,
) -> tuple[np.ndarray, list[int], list[str]]:
    """Decode in threads (Pillow releases the GIL): (N_ok, C, H, W) uint8, ok indices, skip lines."""
    out = np.empty((len(files), channels, size, size), dtype=np.uint8)
    ok: list[int] = []
    skipped: list[str] = []

    def one(i: int) -> tuple[int, str | None]:
        try:
            out[i] = decode_image(root / files[i], size, channels, fit, crop=crop).transpose(2, 0, 1)
            return i, None
        except SkipImage as exc:
            return i, f"{files[i]}: {exc}"

    workers = max(1, min(8, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))
    step = max(1, len(files) // 100)
    with ThreadPoolExecutor(workers) as pool:
        for done, (i, reason) in enumerate(pool.map(one, range(len(files))), 1):
            if reason is None:
                ok.append(i)
            else:
                skipped.append(reason)
            if progress is not None and (done % step == 0 or done == len(files)):
                progress(done, len(files))
    return (out if len(ok) == len(files) else out[ok]), ok, skipped


def load_scanned(scan: FolderScan, req: DataRequest, name: str = "", notes: list[str] | None = None) -> ImageDataset:
    """Decode every usable image of a scanned folder; a second load with the same settings hits the cache.

    notes: 'file: reason' lines for files left out before decoding (e.g. zip members that could not be extracted).
    """
    fit = req.fit
    if not scan.files:
        raise ValueError(no_images_message(scan))
    name = name or scan.root.name
    npy, meta_path = _cache_paths(scan, req.size, req.channels, fit, req.max_images, req.crop)
    fingerprint = scan.fingerprint()
    cached = _read_cache(npy, meta_path, fingerprint)
    if cached is not None:
        images, meta = cached
        req.report(len(images), len(images))
    else:
        keep = pick_indices(len(scan.files), req.max_images)
        files = [scan.files[i] for i in keep]
        images, ok, skipped = decode_files(scan.root, files, req.size, req.channels, fit, req.progress, req.crop)
        labels, class_names = infer_labels([files[i] for i in ok]) if scan.labels is not None else (None, ())
        meta = {
            "fingerprint": fingerprint,
            "labels": list(labels) if labels is not None else None,
            "class_names": list(class_names),
            "skipped": skipped[:MAX_LISTED_SKIPS],
            "num_skipped": len(skipped),
            "num_files": len(files),
        }
        if len(images):
            _write_cache(npy, meta_path, images, meta)
    _check_enough(scan.root, len(images), meta, req.min_images)
    labels = meta["labels"]
    notes = list(notes or [])
    return ImageDataset(
        images=torch.from_numpy(np.ascontiguousarray(images)),
        labels=torch.tensor(labels, dtype=torch.int64) if labels is not None else None,
        class_names=tuple(meta["class_names"]),
        name=name,
        skipped=tuple(notes + meta["skipped"])[:MAX_LISTED_SKIPS],
        num_skipped=int(meta["num_skipped"]) + len(notes),
    )


def _check_enough(root: Path, usable: int, meta: dict, min_images: int) -> None:
    if usable >= max(1, min_images):
        return
    first = "; ".join(meta["skipped"][:5])
    skipped = f"{meta['num_skipped']} of {meta['num_files']} image files were skipped (first: {first})"
    if usable == 0:
        raise ValueError(f"no usable images in {str(root)!r}: {skipped}")
    raise ValueError(
        f"only {usable} usable images in {str(root)!r}, fewer than the {min_images} needed (one batch); {skipped}"
    )


@register_dataset(
    "folder",
    description="Any folder of images (jpg, png, webp, bmp, gif, tif), searched recursively; "
    "two or more subfolders become class labels",
    labelled=False,
    default_channels=3,
    needs_path=True,
    order=50,
)
def load_folder_dataset(req: DataRequest) -> ImageDataset:
    return load_scanned(scan_folder(req.path), req)
