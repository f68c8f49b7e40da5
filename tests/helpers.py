"""Small builders shared by the core tests: synthetic datasets and tiny configs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import torch

from ganlab.config import TrainConfig
from ganlab.data import ImageDataset

if TYPE_CHECKING:
    pass

# Optional system packages: tests that need one skip with this reason when it is absent (CI installs them all).
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")  # Debian/Ubuntu package dataset-fashion-mnist
NO_FASHION = "Debian's dataset-fashion-mnist is not installed (apt install dataset-fashion-mnist)"
NO_EMOJI_FONT = "no colour emoji font (apt install fonts-noto-color-emoji)"


def have_fashion(folder: Path = DEBIAN_FASHION) -> bool:
    """Whether the Fashion-MNIST IDX files (train and t10k) are in folder."""
    return all((folder / f"{split}-images-idx3-ubyte.gz").is_file() for split in ("train", "t10k"))


def skip_without_fashion(folder: Path = DEBIAN_FASHION) -> None:
    """Skip the calling test (or fixture) with the reason when Fashion-MNIST is not installed."""
    if not have_fashion(folder):
        pytest.skip(NO_FASHION)


def blobs_dataset(n: int = 96, size: int = 16, channels: int = 1, classes: int = 3, seed: int = 0) -> ImageDataset:
    """Labelled images of bright squares whose position depends on the class: learnable, tiny, offline."""
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 40, (n, channels, size, size), generator=gen, dtype=torch.uint8)
    labels = torch.arange(n) % classes
    step = size // classes
    for i in range(n):
        c = int(labels[i])
        images[i, :, c * step:(c + 1) * step, :] = 220
    return ImageDataset(images=images, labels=labels, class_names=tuple(f"c{i}" for i in range(classes)), name="blobs")


def tiny_config(**changes) -> TrainConfig:
    """A config that trains in well under a second per few steps on CPU, in fp32 for exactness."""
    base = dict(dataset="digits", img_size=16, g_channels=8, d_channels=8, z_dim=16, batch_size=16, max_steps=8,
                log_every=1, sample_every=4, checkpoint_every=4, num_samples=16, device="cpu", precision="fp32",
                threads=1, quality_every=0)
    base.update(changes)
    return TrainConfig(**base)


def open_page(page: str, timeout: float = 90):  # -> streamlit.testing.v1.AppTest (imported lazily: core tests skip it)
    """AppTest of one page as the app serves it: app.py is the entry point, `page` (e.g. "pages/2_Runs.py") runs."""
    from streamlit.testing.v1 import AppTest

    app = Path(__file__).resolve().parent.parent / "app.py"
    return AppTest.from_file(str(app), default_timeout=timeout).switch_page(page)


def record_state(run, state: str, **fields) -> None:
    """Write a run's status as its lifecycle owner would (take the lock, record, give it back)."""
    from ganlab.runs import RunRecorder, RunState

    recorder = RunRecorder.attach(run, queue=False)
    try:
        recorder.record(RunState(state), **fields)
    finally:
        recorder.release()
