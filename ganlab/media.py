"""Network output -> pixels: to_uint8 (the one conversion point), PIL images, grids, GIF/MP4/zip writers."""

from __future__ import annotations

import importlib.util
import io
import math
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, Union

import numpy as np
import torch
from PIL import Image
from torch import Tensor

Frames = Union[Sequence[Image.Image], np.ndarray, Tensor]


def to_uint8(images: Tensor) -> Tensor:
    """float [-1, 1] (N, C, H, W) or (C, H, W) -> uint8 [0, 255], same shape; clamped, rounded, NaN -> mid-grey."""
    if not isinstance(images, Tensor):
        raise ValueError(f"to_uint8 expects a torch tensor, got {type(images).__name__}")
    if images.dtype == torch.uint8:
        return images
    x = torch.nan_to_num(images.detach().float(), nan=0.0, posinf=1.0, neginf=-1.0)
    return ((x + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)


def _hwc_batch(images: Tensor) -> np.ndarray:
    """(N, C, H, W) float/uint8 -> (N, H, W) or (N, H, W, 3) uint8 numpy, in one vectorised pass."""
    img = to_uint8(images).cpu()
    c = img.shape[1]
    if c == 1:
        return img[:, 0].numpy()
    if c == 2:  # no PIL mode for 2 channels: show their mean as grey
        return img.float().mean(1).round().to(torch.uint8).numpy()
    return img[:, :3].permute(0, 2, 3, 1).contiguous().numpy()  # RGB, or the first 3 of RGBA / multi-channel


def _hwc(image: Tensor) -> np.ndarray:
    """(C, H, W) float/uint8 -> (H, W) or (H, W, 3) uint8 numpy array that PIL understands."""
    if image.dim() != 3:
        raise ValueError(f"image shape {tuple(image.shape)}: expected (C, H, W)")
    return _hwc_batch(image.unsqueeze(0))[0]


def to_pil(image: Tensor) -> Image.Image:
    """(C, H, W) float[-1, 1] or uint8 -> PIL image: 'L' for 1 (or 2) channels, 'RGB' for 3+ (first 3 used)."""
    return Image.fromarray(_hwc(image))


def png_bytes(image: Image.Image) -> bytes:
    """A PIL image as lossless PNG bytes (downloads of grids and single samples)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def upscale_nearest(img: Image.Image, min_side: int) -> Image.Image:
    """Integer nearest-neighbour upscale until the shorter side is at least min_side (tiny images stay sharp)."""
    factor = math.ceil(min_side / max(1, min(img.size)))
    if factor <= 1:
        return img
    return img.resize((img.width * factor, img.height * factor), Image.Resampling.NEAREST)


def make_grid_image(
    images: Tensor, nrow: int | None = None, padding: int = 2, upscale: int = 1, pad_value: int = 128
) -> Image.Image:
    """(N, C, H, W) float[-1, 1] or uint8 -> one PIL grid image; nrow = images per row (default ~square).

    The default padding is mid-grey so the separation is visible on both black (MNIST) and white (emoji)
    backgrounds; `upscale` enlarges each pixel to an upscale x upscale block (nearest neighbour).
    """
    from torchvision.utils import make_grid

    if not isinstance(images, Tensor) or images.dim() != 4 or images.shape[0] == 0:
        shape = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"images {shape}: expected a non-empty (N, C, H, W) tensor")
    if not isinstance(upscale, int) or upscale < 1:
        raise ValueError(f"upscale={upscale!r}: give a whole number >= 1")
    n = images.shape[0]
    nrow = nrow or math.ceil(math.sqrt(n))
    if not isinstance(nrow, int) or nrow < 1:
        raise ValueError(f"nrow={nrow!r}: give a whole number of images per row >= 1")
    imgs = to_uint8(images).cpu()
    if imgs.shape[1] not in (1, 3):
        imgs = torch.from_numpy(_as_nchw(_hwc_batch(imgs)))
    grid = make_grid(imgs, nrow=nrow, padding=padding, pad_value=pad_value)  # (3, H', W'): grey is tiled to 3
    if images.shape[1] in (1, 2):
        grid = grid[:1]
    pil = to_pil(grid)
    if upscale > 1:
        pil = pil.resize((pil.width * upscale, pil.height * upscale), Image.Resampling.NEAREST)
    return pil


def _as_nchw(arr: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(arr[:, None] if arr.ndim == 3 else arr.transpose(0, 3, 1, 2))


def save_grid(images: Tensor, path: str | Path, nrow: int | None = None, upscale: int = 1) -> Path:
    """Write make_grid_image(...) to `path` (format from the suffix, PNG recommended); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    make_grid_image(images, nrow=nrow, upscale=upscale).save(path)
    return path


def frames_to_pil(frames: Frames) -> list[Image.Image]:
    """Frames as PIL images. Accepts PIL images, uint8 arrays/tensors (T, H, W, C) or (T, H, W),
    or a float tensor (T, C, H, W) in [-1, 1] straight from a network."""
    if isinstance(frames, Tensor) and frames.dtype != torch.uint8:
        if frames.dim() != 4:
            raise ValueError(f"float frames {tuple(frames.shape)}: expected (T, C, H, W) in [-1, 1]")
        return [Image.fromarray(a) for a in _hwc_batch(frames)]
    if isinstance(frames, (np.ndarray, Tensor)):
        arr = frames.cpu().numpy() if isinstance(frames, Tensor) else frames
        if arr.dtype != np.uint8 or arr.ndim not in (3, 4):
            raise ValueError(f"frames array {arr.dtype} {arr.shape}: expected uint8 (T, H, W, C) or (T, H, W)")
        if arr.ndim == 4 and arr.shape[-1] == 1:
            arr = arr[..., 0]
        return [Image.fromarray(np.ascontiguousarray(a)) for a in arr]
    out = list(frames)
    if not all(isinstance(f, Image.Image) for f in out):
        raise ValueError("frames: give PIL images, a uint8 (T, H, W, C) array or a float (T, C, H, W) tensor")
    return out


def _centiseconds(count: int, fps: float) -> list[int]:
    """Per-frame GIF delays (1/100 s units) whose running sum tracks i / fps, so the average rate is exact."""
    if not isinstance(fps, (int, float)) or not 0 < fps <= 50:
        raise ValueError(f"fps={fps!r}: GIF frame rates go from above 0 up to 50")
    marks = [round(100 * i / fps) for i in range(count + 1)]
    # Browsers treat delays under 2 cs as 10 cs, hence the floor of 2 (fps <= 50 keeps it exact on average).
    return [max(2, b - a) for a, b in zip(marks, marks[1:])]


def _gif_blocks(single: bytes) -> tuple[bytes, bytes, bytes]:
    """Split a one-frame GIF (as Pillow writes it) into (colour table, image descriptor, LZW image data).

    Only the GIF89a container layout is relied on, not Pillow internals.
    """
    packed = single[10]
    pos = 13
    table = b""
    if packed & 0x80:
        size = 3 * (2 ** ((packed & 0x07) + 1))
        table, pos = single[pos : pos + size], pos + size
    while single[pos] == 0x21:  # skip extensions: 0x21, label, sub-blocks ending with a 0 length
        pos += 2
        while single[pos]:
            pos += single[pos] + 1
        pos += 1
    if single[pos] != 0x2C:
        raise ValueError("unexpected GIF layout from the frame encoder")
    descriptor = bytearray(single[pos : pos + 10])
    pos += 10
    if descriptor[9] & 0x80:  # the frame already has a local table: it wins
        size = 3 * (2 ** ((descriptor[9] & 0x07) + 1))
        table, pos = single[pos : pos + size], pos + size
    start = pos
    pos += 1  # LZW minimum code size
    while single[pos]:
        pos += single[pos] + 1
    pos += 1
    return table, bytes(descriptor), single[start:pos]


def _palettised(images: list[Image.Image]) -> list[Image.Image]:
    """Greyscale frames stay 'L' (exact, one shared grey table); colour frames get their own 256-colour palette.

    Fast octree per frame is both faster and closer to the input than one palette shared by the clip
    (measured: ~0.1 s for 120 frames of 64 px); no dithering, whose noise would shimmer between frames.
    """
    if all(im.mode == "L" for im in images):
        return images
    return [im.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE) for im in images]


def write_gif(frames: Frames, path_or_buffer: str | Path | BinaryIO, fps: float = 24, loop: int = 0) -> None:
    """Animated GIF with exactly one image per frame (loop=0: forever).

    Pillow's animated writer merges identical consecutive frames (a paused morph would lose frames), so each
    frame is encoded alone by Pillow and the frames are assembled here per the GIF89a layout.
    """
    images = frames_to_pil(frames)
    if not images:
        raise ValueError("frames is empty: a GIF needs at least one frame")
    if len({im.size for im in images}) != 1:
        raise ValueError(f"frames have different sizes {sorted({im.size for im in images})}: make them equal")
    if isinstance(loop, bool) or not isinstance(loop, int) or not 0 <= loop <= 65535:
        raise ValueError(f"loop={loop!r}: 0 = forever, else a repeat count up to 65535")
    delays = _centiseconds(len(images), fps)
    images = _palettised(images)
    w, h = images[0].size
    chunks: list[bytes] = []
    global_table = b""
    for i, im in enumerate(images):
        buf = io.BytesIO()
        im.save(buf, format="GIF", optimize=False)
        table, descriptor, data = _gif_blocks(buf.getvalue())
        if i == 0:
            global_table = table
        desc = bytearray(descriptor)
        local = b""
        if table != global_table:  # this frame needs its own palette
            desc[9] = 0x80 | (desc[9] & 0x40) | (int(math.log2(len(table) // 3)) - 1)
            local = table
        else:
            desc[9] &= 0x40  # keep only the interlace bit: use the global table
        # Graphic control extension: disposal 1 (leave in place), delay, no transparency.
        gce = b"\x21\xf9\x04\x04" + delays[i].to_bytes(2, "little") + b"\x00\x00"
        chunks += [gce, bytes(desc), local, data]
    gct_bits = int(math.log2(len(global_table) // 3)) - 1
    header = b"GIF89a" + w.to_bytes(2, "little") + h.to_bytes(2, "little") + bytes([0xF0 | gct_bits, 0, 0])
    netscape = b"\x21\xff\x0bNETSCAPE2.0\x03\x01" + loop.to_bytes(2, "little") + b"\x00"
    payload = b"".join([header, global_table, netscape, *chunks, b"\x3b"])
    if isinstance(path_or_buffer, (str, Path)):
        Path(path_or_buffer).parent.mkdir(parents=True, exist_ok=True)
        Path(path_or_buffer).write_bytes(payload)
    else:
        path_or_buffer.write(payload)


def gif_bytes(frames: Frames, fps: float = 24) -> bytes:
    """The GIF of write_gif as bytes (for download buttons), looping forever."""
    buf = io.BytesIO()
    write_gif(frames, buf, fps=fps)
    return buf.getvalue()


def mp4_available() -> bool:
    """True when imageio-ffmpeg (which bundles an ffmpeg binary) is installed."""
    return importlib.util.find_spec("imageio_ffmpeg") is not None


def write_mp4(frames: Frames, path: str | Path, fps: float = 24) -> None:
    """H.264 MP4 via imageio-ffmpeg; ValueError naming the missing package when it is not installed."""
    if not mp4_available():
        raise ValueError("MP4 export needs the imageio-ffmpeg package (pip install imageio-ffmpeg); GIF works without it")
    if not isinstance(fps, (int, float)) or fps <= 0:
        raise ValueError(f"fps={fps!r}: give a positive frame rate")
    import imageio.v2 as imageio

    arrays = [np.asarray(im.convert("RGB")) for im in frames_to_pil(frames)]
    if not arrays:
        raise ValueError("frames is empty: a video needs at least one frame")
    h, w = arrays[0].shape[:2]
    # yuv420p (the widely playable pixel format) needs even sides: pad by repeating the edge.
    arrays = [np.pad(a, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge") for a in arrays]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    imageio.mimwrite(str(path), arrays, fps=fps, codec="libx264", macro_block_size=1, pixelformat="yuv420p")


def frames_zip_bytes(frames: Frames, prefix: str = "frame") -> bytes:
    """A zip of numbered PNGs (<prefix>_0000.png, ...), one per frame, for editing elsewhere."""
    images = frames_to_pil(frames)
    digits = max(4, len(str(len(images) - 1)))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:  # PNG is already compressed
        for i, im in enumerate(images):
            png = io.BytesIO()
            im.save(png, format="PNG")
            zf.writestr(f"{prefix}_{i:0{digits}d}.png", png.getvalue())
    return buf.getvalue()
