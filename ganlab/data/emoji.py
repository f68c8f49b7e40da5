"""Colour emoji rendered with Pillow from an installed colour font: an RGB dataset with no download."""

from __future__ import annotations

import glob
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageColor, ImageDraw, ImageFont

from ganlab import paths
from ganlab.data.dataset import ImageDataset
from ganlab.data.emoji_codes import Probe, enumerate_emoji
from ganlab.data.pixels import convert_channels, pick_indices
from ganlab.data.registry import DataRequest, register_dataset
from ganlab.files import write_cache

CACHE_VERSION = 1
KNOWN_FONTS = (
    "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf",  # Debian/Ubuntu fonts-noto-color-emoji
    "/usr/share/fonts/noto/NotoColorEmoji.ttf",  # Arch
    "/usr/share/fonts/google-noto-emoji/NotoColorEmoji.ttf",  # Fedora
    "/usr/share/fonts/google-noto-color-emoji-fonts/NotoColorEmoji.ttf",
    "/System/Library/Fonts/Apple Color Emoji.ttc",  # macOS
    "C:/Windows/Fonts/seguiemj.ttf",  # Windows
)
FONT_GLOBS = (
    "/usr/share/fonts/**/*[Ee]moji*.tt[fc]",
    "/usr/local/share/fonts/**/*[Ee]moji*.tt[fc]",
    "~/.local/share/fonts/**/*[Ee]moji*.tt[fc]",
    "~/.fonts/**/*[Ee]moji*.tt[fc]",
)
BITMAP_SIZE = 109  # NotoColorEmoji is a CBDT bitmap font with a single 109 px strike
SUBSETS = ("faces", "all")
CANVAS = 192


def find_emoji_font(path: str = "") -> Path | None:
    """The colour emoji font to use: path=, then $GANLAB_EMOJI_FONT, then known places, then a glob."""
    for explicit in (path, os.environ.get("GANLAB_EMOJI_FONT", "")):
        if explicit:
            candidate = Path(explicit).expanduser()
            if not candidate.is_file():
                raise ValueError(f"emoji font {str(candidate)!r} does not exist")
            return candidate
    for known in KNOWN_FONTS:
        if Path(known).is_file():
            return Path(known)
    for pattern in FONT_GLOBS:
        hits = sorted(glob.glob(os.path.expanduser(pattern), recursive=True))
        colour = [h for h in hits if "color" in h.lower() or "colour" in h.lower()]
        if colour or hits:
            return Path((colour or hits)[0])
    return None


def open_font(path: Path) -> ImageFont.FreeTypeFont:
    """Load at the bitmap strike size; scalable colour fonts accept any size."""
    try:
        return ImageFont.truetype(str(path), BITMAP_SIZE)
    except OSError as exc:
        raise ValueError(f"cannot use {str(path)!r} as an emoji font: {exc}") from None


def parse_subset(subset: str) -> tuple[str, tuple[int, int, int]]:
    """'faces', 'all', 'faces:black', 'all:#203040' -> (which, background RGB); white by default."""
    which, _, colour = (subset or "faces").partition(":")
    if which not in SUBSETS:
        raise ValueError(f"emoji subset {which!r}: choose one of {', '.join(SUBSETS)} (optionally ':<colour>')")
    try:
        rgb = ImageColor.getrgb(colour or "white")[:3]
    except ValueError:
        raise ValueError(f"emoji background {colour!r}: give a colour name or #rrggbb, e.g. 'faces:black'") from None
    return which, rgb


def render_rgba(font: ImageFont.FreeTypeFont, text: str) -> Image.Image | None:
    """The glyph cropped to its visible pixels (RGBA), or None when it draws nothing."""
    canvas = Image.new("RGBA", (CANVAS * 2, CANVAS), (0, 0, 0, 0))
    try:
        ImageDraw.Draw(canvas).text((16, 16), text, font=font, embedded_color=True)
    except (OSError, ValueError, RuntimeError):
        return None
    box = canvas.getchannel("A").getbbox()
    return canvas.crop(box) if box else None


def to_square(glyph: Image.Image, size: int, background: tuple[int, int, int]) -> np.ndarray:
    """Centre on a square with a small margin, flatten onto the background, resize: (size, size, 3)."""
    side = int(max(glyph.size) * 1.08)
    square = Image.new("RGBA", (side, side), (*background, 255))
    square.alpha_composite(glyph, ((side - glyph.width) // 2, (side - glyph.height) // 2))
    return np.asarray(square.convert("RGB").resize((size, size), Image.Resampling.LANCZOS))


def _font_key(font_path: Path) -> str:
    st = font_path.stat()
    return f"{font_path.resolve()}|{st.st_size}|{st.st_mtime_ns}"


def _cached_json(path: Path) -> object | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def emoji_strings(font_path: Path, font: ImageFont.FreeTypeFont, which: str) -> list[str]:
    """The renderable emoji for a subset, enumerated once per font and cached as JSON."""
    key = hashlib.sha1(f"{CACHE_VERSION}|{_font_key(font_path)}|{which}".encode()).hexdigest()[:16]
    path = paths.cache_dir() / "emoji" / f"codes-{key}.json"
    cached = _cached_json(path)
    if isinstance(cached, list) and cached:
        return cached
    strings = enumerate_emoji(Probe(font, lambda t: render_rgba(font, t)), which)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_cache(path, lambda fh: fh.write(json.dumps(strings).encode()))
    return strings


def render_emoji(
    which: str, size: int, background: tuple[int, int, int], font_path: Path, max_images: int = 0, progress=None
) -> tuple[np.ndarray, list[str]]:
    """uint8 (N, 3, size, size) and the strings drawn; cached per font, subset, background and size."""
    font = open_font(font_path)
    strings = emoji_strings(font_path, font, which)
    strings = [strings[i] for i in pick_indices(len(strings), max_images)]
    key = hashlib.sha1(json.dumps([CACHE_VERSION, _font_key(font_path), strings, size, background]).encode())
    stem = paths.cache_dir() / "emoji" / f"img-{key.hexdigest()[:16]}"
    meta = _cached_json(stem.with_suffix(".json"))
    if isinstance(meta, list):
        try:
            return np.load(stem.with_suffix(".npy")), meta
        except (OSError, ValueError):
            pass
    images, drawn = [], []
    step = max(1, len(strings) // 50)
    for i, text in enumerate(strings, 1):
        glyph = render_rgba(font, text)
        if glyph is not None:  # glyphs that render empty are skipped
            images.append(to_square(glyph, size, background).transpose(2, 0, 1))
            drawn.append(text)
        if progress is not None and (i % step == 0 or i == len(strings)):
            progress(i, len(strings))
    array = np.stack(images) if images else np.zeros((0, 3, size, size), np.uint8)
    stem.parent.mkdir(parents=True, exist_ok=True)
    # A handle, not a name: np.save would append ".npy" to a temp name. The meta file is written last.
    if write_cache(stem.with_suffix(".npy"), lambda fh: np.save(fh, array)):
        write_cache(stem.with_suffix(".json"), lambda fh: fh.write(json.dumps(drawn).encode()))
    return array, drawn


@register_dataset(
    "emoji",
    description="Colour emoji drawn from the installed Noto Color Emoji font: 'faces' (smileys and people) "
    "or 'all' (~3,300 incl. skin tones, flags and ZWJ sequences); background white, or e.g. 'faces:black'",
    labelled=False,
    default_channels=3,
    subsets=("faces", "all", "faces:black", "all:black"),
    default_subset="faces",
    order=40,
)
def load_emoji(req: DataRequest) -> ImageDataset:
    which, background = parse_subset(req.subset)
    font_path = find_emoji_font(req.path)
    if font_path is None:
        raise ValueError(
            "no colour emoji font found: install one (Debian/Ubuntu: `sudo apt install fonts-noto-color-emoji`) "
            "or point GANLAB_EMOJI_FONT (or path=) at NotoColorEmoji.ttf"
        )
    array, _ = render_emoji(which, req.size, background, font_path, req.max_images, req.progress)
    if len(array) == 0:
        raise ValueError(f"the font {str(font_path)!r} drew no emoji; is it a colour emoji font?")
    images = convert_channels(torch.from_numpy(np.ascontiguousarray(array)), req.channels)
    return ImageDataset(images=images.contiguous(), labels=None, class_names=(), name=f"emoji-{which}")
