"""Registry, request validation, tensor helpers and the digits source."""

from __future__ import annotations

import pytest
import torch

from ganlab.data import ImageDataset, dataset_info, list_datasets, open_dataset
from ganlab.data.pixels import convert_channels, pick_indices, resize_uint8

IMAGE_SOURCES = ("digits", "mnist", "fashion-mnist", "cifar10", "emoji", "folder", "zip")


def test_list_datasets_has_every_image_source_with_digits_first():
    names = list_datasets()
    assert names[0] == "digits"
    assert set(IMAGE_SOURCES) <= set(names)
    assert "toy2d" not in names  # not an image set: it has its own loader


def test_load_dataset_rejects_unknown_name_listing_known_ones():
    with pytest.raises(ValueError, match="unknown dataset 'nope'") as err:
        open_dataset("nope", size=32)
    for name in IMAGE_SOURCES:
        assert name in str(err.value)


def test_load_dataset_rejects_toy2d_pointing_to_load_toy2d():
    with pytest.raises(ValueError, match="load_toy2d"):
        open_dataset("toy2d", size=32)


@pytest.mark.parametrize("name", IMAGE_SOURCES)
def test_dataset_info_has_ui_fields(name):
    info = dataset_info(name)
    assert info["name"] == name
    assert set(info) >= {"name", "description", "labelled", "default_channels", "needs_path", "subsets"}
    assert info["default_channels"] in (1, 3)
    assert isinstance(info["subsets"], list)
    assert info["needs_path"] == (name in ("folder", "zip"))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"size": 1}, "size=1"),
        ({"size": 5000}, "size=5000"),
        ({"size": 32, "channels": 2}, "channels=2"),
        ({"size": 32, "max_images": -1}, "max_images=-1"),
    ],
)
def test_load_dataset_rejects_bad_request(kwargs, message):
    with pytest.raises(ValueError, match=message):
        open_dataset("digits", **kwargs)


def test_load_dataset_rejects_unknown_subset():
    with pytest.raises(ValueError, match="subset='weird'.*train, test"):
        open_dataset("fashion-mnist", size=28, subset="weird")


@pytest.mark.parametrize("size", [8, 28, 32, 64])
def test_digits_shapes(size):
    ds = open_dataset("digits", size=size)
    assert isinstance(ds, ImageDataset)
    assert ds.images.shape == (1797, 1, size, size)
    assert ds.images.dtype == torch.uint8 and ds.images.is_contiguous()
    assert ds.labels is not None and ds.labels.dtype == torch.int64 and ds.labels.shape == (1797,)
    assert ds.class_names == tuple("0123456789") and ds.num_classes == 10 and ds.channels == 1
    assert set(ds.labels.tolist()) == set(range(10))


def test_digits_are_white_ink_on_black_using_full_range():
    ds = open_dataset("digits", size=8)
    assert ds.images.max() == 255 and ds.images.min() == 0
    corners = ds.images[:, 0, [0, 0, -1, -1], [0, -1, 0, -1]].float().mean()
    assert corners < 30  # background is dark


def test_digits_rgb_repeats_the_grey_channel():
    ds = open_dataset("digits", size=16, channels=3)
    assert ds.images.shape == (1797, 3, 16, 16) and ds.channels == 3
    assert torch.equal(ds.images[:, 0], ds.images[:, 1]) and torch.equal(ds.images[:, 1], ds.images[:, 2])


def test_digits_max_images_keeps_every_class():
    ds = open_dataset("digits", size=8, max_images=100)
    assert len(ds) == 100
    assert set(ds.labels.tolist()) == set(range(10))


def test_digits_loads_whole_at_32px():
    # Load speed is measured by python -m ganlab.bench.folder_load (README), never asserted against a clock.
    ds = open_dataset("digits", size=32)
    assert ds.images.shape == (1797, 1, 32, 32) and ds.images.dtype == torch.uint8


def test_digits_progress_reports_completion():
    calls = []
    open_dataset("digits", size=8, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1] == 1797


def test_min_images_refuses_too_small_dataset():
    with pytest.raises(ValueError, match="only 10 usable images.*100"):
        open_dataset("digits", size=8, max_images=10, min_images=100)


def test_convert_channels_rgb_to_grey_uses_luma_weights():
    rgb = torch.zeros(1, 3, 2, 2, dtype=torch.uint8)
    rgb[:, 1] = 255  # pure green
    grey = convert_channels(rgb, 1)
    assert grey.shape == (1, 1, 2, 2)
    assert int(grey[0, 0, 0, 0]) == round(0.587 * 255)


def test_resize_uint8_keeps_constant_images_constant():
    x = torch.full((3, 1, 8, 8), 77, dtype=torch.uint8)
    for size in (4, 8, 32):
        y = resize_uint8(x, size)
        assert y.shape == (3, 1, size, size) and y.dtype == torch.uint8
        assert torch.all(y == 77)


def test_pick_indices_even_spread_and_all():
    assert pick_indices(10, 0).tolist() == list(range(10))
    picked = pick_indices(100, 5).tolist()
    assert picked[0] == 0 and picked[-1] == 99 and len(set(picked)) == 5


def test_image_dataset_rejects_float_images():
    with pytest.raises(ValueError, match="uint8"):
        ImageDataset(images=torch.zeros(2, 1, 4, 4), labels=None, class_names=(), name="x")
