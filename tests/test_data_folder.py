"""Folder datasets: labels from subfolders, on-disk cache, and every kind of bad file."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganlab.data import folder as folder_mod
from ganlab.data import open_dataset, scan_folder
from ganlab.data.decode import SkipImage, decode_image


def _solid(path: Path, colour, size=(24, 24), mode="RGB", fmt=None, **save) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, colour).save(path, fmt, **save)
    return path


def _good_images(folder: Path, n: int, prefix: str = "img") -> list[Path]:
    return [_solid(folder / f"{prefix}{i:03d}.png", (i * 20 % 256, 100, 200)) for i in range(n)]


def _tree(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*")}


def _png_header_only(path: Path, width: int, height: int) -> None:
    """A tiny PNG that declares huge dimensions: the shape of a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)


def test_folder_loads_unlabelled_images(tmp_path):
    _good_images(tmp_path / "pics", 6)
    ds = open_dataset("folder", size=16, path=str(tmp_path / "pics"))
    assert ds.images.shape == (6, 3, 16, 16) and ds.labels is None and ds.class_names == ()
    assert ds.name == "pics" and ds.num_skipped == 0
    assert ds.images[0, :, 8, 8].tolist() == [0, 100, 200]


def test_folder_subfolders_become_labels(tmp_path):
    _good_images(tmp_path / "cats", 3, "c")
    _good_images(tmp_path / "dogs" / "deep", 2, "d")  # nested deeper still counts for its top folder
    ds = open_dataset("folder", size=8, channels=1, path=str(tmp_path))
    assert ds.class_names == ("cats", "dogs") and ds.num_classes == 2
    assert ds.images.shape == (5, 1, 8, 8)
    assert sorted(ds.labels.tolist()) == [0, 0, 0, 1, 1]


@pytest.mark.parametrize(
    "layout, classes",
    [
        (["wrap/a/x.png", "wrap/b/y.png"], ("a", "b")),  # single wrapping folder is skipped
        (["train/a/x.png", "train/b/y.png", "test/a/z.png"], ("a", "b")),  # split folders
        (["only/x.png", "only/y.png"], ()),  # one subfolder: no labels
        (["loose.png", "a/x.png", "b/y.png"], ()),  # loose top-level files: no labels
    ],
)
def test_folder_label_inference(tmp_path, layout, classes):
    for rel in layout:
        _solid(tmp_path / rel, (10, 20, 30))
    scan = scan_folder(tmp_path)
    assert scan.class_names == classes
    assert (scan.labels is None) == (classes == ())


def test_folder_second_load_hits_cache(tmp_path, monkeypatch):
    _good_images(tmp_path / "pics", 5)
    first = open_dataset("folder", size=16, path=str(tmp_path / "pics"))
    monkeypatch.setattr(folder_mod, "decode_image", lambda *a, **k: pytest.fail("cache should be used"))
    second = open_dataset("folder", size=16, path=str(tmp_path / "pics"))
    assert torch.equal(first.images, second.images)


def test_folder_cache_invalidated_by_new_file_and_other_size(tmp_path):
    pics = _good_images(tmp_path / "pics", 4)
    assert len(open_dataset("folder", size=16, path=str(tmp_path / "pics"))) == 4
    _solid(pics[0].parent / "new.png", (1, 2, 3))
    assert len(open_dataset("folder", size=16, path=str(tmp_path / "pics"))) == 5
    assert open_dataset("folder", size=8, path=str(tmp_path / "pics")).images.shape[-1] == 8


def test_folder_progress_reaches_total(tmp_path):
    _good_images(tmp_path, 7)
    calls = []
    open_dataset("folder", size=8, path=str(tmp_path), progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (7, 7)


def test_folder_pad_keeps_whole_image(tmp_path):
    im = Image.new("RGB", (40, 20), (255, 0, 0))
    im.paste((0, 0, 255), (0, 0, 4, 20))  # a blue strip on the far left: crop removes it, pad keeps it
    im.save(tmp_path / "wide.png")
    cropped = open_dataset("folder", size=20, path=str(tmp_path), fit="crop")
    padded = open_dataset("folder", size=20, path=str(tmp_path), fit="pad")
    assert cropped.images[0, 2].max() < 50
    assert padded.images[0, 2, 10, 0] > 150


def test_folder_rejects_unknown_fit(tmp_path):
    _good_images(tmp_path, 2)
    with pytest.raises(ValueError, match="fit='stretch'"):
        open_dataset("folder", size=8, path=str(tmp_path), fit="stretch")


@pytest.mark.parametrize(
    "setup, message",
    [
        (lambda p: p, "does not exist"),
        (lambda p: (_solid(p.with_suffix(".png"), (0, 0, 0)),)[0], "is a file, not a folder"),
        (lambda p: (p.mkdir(), p)[1], "no image files"),
        (lambda p: (p.mkdir(), (p / "readme.txt").write_text("hi"), p)[2], "no image files.*readme.txt"),
    ],
    ids=["missing", "file", "empty", "only-text"],
)
def test_folder_rejects_bad_path(tmp_path, setup, message):
    target = setup(tmp_path / "data")
    with pytest.raises(ValueError, match=message):
        open_dataset("folder", size=8, path=str(target))


def test_folder_rejects_empty_path():
    with pytest.raises(ValueError, match="no folder given"):
        open_dataset("folder", size=8, path="")


def _bad_files(folder: Path) -> dict[str, str]:
    """Write one file per bad-input class; returns name -> expected reason fragment."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.jpg").write_text("this is not an image")
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (9, 9, 9)).save(buf, "JPEG")
    (folder / "truncated.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    _solid(folder / "tiny.png", (0, 0, 0), size=(4, 4))
    _png_header_only(folder / "bomb.png", 20000, 20000)
    return {
        "empty.png": "empty file",
        "notes.jpg": "not an image",
        "truncated.jpg": "unreadable",
        "tiny.png": "too small",
        "bomb.png": "too large",
    }


def test_folder_skips_each_bad_file_with_its_reason(tmp_path, ganlab_home):
    data = tmp_path / "data"
    expected = _bad_files(data)
    _good_images(data, 3)
    before = _tree(data)
    ds = open_dataset("folder", size=16, path=str(data))
    assert len(ds) == 3 and ds.num_skipped == len(expected)
    reasons = dict(line.split(": ", 1) for line in ds.skipped)
    for name, fragment in expected.items():
        assert fragment in reasons[name], (name, reasons[name])
    assert _tree(data) == before  # nothing written into the user's folder
    written = {p.relative_to(ganlab_home).parts[0] for p in ganlab_home.rglob("*") if p.is_file()}
    assert written <= {"cache"}


def test_folder_with_only_bad_files_is_refused_naming_them(tmp_path):
    _bad_files(tmp_path)
    with pytest.raises(ValueError, match="no usable images.*5 of 5 image files were skipped.*bomb.png"):
        open_dataset("folder", size=16, path=str(tmp_path))


def test_folder_refuses_fewer_images_than_one_batch(tmp_path):
    _bad_files(tmp_path)
    _good_images(tmp_path, 3)
    with pytest.raises(ValueError, match="only 3 usable images.*64 needed.*5 of 8 image files were skipped"):
        open_dataset("folder", size=16, path=str(tmp_path), min_images=64)


def test_odd_modes_decode_to_rgb_and_grey(tmp_path):
    files = {
        "cmyk.jpg": Image.new("CMYK", (20, 20), (0, 255, 255, 0)),  # red in CMYK
        "la.png": Image.new("LA", (20, 20), (128, 255)),
        "rgba.png": Image.new("RGBA", (20, 20), (0, 255, 0, 255)),
        "i16.png": Image.fromarray(np.full((20, 20), 40000, dtype=np.uint16)),
    }
    pal = Image.new("P", (20, 20), 1)
    pal.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    pal.info["transparency"] = 0
    files["palette.png"] = pal
    for name, im in files.items():
        im.save(tmp_path / name, transparency=0) if name == "palette.png" else im.save(tmp_path / name)
    for channels in (1, 3):
        for name in files:
            arr = decode_image(tmp_path / name, 8, channels)
            assert arr.shape == (8, 8, channels) and arr.dtype == np.uint8, name
    assert decode_image(tmp_path / "cmyk.jpg", 8, 3)[4, 4, 0] > 200
    assert 140 < decode_image(tmp_path / "i16.png", 8, 1)[4, 4, 0] < 170  # 40000/65535 of full scale, not clipped


def test_transparent_pixels_become_white_background(tmp_path):
    Image.new("RGBA", (16, 16), (255, 0, 0, 0)).save(tmp_path / "clear.png")
    assert decode_image(tmp_path / "clear.png", 8, 3)[0, 0].tolist() == [255, 255, 255]


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_animated_image_uses_first_frame(tmp_path, fmt):
    frames = [Image.new("RGB", (16, 16), c) for c in ((255, 0, 0), (0, 0, 255), (0, 255, 0))]
    path = tmp_path / f"anim.{fmt.lower()}"
    frames[0].save(path, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0, lossless=True)
    pixel = decode_image(path, 8, 3)[4, 4]
    assert pixel[0] > 200 and pixel[2] < 50


def test_exif_orientation_is_applied(tmp_path):
    im = Image.new("RGB", (32, 16), (255, 0, 0))
    im.paste((0, 0, 255), (16, 0, 32, 16))  # stored: red left half, blue right half
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display": red ends up on top
    im.save(tmp_path / "rotated.jpg", exif=exif, quality=95)
    arr = decode_image(tmp_path / "rotated.jpg", 16, 3, fit="pad")
    assert arr[2, 8, 0] > 200 and arr[2, 8, 2] < 60  # top is red
    assert arr[13, 8, 2] > 200 and arr[13, 8, 0] < 60  # bottom is blue


def test_pixel_limit_skips_large_image(tmp_path):
    _solid(tmp_path / "big.png", (0, 0, 0), size=(100, 100))
    with pytest.raises(SkipImage, match="too large: 100x100"):
        decode_image(tmp_path / "big.png", 8, 3, max_pixels=5000)


def test_image_with_wrong_extension_still_loads(tmp_path):
    _solid(tmp_path / "photo.png", (0, 255, 0), fmt="JPEG")
    assert decode_image(tmp_path / "photo.png", 8, 3)[4, 4, 1] > 200


def test_hidden_files_and_macos_folders_are_ignored(tmp_path):
    _good_images(tmp_path, 2)
    (tmp_path / "._img000.png").write_bytes(b"junk")
    (tmp_path / "__MACOSX").mkdir()
    (tmp_path / "__MACOSX" / "img.png").write_bytes(b"junk")
    ds = open_dataset("folder", size=8, path=str(tmp_path))
    assert len(ds) == 2 and ds.num_skipped == 0


def test_dangling_symlink_is_skipped_with_reason(tmp_path):
    _good_images(tmp_path, 2)
    (tmp_path / "gone.png").symlink_to(tmp_path / "missing.png")
    ds = open_dataset("folder", size=8, path=str(tmp_path))
    assert len(ds) == 2 and ds.num_skipped == 1
    assert ds.skipped[0].startswith("gone.png: unreadable")


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root can read any file")
def test_unreadable_file_is_skipped(tmp_path):
    _good_images(tmp_path, 2)
    locked = _solid(tmp_path / "locked.png", (0, 0, 0))
    locked.chmod(0)
    ds = open_dataset("folder", size=8, path=str(tmp_path))
    assert ds.num_skipped == 1 and "locked.png" in ds.skipped[0]


def test_default_pixel_limit_skips_a_real_64_megapixel_image(tmp_path):
    # 9000 x 8000 one-bit pixels: 72 megapixels in a few kilobytes of PNG (a decompression-bomb shape).
    Image.new("1", (9000, 8000)).save(tmp_path / "huge.png")
    assert (tmp_path / "huge.png").stat().st_size < 200_000
    with pytest.raises(SkipImage, match="too large: 9000x8000 = 72,000,000 pixels exceeds the limit of 64,000,000"):
        decode_image(tmp_path / "huge.png", 8, 3)


def test_a_postscript_file_named_like_a_photo_never_reaches_ghostscript(tmp_path, monkeypatch):
    from PIL import EpsImagePlugin

    def ghostscript(*args, **kwargs):
        raise AssertionError("Ghostscript was asked to interpret the file")

    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", ghostscript)
    monkeypatch.setattr(EpsImagePlugin, "gs_windows_binary", "gs", raising=False)
    (tmp_path / "cat.jpg").write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 64\n"
                                       b"newpath 0 0 moveto 64 64 lineto stroke showpage\n%%EOF\n")
    with pytest.raises(SkipImage, match="not an image, or a format Pillow cannot read"):
        decode_image(tmp_path / "cat.jpg", 8, 3)


def test_a_full_disk_while_caching_leaves_no_partial_cache_file(tmp_path, monkeypatch, ganlab_home):
    import errno

    from ganlab import files

    _good_images(tmp_path / "pics", 4)

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    ds = open_dataset("folder", size=8, path=str(tmp_path / "pics"))
    assert len(ds) == 4  # the data loads; only the cache is missing
    cache = ganlab_home / "cache" / "folders"
    assert not [p.name for p in cache.iterdir()], "a partial cache file was left behind"


def test_folder_caches_are_evicted_least_recently_used_within_the_budget(tmp_path, monkeypatch, ganlab_home):
    monkeypatch.setenv("GANLAB_CACHE_BUDGET_MB", str(2.5 * 4 * 3 * 64 * 64 / 1024**2))  # about two caches
    for i in range(4):
        _good_images(tmp_path / f"set{i}", 4)
        open_dataset("folder", size=64, path=str(tmp_path / f"set{i}"))
    cached = list((ganlab_home / "cache" / "folders").glob("*.npy"))
    assert 1 <= len(cached) <= 2
