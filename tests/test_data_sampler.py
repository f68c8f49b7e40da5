"""BatchSampler and StreamingBatchSampler: range, determinism, flips, epochs and exact resume."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import torch
from PIL import Image

from ganlab.data import (
    BatchSampler,
    FolderStream,
    ImageDataset,
    StreamingBatchSampler,
    make_sampler,
    open_dataset,
)


def _indexed(n: int, labelled: bool = True) -> ImageDataset:
    """Image i is filled with i (mod 256) and labelled i: batches reveal which indices they hold."""
    images = (torch.arange(n) % 256).to(torch.uint8).view(n, 1, 1, 1).expand(n, 1, 4, 4).contiguous()
    labels = torch.arange(n) if labelled else None
    names = tuple(map(str, range(n))) if labelled else ()
    return ImageDataset(images=images, labels=labels, class_names=names, name="idx")


def _take(sampler, k: int) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    return [sampler.next() for _ in range(k)]


def _same(a, b) -> bool:
    """Same images and same labels (or both unlabelled), batch by batch."""
    assert len(a) == len(b)
    for (xa, ya), (xb, yb) in zip(a, b, strict=True):
        if not torch.equal(xa, xb) or (ya is None) != (yb is None) or (ya is not None and not torch.equal(ya, yb)):
            return False
    return True


@pytest.fixture(scope="module")
def digits():
    return open_dataset("digits", size=8)


def test_batches_are_float_in_model_range_on_device(digits):
    x, y = BatchSampler(digits, 64, "cpu").next()
    assert x.shape == (64, 1, 8, 8) and x.dtype == torch.float32 and x.device.type == "cpu"
    assert y.shape == (64,) and y.dtype == torch.int64
    values = torch.cat([BatchSampler(digits, 256, "cpu", seed=s).next()[0] for s in range(3)])
    assert values.min() == -1.0 and values.max() == 1.0


def test_sampler_deterministic_given_seed(digits):
    a = _take(BatchSampler(digits, 100, "cpu", seed=7, flip=True), 40)  # > 2 epochs
    b = _take(BatchSampler(digits, 100, "cpu", seed=7, flip=True), 40)
    c = _take(BatchSampler(digits, 100, "cpu", seed=8, flip=True), 1)
    assert _same(a, b)
    assert not torch.equal(a[0][0], c[0][0])


def test_each_epoch_is_a_permutation_and_epoch_counts():
    sampler = BatchSampler(_indexed(10), 3, "cpu", drop_last=False)
    assert sampler.batches_per_epoch == 4
    for epoch in range(3):
        seen = torch.cat([sampler.next()[1] for _ in range(4)])
        assert sorted(seen.tolist()) == list(range(10))
        assert sampler.epoch == epoch


def test_drop_last_skips_the_short_batch():
    sampler = BatchSampler(_indexed(10), 3, "cpu", drop_last=True)
    assert sampler.batches_per_epoch == 3
    sizes = [len(sampler.next()[1]) for _ in range(7)]
    assert sizes == [3] * 7 and sampler.epoch == 2


def test_labels_none_for_unlabelled():
    _, y = BatchSampler(_indexed(8, labelled=False), 4, "cpu").next()
    assert y is None


def test_state_dict_roundtrip_gives_identical_next_batches(digits, tmp_path):
    sampler = BatchSampler(digits, 128, "cpu", seed=3, flip=True)
    _take(sampler, 17)  # mid-way through the second epoch
    torch.save(sampler.state_dict(), tmp_path / "s.pt")
    expected = _take(sampler, 20)  # crosses another epoch boundary
    restored = BatchSampler(digits, 128, "cpu", seed=999, flip=True)
    restored.load_state_dict(torch.load(tmp_path / "s.pt", weights_only=True))
    assert _same(expected, _take(restored, 20))
    assert restored.epoch == sampler.epoch


def test_load_state_dict_rejects_other_dataset_size(digits):
    state = BatchSampler(_indexed(50), 10, "cpu").state_dict()
    with pytest.raises(ValueError, match="num_images=50"):
        BatchSampler(digits, 10, "cpu").load_state_dict(state)


def test_flip_mirrors_some_images_horizontally():
    images = torch.zeros(32, 1, 4, 4, dtype=torch.uint8)
    images[:, :, :, 0] = 255  # a bright left column: flipped images have it on the right
    ds = ImageDataset(images=images, labels=None, class_names=(), name="edge")
    x, _ = BatchSampler(ds, 32, "cpu", flip=True, seed=0).next()
    left, right = x[:, 0, :, 0] == 1.0, x[:, 0, :, -1] == 1.0
    assert torch.all(left.all(1) ^ right.all(1))  # each image is either original or mirrored
    assert 4 < int(right.all(1).sum()) < 28
    plain, _ = BatchSampler(ds, 32, "cpu", flip=False).next()
    assert torch.all(plain[:, 0, :, 0] == 1.0)


def test_batch_larger_than_dataset_names_both():
    with pytest.raises(ValueError, match="batch_size=20 is larger than the dataset 'idx' \\(10 images\\)"):
        BatchSampler(_indexed(10), 20, "cpu")


# ---------------------------------------------------------------- streaming


def _folder(root: Path, n: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new("RGB", (12, 12), (i * 9 % 256, 255 - i * 9 % 256, 40)).save(root / f"{i:03d}.png")
    return root


def _stream(folder: Path, channels: int = 0) -> FolderStream:
    """The folder as a stream: a memory budget of one byte forces open_dataset to stream it."""
    stream = open_dataset("folder", size=8, channels=channels, path=str(folder), memory_budget=1)
    assert isinstance(stream, FolderStream)
    return stream


def test_streaming_matches_in_memory_batches(tmp_path):
    folder = _folder(tmp_path / "pics", 24)
    memory = BatchSampler(open_dataset("folder", size=8, path=str(folder)), 5, "cpu", seed=2, flip=True)
    stream = StreamingBatchSampler(_stream(folder), 5, "cpu", seed=2, flip=True, num_workers=0)
    assert _same(_take(memory, 12), _take(stream, 12))  # 12 batches > 2 epochs of 4
    assert stream.epoch == memory.epoch == 2


def test_streaming_with_worker_resumes_exactly(tmp_path):
    folder = _folder(tmp_path / "pics", 20)
    sampler = StreamingBatchSampler(_stream(folder), 4, "cpu", seed=1, num_workers=1)
    _take(sampler, 3)
    state = sampler.state_dict()
    expected = _take(sampler, 6)
    restored = StreamingBatchSampler(_stream(folder), 4, "cpu", seed=5, num_workers=0)
    restored.load_state_dict(state)
    assert _same(expected, _take(restored, 6))


def test_streaming_replaces_unusable_files(tmp_path):
    folder = _folder(tmp_path / "pics", 6)
    (folder / "broken.png").write_bytes(b"not a png")
    sampler = StreamingBatchSampler(_stream(folder), 7, "cpu", num_workers=0)
    x, y = sampler.next()
    assert x.shape == (7, 3, 8, 8) and y is None and sampler.num_substituted == 1


def test_streaming_labels_from_subfolders(tmp_path):
    _folder(tmp_path / "a", 3)
    _folder(tmp_path / "b", 3)
    stream = _stream(tmp_path, channels=1)
    assert stream.class_names == ("a", "b") and stream.num_classes == 2
    x, y = StreamingBatchSampler(stream, 6, "cpu", num_workers=0).next()
    assert x.shape == (6, 1, 8, 8) and sorted(y.tolist()) == [0, 0, 0, 1, 1, 1]


def test_open_dataset_streams_over_memory_budget(tmp_path):
    folder = _folder(tmp_path / "pics", 10)
    small = open_dataset("folder", size=8, path=str(folder))
    assert isinstance(small, ImageDataset) and isinstance(make_sampler(small, 4, "cpu"), BatchSampler)
    big = open_dataset("folder", size=8, path=str(folder), memory_budget=100)
    assert isinstance(big, FolderStream) and len(big) == 10
    sampler = make_sampler(big, 4, "cpu")
    assert isinstance(sampler, StreamingBatchSampler)


def test_open_dataset_passes_other_sources_through():
    ds = open_dataset("digits", size=8, memory_budget=1)
    assert isinstance(ds, ImageDataset) and len(ds) == 1797


def test_state_dict_survives_weights_only_load_for_streaming(tmp_path):
    folder = _folder(tmp_path / "pics", 8)
    sampler = StreamingBatchSampler(_stream(folder), 4, "cpu", num_workers=0)
    sampler.next()
    buf = io.BytesIO()
    torch.save(sampler.state_dict(), buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)
    assert state["position"] == 4 and state["epoch"] == 0
