"""Explore page glue: which generators can be explored, and per-file caches of loaded generators and PCA directions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st
import torch

from ganlab.explore import (
    LoadedGenerator,
    load_generator,
    parse_seeds,
    pca_directions,
    sweep_grid,
    unit_directions,
    z_from_seed,
)
from ganlab.runs import Run, list_pretrained
from ui.widgets import png_bytes, png_download, show_error, show_grid

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
        title = model_title(card)
        out[title if title not in out else f"{title} ({Path(card['path']).stem})"] = Path(card["path"]).with_suffix(".json")
    return out


def model_title(card: dict) -> str:
    return str(card.get("title") or card.get("name") or Path(card["path"]).stem)


def open_in_explore(card: dict) -> None:
    """Preselect a shipped model for the Explore page (the Home gallery's "Explore this model")."""
    st.session_state["explore.kind"] = "Pretrained"
    st.session_state["explore.pretrained"] = model_title(card)


def run_checkpoints(run: Run) -> dict[str, Path]:
    """{label: path}: latest.pt, best.pt (the best live quality so far) when there is one, then the kept step
    checkpoints, newest first."""
    out: dict[str, Path] = {}
    if run.latest_checkpoint is not None:
        out["latest"] = run.latest_checkpoint
    best = run.checkpoints_dir / "best.pt"
    if best.is_file():
        out["best"] = best
    for path in reversed(run.step_checkpoints()):
        digits = path.stem.removeprefix("step_")
        out[f"step {int(digits):,}" if digits.isdigit() else path.stem] = path
    return out


@st.cache_resource(max_entries=6, show_spinner="Loading generator…")
def _load(path: str, mtime_ns: int, use_ema: bool) -> LoadedGenerator:
    # Always from the file, never from a live trainer: a checkpoint is an immutable snapshot of the weights.
    return load_generator(path, use_ema=use_ema)


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


@st.cache_data(max_entries=32, show_spinner=False)
def _strips(path: str, mtime_ns: int, use_ema: bool, label: int | None, seed: int, truncation: float,
            k: int) -> list[bytes]:
    loaded = _load(path, mtime_ns, use_ema)
    directions, stds = _pca(path, mtime_ns, use_ema, label, k)
    z = z_from_seed(seed, loaded.model_config.z_dim, truncation=truncation)
    out = []
    for i in range(directions.shape[0]):
        strip = sweep_grid(loaded, z, directions[i : i + 1], stds[i : i + 1], steps=5, k=2.0, labels=label)
        out.append(png_bytes(strip, min_width=48))
    return out


def direction_strips(key: GenKey, label: int | None, seed: int, truncation: float, k: int) -> list[bytes]:
    """PNG strips (one per principal direction) from -2σ to +2σ around the seed's point: what each slider does."""
    return _strips(key.path, key.mtime_ns, key.use_ema, label, seed, truncation, k)


def sweep_panel(loaded: LoadedGenerator, z: torch.Tensor, label: int | None, directions: torch.Tensor | None,
                stds: torch.Tensor | None) -> None:
    """A grid whose rows are latent dimensions (or principal directions), columns -k..+k σ; PNG download."""
    mc = loaded.model_config
    kinds = ["Latent dimensions"] + (["Principal directions"] if directions is not None else [])
    left, right = st.columns([1, 2])
    with left:
        kind = st.radio("Rows", kinds, key="explore.sweep_kind", horizontal=True,
                        help="Principal directions appear once their tab has been opened for this model.")
        rows = st.text_input("Dimensions", f"0-{min(7, mc.z_dim - 1)}", key="explore.sweep_rows",
                             disabled=kind != "Latent dimensions", help="e.g. 0-7 or 3,10,42")
        steps = st.slider("Columns", 3, 15, 9, 2, key="explore.sweep_steps")
        reach = st.slider("Reach (σ each way)", 0.5, 4.0, 2.0, 0.5, key="explore.sweep_k")
    with right:
        try:
            if kind == "Latent dimensions":
                dirs, sigmas = unit_directions(parse_seeds(rows, max_count=64, noun="dimension"), mc.z_dim)
                caption = f"dimensions {rows.strip()}"
            else:
                dirs, sigmas = directions, stds
                caption = f"principal directions 1–{directions.shape[0]}"
            grid = sweep_grid(loaded, z, dirs, sigmas, steps=int(steps), k=float(reach), labels=label)
        except ValueError as exc:
            show_error(exc, hint="Give dimensions like 0-7 or 3,10,42 within the latent size.")
            return
        show_grid(grid, caption=f"{caption}: rows; −{reach:g}σ … +{reach:g}σ around the current point: columns",
                  min_width=512)
        png_download(grid, "ganlab-sweep.png", key="explore.dl_sweep", label="Download sweep (PNG)", min_width=512)
