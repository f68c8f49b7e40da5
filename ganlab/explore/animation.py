"""Latent walks as animations: frames along a keyframe path, and the GIF / MP4 / zip bundle offered for download."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from ganlab import media
from ganlab.explore.generator import Labels, LoadedGenerator
from ganlab.explore.latent import keyframe_path

MAX_KEYFRAMES = 32
MAX_FRAMES = 10_000  # every frame is held in memory before encoding
MAX_FRAME_BYTES = 64_000_000 * 3 * 4  # all frames together, as RGB at their final size


def check_frames(frames: int, side: int) -> None:
    """ValueError when `frames` frames of side x side pixels cannot be held in memory (or are no frames)."""
    if isinstance(frames, bool) or not isinstance(frames, int) or not 1 <= frames <= MAX_FRAMES:
        raise ValueError(f"frames={frames!r}: choose 1 to {MAX_FRAMES:,} frames")
    total = frames * side * side * 3
    if total > MAX_FRAME_BYTES:
        raise ValueError(f"{frames} frames of {side}x{side} pixels would need about {total / 1e9:.1f} GB of memory; "
                         "use fewer frames or a smaller size")


def interpolation_frames(loaded: LoadedGenerator, keys: torch.Tensor, frames: int, *, mode: str = "slerp",
                         loop: bool = False, pingpong: bool = False, labels: Labels = None,
                         min_side: int = 256) -> list[Image.Image]:
    """Exactly `frames` PIL frames along the keyframe path (K, z_dim), upscaled (nearest) to at least min_side.

    The memory guard uses the real frame side: never smaller than the generator's own image size.
    """
    if keys.dim() != 2 or not 1 <= keys.shape[0] <= MAX_KEYFRAMES:
        raise ValueError(f"{keys.shape[0] if keys.dim() == 2 else 0} keyframes: use 1 to {MAX_KEYFRAMES}")
    size = loaded.model_config.img_size
    side = size * max(1, -(-max(1, int(min_side)) // size))  # upscale_nearest's integer factor
    check_frames(frames, side)
    path = keyframe_path(keys.float(), frames, mode=mode, loop=loop, pingpong=pingpong)  # (frames, z_dim)
    if isinstance(labels, int) or labels is None:
        labels = loaded.labels_for(frames, labels if labels is not None else 0)
    images = loaded.generate(path, labels)  # (frames, C, H, W) uint8
    return [media.upscale_nearest(media.to_pil(img), min_side) for img in images]


def export_bundle(frames: list[Image.Image], fps: float) -> dict[str, Any]:
    """GIF bytes, frames zip bytes and (when imageio-ffmpeg is installed) MP4 bytes for the download buttons."""
    bundle: dict[str, Any] = {
        "gif": media.gif_bytes(frames, fps=fps),
        "zip": media.frames_zip_bytes(frames),
        "mp4": None,
        "frames": len(frames),
        "fps": fps,
        "size": frames[0].size,
        "preview": [frames[i] for i in _spread(len(frames), 6)],
    }
    if media.mp4_available():
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "morph.mp4"
            media.write_mp4(frames, out, fps=fps)
            bundle["mp4"] = out.read_bytes()
    return bundle


def _spread(n: int, k: int) -> list[int]:
    """k indices spread evenly over range(n) (all of them when n <= k)."""
    if n <= k:
        return list(range(n))
    return sorted({round(i * (n - 1) / (k - 1)) for i in range(k)})
