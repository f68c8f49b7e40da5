"""CIFAR-10 through torchvision: a one-time download, or a tarball put in the data folder by hand (offline)."""

from __future__ import annotations

import numpy as np
import torch

from ganlab import paths
from ganlab.data.dataset import ImageDataset
from ganlab.data.pixels import finish, pick_indices
from ganlab.data.registry import DataRequest, downloads_allowed, register_dataset

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


@register_dataset(
    "cifar10",
    description="60,000 small colour photos (32x32), 10 classes; needs a one-time 170 MB download",
    labelled=True,
    default_channels=3,
    subsets=("train", "test"),
    default_subset="train",
    order=30,
)
def load_cifar10(req: DataRequest) -> ImageDataset:
    """CIFAR-10 through torchvision; a tarball placed in the folder by hand also works offline."""
    root = paths.data_dir() / "torchvision"
    extracted = (root / "cifar-10-batches-py").is_dir()
    tarball = (root / "cifar-10-python.tar.gz").is_file()
    if not (extracted or tarball or downloads_allowed()):
        raise ValueError(
            "cifar10 is not on this machine and downloads are off (GANLAB_OFFLINE or a test run). "
            f"Allow downloads, or put cifar-10-python.tar.gz (from https://www.cs.toronto.edu/~kriz/cifar.html) "
            f"into {root}/"
        )
    try:
        import torchvision

        # download=True only fetches when the verified tarball is not already in root.
        ds = torchvision.datasets.CIFAR10(root=str(root), train=req.subset != "test", download=not extracted)
    except Exception as exc:
        raise ValueError(
            f"cifar10 could not be loaded ({exc}). Check the internet connection, or put "
            f"cifar-10-python.tar.gz (from https://www.cs.toronto.edu/~kriz/cifar.html) into {root}/"
        ) from None
    keep = pick_indices(len(ds.targets), req.max_images)
    images = torch.from_numpy(np.ascontiguousarray(ds.data[keep])).permute(0, 3, 1, 2)  # (N,32,32,3) -> NCHW
    req.report(len(keep), len(keep))
    return ImageDataset(
        images=finish(images.contiguous(), req.size, req.channels),
        labels=torch.tensor(np.asarray(ds.targets)[keep], dtype=torch.int64),
        class_names=CIFAR10_CLASSES,
        name="cifar10" if req.subset != "test" else "cifar10-test",
    )
