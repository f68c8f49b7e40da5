"""Tests for ganlab.media: uint8 conversion, PIL/grid rendering, GIF/zip/MP4 writers."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from ganlab import media


def _gif_frames(data: bytes) -> list[np.ndarray]:
    im = Image.open(io.BytesIO(data))
    out = []
    for i in range(im.n_frames):
        im.seek(i)
        out.append(np.asarray(im.convert("RGB")))
    return out


# --------------------------------------------------------------------------- to_uint8 / to_pil


def test_to_uint8_range_and_rounding():
    x = torch.tensor([-1.0, 1.0, 0.0, -2.0, 3.0, -1 + 2 / 255, 0.5, float("nan")]).view(1, 1, 2, 4)
    out = media.to_uint8(x)
    assert out.dtype == torch.uint8 and out.shape == x.shape
    assert out.flatten().tolist() == [0, 255, 128, 0, 255, 1, 191, 128]


def test_to_uint8_keeps_shape_and_passes_uint8_through():
    x = torch.rand(3, 8, 5) * 2 - 1
    assert media.to_uint8(x).shape == (3, 8, 5)
    u = torch.randint(0, 256, (2, 1, 4, 4), dtype=torch.uint8)
    assert media.to_uint8(u) is u


@pytest.mark.parametrize("channels, mode", [(1, "L"), (2, "L"), (3, "RGB"), (4, "RGB"), (6, "RGB")])
def test_to_pil_modes_shapes(channels, mode):
    img = media.to_pil(torch.zeros(channels, 5, 7))
    assert img.mode == mode and img.size == (7, 5)


def test_to_pil_uint8_pixels_exact():
    u = torch.randint(0, 256, (3, 4, 4), dtype=torch.uint8)
    assert np.array_equal(np.asarray(media.to_pil(u)), u.permute(1, 2, 0).numpy())


# --------------------------------------------------------------------------- grids


def test_make_grid_image_size_and_mode():
    grid = media.make_grid_image(torch.zeros(6, 1, 8, 8), nrow=3, padding=2)
    assert grid.mode == "L"
    assert grid.size == (3 * 10 + 2, 2 * 10 + 2)
    rgb = media.make_grid_image(torch.zeros(4, 3, 8, 8), upscale=3)
    assert rgb.mode == "RGB" and rgb.size == ((2 * 10 + 2) * 3, (2 * 10 + 2) * 3)


def test_make_grid_image_upscale_is_nearest_neighbour():
    img = torch.tensor([[[-1.0, 1.0], [1.0, -1.0]]]).unsqueeze(0)  # (1, 1, 2, 2) checkerboard
    grid = np.asarray(media.make_grid_image(img, padding=0, upscale=4))
    assert grid.shape == (8, 8)
    assert set(np.unique(grid).tolist()) == {0, 255}  # no blended greys
    assert grid[:4, :4].max() == 0 and grid[:4, 4:].min() == 255


def test_make_grid_image_rejects_bad_input():
    with pytest.raises(ValueError, match="upscale"):
        media.make_grid_image(torch.zeros(1, 1, 4, 4), upscale=0)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        media.make_grid_image(torch.zeros(1, 4, 4))


def test_save_grid_writes_png(tmp_path):
    path = media.save_grid(torch.rand(5, 3, 8, 8) * 2 - 1, tmp_path / "sub" / "grid.png", nrow=5)
    assert path.is_file()
    assert Image.open(path).size == (5 * 10 + 2, 12)


def test_upscale_nearest_min_side():
    img = Image.new("L", (8, 6))
    big = media.upscale_nearest(img, 100)
    assert min(big.size) >= 100 and big.size[0] / big.size[1] == 8 / 6
    assert media.upscale_nearest(img, 4) is img


# --------------------------------------------------------------------------- GIF


def test_gif_frame_count_preserved_with_repeated_frames():
    frames = np.zeros((12, 16, 16, 3), dtype=np.uint8)
    frames[4:] = 200  # frames 4..11 are identical; Pillow's writer alone would merge them
    frames[8, 0, 0] = 10
    data = media.gif_bytes(frames, fps=10)
    assert Image.open(io.BytesIO(data)).n_frames == 12
    decoded = _gif_frames(data)
    assert all(np.array_equal(d, f) for d, f in zip(decoded, frames))


def test_gif_all_identical_frames_kept():
    frames = [Image.new("L", (8, 8), 77) for _ in range(5)]
    data = media.gif_bytes(frames)
    im = Image.open(io.BytesIO(data))
    assert im.n_frames == 5
    assert np.asarray(im.convert("L")).max() == 77


def test_gif_greyscale_pixels_exact_and_timing(tmp_path):
    frames = media.to_uint8(torch.rand(30, 1, 20, 20) * 2 - 1)
    path = tmp_path / "a.gif"
    media.write_gif(frames.permute(0, 2, 3, 1).numpy(), path, fps=24, loop=0)
    im = Image.open(path)
    assert im.n_frames == 30 and im.info["loop"] == 0
    durations, total = [], 0
    for i in range(30):
        im.seek(i)
        assert np.array_equal(np.asarray(im.convert("L")), frames[i, 0].numpy())
        durations.append(im.info["duration"])
    total = sum(durations)
    assert abs(total - 30 * 1000 / 24) <= 10  # average rate exact to the GIF's 10 ms granularity


def test_gif_colour_frames_close_to_input():
    # smooth colour gradients: the shared palette must render them with small error
    y, x = torch.meshgrid(torch.linspace(-1, 1, 24), torch.linspace(-1, 1, 24), indexing="ij")
    frames = torch.stack([torch.stack([x * c, y, -x]) for c in torch.linspace(-1, 1, 10)])  # (10, 3, 24, 24)
    decoded = _gif_frames(media.gif_bytes(frames))
    assert len(decoded) == 10
    ref = media.to_uint8(frames).permute(0, 2, 3, 1).numpy().astype(int)
    assert np.abs(np.stack(decoded).astype(int) - ref).mean() < 4


def test_gif_of_120_noisy_64px_frames_keeps_every_frame():
    # How long it takes is a measurement (python -m ganlab bench prints it; README), not a timed assert.
    frames = torch.rand(120, 3, 64, 64) * 2 - 1  # noise: the worst case for palette and LZW
    data = media.gif_bytes(frames)
    assert Image.open(io.BytesIO(data)).n_frames == 120


@pytest.mark.parametrize(
    "frames, match",
    [([], "empty"), ([Image.new("L", (4, 4)), Image.new("L", (5, 4))], "different sizes"), (np.zeros((2, 4, 4)), "uint8")],
)
def test_write_gif_rejects_bad_frames(frames, match):
    with pytest.raises(ValueError, match=match):
        media.gif_bytes(frames)


def test_write_gif_rejects_bad_fps():
    with pytest.raises(ValueError, match="fps"):
        media.gif_bytes([Image.new("L", (4, 4))], fps=0)


# --------------------------------------------------------------------------- zip / MP4


def test_frames_zip_contains_t_pngs_roundtrip():
    frames = np.random.default_rng(0).integers(0, 256, (7, 6, 5, 3), dtype=np.uint8)
    with zipfile.ZipFile(io.BytesIO(media.frames_zip_bytes(frames, prefix="morph"))) as zf:
        names = zf.namelist()
        assert names == [f"morph_{i:04d}.png" for i in range(7)]
        for i, name in enumerate(names):
            png = Image.open(io.BytesIO(zf.read(name)))
            assert np.array_equal(np.asarray(png), frames[i])


def test_write_mp4_without_ffmpeg_raises_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(media, "mp4_available", lambda: False)
    with pytest.raises(ValueError, match="imageio-ffmpeg"):
        media.write_mp4(np.zeros((3, 8, 8, 3), dtype=np.uint8), tmp_path / "a.mp4", fps=12)


@pytest.mark.skipif(not media.mp4_available(), reason="imageio-ffmpeg not installed")
def test_write_mp4_frame_count_and_even_size(tmp_path):
    import imageio.v2 as imageio

    path = tmp_path / "a.mp4"
    media.write_mp4(np.random.default_rng(0).integers(0, 256, (9, 15, 17, 3), dtype=np.uint8), path, fps=12)
    frames = imageio.mimread(path)
    assert len(frames) == 9
    assert frames[0].shape == (16, 18, 3)  # odd sides padded for yuv420p
