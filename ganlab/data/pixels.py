"""Tensor helpers shared by the array sources: even subsampling, channel conversion, antialiased resizing."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def pick_indices(total: int, max_images: int) -> np.ndarray:
    """Evenly spaced indices, so a capped labelled set still covers every class."""
    if max_images <= 0 or max_images >= total:
        return np.arange(total)
    return np.linspace(0, total - 1, max_images).round().astype(np.int64)


def convert_channels(images: torch.Tensor, channels: int) -> torch.Tensor:
    """uint8 (N, C, H, W) to 1 or 3 channels (ITU-R 601 luma, like PIL's convert('L'))."""
    have = images.shape[1]
    if have == channels:
        return images
    if have == 1 and channels == 3:
        return images.expand(-1, 3, -1, -1).contiguous()
    if have == 3 and channels == 1:
        weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
        out = torch.empty((images.shape[0], 1, *images.shape[2:]), dtype=torch.uint8)
        for start in range(0, images.shape[0], 4096):  # chunks bound the float copy's memory
            chunk = images[start : start + 4096].float()
            out[start : start + 4096] = (chunk * weights).sum(1, keepdim=True).round().clamp(0, 255).to(torch.uint8)
        return out
    raise ValueError(f"cannot convert {have}-channel images to {channels} channels")


def resize_uint8(images: torch.Tensor, size: int, chunk: int = 2048) -> torch.Tensor:
    """Resize uint8 (N, C, H, W) to size x size: antialiased bicubic down, bilinear up (no ringing)."""
    n, c, h, w = images.shape
    if h == size and w == size:
        return images.contiguous()
    mode = "bilinear" if size > max(h, w) else "bicubic"
    out = torch.empty((n, c, size, size), dtype=torch.uint8)
    for start in range(0, n, chunk):  # chunks keep the float copy small for 60k-image sets
        x = images[start : start + chunk].float()
        y = F.interpolate(x, size=(size, size), mode=mode, antialias=True, align_corners=False)
        out[start : start + chunk] = y.round_().clamp_(0, 255).to(torch.uint8)
    return out


def finish(images: torch.Tensor, size: int, channels: int) -> torch.Tensor:
    """Common tail of array sources: resize, then set the channel count; contiguous uint8."""
    # Resizing before widening grey to RGB does a third of the work.
    if images.shape[1] == 3 and channels == 1:
        return resize_uint8(convert_channels(images, 1), size)
    return convert_channels(resize_uint8(images, size), channels).contiguous()
