"""MNIST and Fashion-MNIST: local IDX files first (Debian's dataset-fashion-mnist too), torchvision download second."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

from ganlab import paths
from ganlab.data.dataset import ImageDataset
from ganlab.data.pixels import finish, pick_indices
from ganlab.data.registry import DataRequest, downloads_allowed, register_dataset

FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
IDX_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

# System-wide copies installed by distribution packages; tests patch this to simulate their absence.
SYSTEM_DIRS: dict[str, list[Path]] = {
    "fashion-mnist": [Path("/usr/share/datasets/fashion-mnist")],
    "mnist": [Path("/usr/share/datasets/mnist")],
}
TORCHVISION_NAMES = {"mnist": "MNIST", "fashion-mnist": "FashionMNIST"}
HOW_TO_GET = {
    "fashion-mnist": "install Debian's copy with `sudo apt install dataset-fashion-mnist`, or download the 4 files "
    "from https://github.com/zalandoresearch/fashion-mnist",
    "mnist": "download the 4 files from https://ossci-datasets.s3.amazonaws.com/mnist/ (or any MNIST mirror)",
}


def read_idx(path: Path) -> np.ndarray:
    """Parse an IDX file (optionally .gz) of unsigned bytes into an array of its declared shape."""
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes")
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path} is truncated: header says {dims}, found {data.size} bytes of data")
    return data.reshape(dims)


def _candidate_dirs(name: str) -> list[Path]:
    user = paths.data_dir()
    return [
        user / name,
        user / name / "raw",
        user / "torchvision" / TORCHVISION_NAMES[name] / "raw",
        *SYSTEM_DIRS.get(name, []),
    ]


def _find_file(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    return None


def find_idx(name: str, split: str) -> tuple[Path, Path] | None:
    """The (images, labels) files for a split in the first folder that has both, else None."""
    prefix = "train" if split == "train" else "t10k"
    for folder in _candidate_dirs(name):
        images = _find_file(folder, f"{prefix}-images-idx3-ubyte")
        labels = _find_file(folder, f"{prefix}-labels-idx1-ubyte")
        if images and labels:
            return images, labels
    return None


def _download(name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    import torchvision  # deferred: only the online path needs it

    cls = getattr(torchvision.datasets, TORCHVISION_NAMES[name])
    ds = cls(root=str(paths.data_dir() / "torchvision"), train=split == "train", download=True)
    return ds.data.numpy(), ds.targets.numpy()


def _missing_message(name: str, reason: str) -> str:
    files = ", ".join(f"{f}.gz" for f in IDX_FILES)
    return (
        f"{name} is not on this machine ({reason}). To get it, {HOW_TO_GET[name]}, and put {files} "
        f"into {paths.data_dir() / name}/ (the app looks there first, then in "
        f"{', '.join(str(d) for d in SYSTEM_DIRS.get(name, []))})"
    )


def load_idx_dataset(name: str, req: DataRequest, class_names: tuple[str, ...]) -> ImageDataset:
    """Shared body of mnist and fashion-mnist: local IDX files, else a torchvision download."""
    split = req.subset or "train"
    found = find_idx(name, split)
    if found is not None:
        images, labels = read_idx(found[0]), read_idx(found[1])
    elif not downloads_allowed():
        raise ValueError(_missing_message(name, "downloads are off: GANLAB_OFFLINE or a test run"))
    else:
        try:
            images, labels = _download(name, split)
        except Exception as exc:  # no network, proxy, disk full: all end in the same advice
            raise ValueError(_missing_message(name, f"the download failed: {exc}")) from None
    if len(images) != len(labels):
        raise ValueError(f"{name} {split}: {len(images)} images but {len(labels)} labels")
    keep = pick_indices(len(labels), req.max_images)
    tensor = torch.from_numpy(np.ascontiguousarray(images[keep])).unsqueeze(1)  # (N, 1, 28, 28)
    req.report(len(keep), len(keep))
    return ImageDataset(
        images=finish(tensor, req.size, req.channels),
        labels=torch.from_numpy(labels[keep].astype(np.int64)),
        class_names=class_names,
        name=name if split == "train" else f"{name}-{split}",
    )


@register_dataset(
    "mnist",
    description="70,000 handwritten digits (28x28), 10 classes; local IDX files or a torchvision download",
    labelled=True,
    default_channels=1,
    subsets=("train", "test"),
    default_subset="train",
    order=10,
)
def load_mnist(req: DataRequest) -> ImageDataset:
    return load_idx_dataset("mnist", req, tuple(str(d) for d in range(10)))


@register_dataset(
    "fashion-mnist",
    description="70,000 clothing images (28x28), 10 classes; Debian's dataset-fashion-mnist works offline",
    labelled=True,
    default_channels=1,
    subsets=("train", "test"),
    default_subset="train",
    order=20,
)
def load_fashion_mnist(req: DataRequest) -> ImageDataset:
    return load_idx_dataset("fashion-mnist", req, FASHION_CLASSES)
