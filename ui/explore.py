"""Latent explorer helpers: generator sources, cached loading by path + mtime, PCA, batched rendering, exports."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import streamlit as st
import torch
from PIL import Image

from ganlab import media
from ganlab.checkpoint import LoadedGenerator, load_generator
from ganlab.export import list_pretrained
from ganlab.latent import keyframe_path, pca_directions, z_from_seed
from ganlab.runs import Run

MAX_GRID = 64  # seeds in one grid: beyond this the images get too small to read
MAX_KEYFRAMES = 32
PCA_SAMPLES = 2048  # z samples for the PCA; about a second on a laptop CPU for a 64px DCGAN


@dataclass(frozen=True)
class GenKey:
    """Identifies one loaded generator: the file, its modification time (new weights = new key) and EMA choice."""

    path: str
    mtime_ns: int
    use_ema: bool

    @classmethod
    def of(cls, path: str | Path, use_ema: bool) -> "GenKey":
        path = Path(path)
        stat_path = path.with_suffix(".safetensors") if path.suffix == ".json" else path
        try:
            mtime = stat_path.stat().st_mtime_ns
        except OSError:
            raise ValueError(f"{path.name} does not exist any more; pick another generator") from None
        return cls(str(path), mtime, bool(use_ema))


def pretrained_models(folder: Path | None = None) -> dict[str, Path]:
    """{title: card path} for every shipped generator (the same list as the Home gallery)."""
    out: dict[str, Path] = {}
    for card in list_pretrained(folder):
        title = str(card.get("title") or card.get("name") or Path(card["path"]).stem)
        out[title if title not in out else f"{title} ({Path(card['path']).stem})"] = Path(card["path"]).with_suffix(".json")
    return out


def run_checkpoints(run: Run) -> dict[str, Path]:
    """{label: path}: latest.pt first, then the kept step checkpoints, newest first."""
    out: dict[str, Path] = {}
    if run.latest_checkpoint is not None:
        out["latest"] = run.latest_checkpoint
    for path in reversed(run.step_checkpoints()):
        digits = path.stem.removeprefix("step_")
        out[f"step {int(digits):,}" if digits.isdigit() else path.stem] = path
    return out


@st.cache_resource(max_entries=6, show_spinner="Loading generator…")
def _load(path: str, mtime_ns: int, use_ema: bool) -> LoadedGenerator:
    # Always from the file, never from a live trainer: a checkpoint is an immutable snapshot of the weights.
    loaded = load_generator(path, use_ema=use_ema)
    loaded.generator.eval().requires_grad_(False)
    return loaded


def load_cached(key: GenKey) -> LoadedGenerator:
    """The generator for key, shared by all sessions (eval mode, no grads: safe to call concurrently)."""
    return _load(key.path, key.mtime_ns, key.use_ema)


@st.cache_resource(max_entries=12, show_spinner="Finding principal directions…")
def _pca(path: str, mtime_ns: int, use_ema: bool, label: int | None, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = _load(path, mtime_ns, use_ema).generator
    return pca_directions(generator, num_samples=PCA_SAMPLES, num_components=k, labels=label)


def principal_directions(key: GenKey, label: int | None, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """GANSpace directions (k, z_dim) and their one-sigma lengths (k,), cached per generator and class."""
    return _pca(key.path, key.mtime_ns, key.use_ema, label, k)


def latent_point(
    seed: int,
    z_dim: int,
    truncation: float = 1.0,
    dim_offsets: Sequence[float] = (),
    pc_sigmas: Sequence[float] = (),
    directions: torch.Tensor | None = None,
    stds: torch.Tensor | None = None,
) -> torch.Tensor:
    """z (z_dim,) = truncated seed z + offsets on its first dims + sigma-scaled moves along PCA directions."""
    z = z_from_seed(seed, z_dim, truncation=truncation)
    if len(dim_offsets) > z_dim:
        raise ValueError(f"{len(dim_offsets)} dimension offsets for a {z_dim}-dimensional latent")
    if len(dim_offsets):
        z[: len(dim_offsets)] += torch.tensor(list(dim_offsets), dtype=z.dtype)
    if len(pc_sigmas):
        if directions is None or stds is None or len(pc_sigmas) > directions.shape[0]:
            raise ValueError(f"{len(pc_sigmas)} direction sliders need as many principal directions")
        k = len(pc_sigmas)
        weights = torch.tensor(list(pc_sigmas), dtype=z.dtype) * stds[:k].cpu()
        z = z + weights @ directions[:k].cpu()  # (k,) @ (k, z_dim) -> (z_dim,)
    return z


def class_labels(loaded: LoadedGenerator, label: int | None, n: int) -> torch.Tensor | None:
    """(n,) labels for a conditional generator, None for an unconditional one."""
    classes = loaded.model_config.num_classes
    if classes <= 0:
        return None
    if label is None or not 0 <= int(label) < classes:
        raise ValueError(f"class {label!r}: this generator has classes 0 to {classes - 1}")
    return torch.full((n,), int(label), dtype=torch.long)


@torch.inference_mode()
def generate(loaded: LoadedGenerator, z: torch.Tensor, label: int | None = None, chunk: int = 64) -> torch.Tensor:
    """uint8 images (N, C, H, W) for z (N, z_dim), in batches of `chunk` (one forward pass per batch)."""
    if z.dim() == 1:
        z = z[None]
    device = next(loaded.generator.parameters()).device
    out = []
    for start in range(0, z.shape[0], chunk):
        part = z[start : start + chunk].to(device)
        labels = class_labels(loaded, label, part.shape[0])
        images = loaded.generator(part, None if labels is None else labels.to(device))  # (n, C, H, W) in [-1, 1]
        out.append(media.to_uint8(images.float()).cpu())
    return torch.cat(out)


def seed_grid(loaded: LoadedGenerator, seeds: Sequence[int], truncation: float, label: int | None) -> Image.Image:
    """One grid image of the given seeds (row-major, in the order typed)."""
    if not seeds:
        raise ValueError("no seeds: type some, e.g. 0-15")
    if len(seeds) > MAX_GRID:
        raise ValueError(f"{len(seeds)} seeds: a grid shows at most {MAX_GRID}; shorten the list or range")
    z_dim = loaded.model_config.z_dim
    z = torch.stack([z_from_seed(s, z_dim, truncation=truncation) for s in seeds])  # (N, z_dim)
    images = generate(loaded, z, label)
    nrow = min(8, max(1, round(len(seeds) ** 0.5)))
    return media.make_grid_image(images, nrow=nrow)


def interpolation_frames(
    loaded: LoadedGenerator,
    keys: torch.Tensor,
    frames: int,
    *,
    mode: str = "slerp",
    loop: bool = False,
    pingpong: bool = False,
    label: int | None = None,
    min_side: int = 256,
) -> list[Image.Image]:
    """Exactly `frames` PIL frames along the keyframe path (K, z_dim), upscaled (nearest) to min_side."""
    if keys.shape[0] > MAX_KEYFRAMES:
        raise ValueError(f"{keys.shape[0]} keyframes: use at most {MAX_KEYFRAMES}")
    path = keyframe_path(keys.float(), frames, mode=mode, loop=loop, pingpong=pingpong)  # (frames, z_dim)
    images = generate(loaded, path, label)  # (frames, C, H, W) uint8
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
