"""Small builders shared by the core tests: synthetic datasets and tiny configs."""

from __future__ import annotations

import torch

from ganlab.config import TrainConfig
from ganlab.data import ImageDataset


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
    from pathlib import Path

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
