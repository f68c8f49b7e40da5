"""The default dataset: scikit-learn's bundled 8x8 handwritten digits, upscaled (no download)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch

from ganlab.data.dataset import ImageDataset
from ganlab.data.pixels import finish, pick_indices
from ganlab.data.registry import DataRequest, register_dataset


def _digits_array() -> np.ndarray:
    """(1797, 65) float: 64 pixels (ink 0..16) + the label, read from the CSV scikit-learn ships."""
    spec = importlib.util.find_spec("sklearn")
    if spec is not None and spec.submodule_search_locations:
        csv = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
        if csv.is_file():
            # Reading the file directly skips importing scikit-learn (about half a second).
            return np.loadtxt(csv, delimiter=",", dtype=np.float32)
    from sklearn.datasets import (
        load_digits,  # fallback if the package layout ever changes
    )

    bunch = load_digits()
    return np.concatenate([bunch.data, bunch.target[:, None]], 1).astype(np.float32)


@register_dataset(
    "digits",
    description="1,797 handwritten digits (8x8, upscaled) bundled with scikit-learn; works offline",
    labelled=True,
    default_channels=1,
    order=0,
)
def load_digits_dataset(req: DataRequest) -> ImageDataset:
    """Digits as white ink on black (like MNIST), 10 classes."""
    table = _digits_array()
    keep = pick_indices(len(table), req.max_images)
    # Pixel values are ink counts 0..16; scale to the full uint8 range.
    pixels = np.rint(table[keep, :64] * (255.0 / 16.0)).astype(np.uint8).reshape(-1, 1, 8, 8)
    req.report(len(keep), len(keep))
    return ImageDataset(
        images=finish(torch.from_numpy(pixels), req.size, req.channels),
        labels=torch.from_numpy(table[keep, 64].astype(np.int64)),
        class_names=tuple(str(d) for d in range(10)),
        name="digits",
    )
