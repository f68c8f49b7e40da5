"""Decode one image file of any kind into a square uint8 array, or say why it cannot be used."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
# Raster formats only, whatever the file is called: Pillow would otherwise hand a PostScript or EPS file named
# cat.jpg to Ghostscript (an interpreter) where it is installed.
RASTER_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "GIF", "TIFF")
MIN_SIDE = 8  # smaller images carry too little to train on
MAX_PIXELS = 64_000_000  # decompression-bomb guard: ~8000 x 8000


class SkipImage(Exception):
    """This file cannot be used; the message is the human-readable reason."""


def _to_8bit(im: Image.Image) -> Image.Image:
    """16-bit and float greyscale: rescale to 0..255 (PIL's convert would clip to white)."""
    arr = np.asarray(im)
    if im.mode.startswith("I;16") or (im.mode == "I" and arr.max(initial=0) <= 65535 and arr.min(initial=0) >= 0):
        scaled = arr.astype(np.float32) / 257.0 if arr.max(initial=0) > 255 else arr.astype(np.float32)
    else:  # I (32-bit signed) outside 16-bit range, or F: stretch the observed range
        arr = arr.astype(np.float64)
        lo, hi = np.nanmin(arr), np.nanmax(arr)
        scaled = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(arr)
    return Image.fromarray(np.nan_to_num(scaled).clip(0, 255).round().astype(np.uint8), mode="L")


def _flatten(im: Image.Image, channels: int, background: tuple[int, int, int]) -> Image.Image:
    """Any PIL mode to 'L' or 'RGB'; transparency is composited over `background`."""
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        im = _to_8bit(im)
    if im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (*background, 255))
        canvas.alpha_composite(rgba)
        im = canvas
    target = "L" if channels == 1 else "RGB"
    return im if im.mode == target else im.convert(target)


def _border_colour(im: Image.Image) -> int | tuple[int, ...]:
    """Mean colour of the outermost pixels: padding with it hides the seam better than black."""
    arr = np.asarray(im)
    border = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]]).reshape(-1, 1 if arr.ndim == 2 else arr.shape[2])
    mean = tuple(int(v) for v in border.mean(0).round())
    return mean[0] if im.mode == "L" else mean


def fit_square(im: Image.Image, size: int, fit: str, crop: float = 1.0) -> Image.Image:
    """Centre-crop (or pad) to a square, keep its centre `crop` fraction of the side, and resize to size x size
    with Lanczos antialiasing."""
    w, h = im.size
    if fit == "pad":
        side = max(w, h)
        canvas = Image.new(im.mode, (side, side), _border_colour(im))
        canvas.paste(im, ((side - w) // 2, (side - h) // 2))
        if crop >= 1.0:
            return canvas.resize((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)
        im, w, h = canvas, side, side
    if crop >= 1.0:
        side = min(w, h)
        left, top = (w - side) // 2, (h - side) // 2
    else:  # fractional box edges keep a partial crop centred on odd sizes too
        side = max(1.0, min(w, h) * crop)
        left, top = (w - side) / 2, (h - side) / 2
    # box= crops and resizes in one pass; reducing_gap trades a little quality for big speed on photos.
    return im.resize((size, size), Image.Resampling.LANCZOS, box=(left, top, left + side, top + side), reducing_gap=3.0)


def decode_image(
    path: str | Path,
    size: int,
    channels: int,
    fit: str = "crop",
    *,
    crop: float = 1.0,
    max_pixels: int = MAX_PIXELS,
    background: tuple[int, int, int] = (255, 255, 255),
) -> np.ndarray:
    """(size, size, channels) uint8 for one file (its centre `crop` fraction, resized); SkipImage if unusable."""
    try:
        if os.path.getsize(path) == 0:
            raise SkipImage("empty file (0 bytes)")
        # Pillow itself raises DecompressionBombError above 2x its own limit (and warns between 1x and
        # 2x, which is harmless: our lower limit below rejects those files anyway).
        with Image.open(path, formats=RASTER_FORMATS) as im:
            w, h = im.size
            if w * h > max_pixels:
                raise SkipImage(f"too large: {w}x{h} = {w * h:,} pixels exceeds the limit of {max_pixels:,}")
            if min(w, h) < MIN_SIDE:
                raise SkipImage(f"too small: {w}x{h}, need at least {MIN_SIDE} px per side")
            if getattr(im, "n_frames", 1) > 1:
                im.seek(0)  # animated GIF/WebP/TIFF: the first frame
            if im.format == "JPEG":
                # Decode at a reduced DCT scale, still >= 2x the target (as Image.thumbnail does).
                im.draft("L" if channels == 1 else "RGB", (2 * size, 2 * size))
            im.load()
            im = ImageOps.exif_transpose(im) or im
            im = _flatten(im, channels, background)
            out = fit_square(im, size, fit, crop)
    except SkipImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:  # the latter under -W error
        raise SkipImage(f"too large (decompression bomb guard): {exc}") from None
    except UnidentifiedImageError:
        raise SkipImage("not an image, or a format Pillow cannot read") from None
    except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
        # Truncated data, broken headers, bad EXIF and unsupported modes all land here.
        raise SkipImage(f"unreadable: {type(exc).__name__}: {exc}") from None
    except Exception as exc:  # a decoder bug must cost one file, never the whole dataset
        raise SkipImage(f"unreadable: {type(exc).__name__}: {exc}") from None
    arr = np.array(out, dtype=np.uint8)  # a writable copy: torch warns about read-only arrays
    return arr[:, :, None] if arr.ndim == 2 else arr
