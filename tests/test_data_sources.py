"""MNIST-family IDX files, CIFAR-10's offline message and rendered emoji."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from ganlab import paths
from ganlab.data import find_emoji_font, open_dataset
from ganlab.data import mnist as idx_mod
from ganlab.data.mnist import FASHION_CLASSES, read_idx
from tests.helpers import NO_EMOJI_FONT, NO_FASHION, have_fashion

HAVE_FASHION = have_fashion()
EMOJI_FONT = find_emoji_font()


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def _make_mnist_copy(folder: Path, n: int = 30) -> np.ndarray:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = np.arange(n) % 10
    for prefix in ("train", "t10k"):
        _write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        _write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return images


def test_read_idx_roundtrip(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "x.gz", array)
    assert np.array_equal(read_idx(tmp_path / "x.gz"), array)


def test_read_idx_rejects_truncated_file(tmp_path):
    header = bytes([0, 0, 8, 1]) + (100).to_bytes(4, "big")
    (tmp_path / "bad").write_bytes(header + b"\x00" * 10)
    with pytest.raises(ValueError, match="truncated"):
        read_idx(tmp_path / "bad")


def test_mnist_reads_idx_files_from_user_data_dir():
    images = _make_mnist_copy(paths.data_dir() / "mnist")
    ds = open_dataset("mnist", size=28)
    assert ds.images.shape == (30, 1, 28, 28) and ds.num_classes == 10
    assert np.array_equal(ds.images[:, 0].numpy(), images)
    assert ds.labels.tolist() == [i % 10 for i in range(30)]


def test_mnist_missing_message_says_where_to_put_files(monkeypatch):
    monkeypatch.setitem(idx_mod.SYSTEM_DIRS, "mnist", [])
    with pytest.raises(ValueError) as err:
        open_dataset("mnist", size=28)
    message = str(err.value)
    assert "train-images-idx3-ubyte.gz" in message and str(paths.data_dir() / "mnist") in message


def test_fashion_mnist_missing_message_names_debian_package(monkeypatch, tmp_path):
    monkeypatch.setitem(idx_mod.SYSTEM_DIRS, "fashion-mnist", [tmp_path / "absent"])
    with pytest.raises(ValueError, match="apt install dataset-fashion-mnist"):
        open_dataset("fashion-mnist", size=28)


def test_cifar10_offline_gives_clear_message():
    with pytest.raises(ValueError, match="cifar10 is not on this machine.*cifar-10-python.tar.gz"):
        open_dataset("cifar10", size=32)


@pytest.mark.skipif(not HAVE_FASHION, reason=NO_FASHION)
def test_fashion_mnist_loads_debian_copy_whole():
    # How fast it loads is a measurement (python -m ganlab.bench.folder_load, README), not a timed assert here.
    ds = open_dataset("fashion-mnist", size=28)
    assert ds.images.shape == (60000, 1, 28, 28) and ds.images.dtype == torch.uint8
    assert ds.class_names == FASHION_CLASSES and ds.class_names[9] == "Ankle boot"
    assert torch.bincount(ds.labels).tolist() == [6000] * 10


@pytest.mark.skipif(not HAVE_FASHION, reason=NO_FASHION)
def test_fashion_mnist_test_subset_resized_rgb():
    ds = open_dataset("fashion-mnist", size=16, channels=3, subset="test", max_images=500)
    assert ds.images.shape == (500, 3, 16, 16)
    assert set(ds.labels.tolist()) == set(range(10))


@pytest.mark.skipif(EMOJI_FONT is None, reason=NO_EMOJI_FONT)
def test_emoji_faces_render_colourful_rgb():
    ds = open_dataset("emoji", size=32, max_images=40)
    assert ds.images.shape == (40, 3, 32, 32) and ds.labels is None and ds.num_classes == 0
    corners = ds.images[:, :, 0, 0]
    assert torch.all(corners == 255)  # white background by default
    spread = (ds.images[:, 0].float() - ds.images[:, 2].float()).abs().mean()
    assert spread > 10  # yellow faces: red and blue differ, so this is colour, not grey


@pytest.mark.skipif(EMOJI_FONT is None, reason=NO_EMOJI_FONT)
def test_emoji_background_colour_and_cache_hit(monkeypatch):
    first = open_dataset("emoji", size=16, subset="faces:black", max_images=10)
    assert torch.all(first.images[:, :, 0, 0] == 0)
    from ganlab.data import emoji as emoji_mod

    monkeypatch.setattr(emoji_mod, "render_rgba", lambda *a: pytest.fail("cache should be used"))
    second = open_dataset("emoji", size=16, subset="faces:black", max_images=10)
    assert torch.equal(first.images, second.images)


@pytest.mark.skipif(EMOJI_FONT is None, reason=NO_EMOJI_FONT)
def test_emoji_greyscale_request_gives_one_channel():
    ds = open_dataset("emoji", size=16, channels=1, max_images=5)
    assert ds.images.shape == (5, 1, 16, 16)


def test_emoji_rejects_bad_background():
    with pytest.raises(ValueError, match="background 'notacolour'"):
        open_dataset("emoji", size=16, subset="faces:notacolour")


def test_emoji_missing_font_override_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("GANLAB_EMOJI_FONT", str(tmp_path / "none.ttf"))
    with pytest.raises(ValueError, match="none.ttf.*does not exist"):
        open_dataset("emoji", size=16)


def test_emoji_no_font_message_names_package(monkeypatch):
    from ganlab.data import emoji as emoji_mod

    monkeypatch.setattr(emoji_mod, "find_emoji_font", lambda path="": None)
    with pytest.raises(ValueError, match="fonts-noto-color-emoji"):
        open_dataset("emoji", size=16)
