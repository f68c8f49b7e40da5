"""Small display helpers shared by pages: sharp sample grids, error boxes, progress with ETA."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
from PIL import Image

from ganlab import media
from ganlab.explore import LoadedGenerator, load_generator


def as_pil(image: np.ndarray | Image.Image | str | Path) -> Image.Image:
    """A uint8 array (H, W[, C]), PIL image or PNG path as a PIL image; unreadable input is a ValueError."""
    if isinstance(image, (str, Path)):
        try:
            with Image.open(image) as src:
                pil = src.convert("RGB") if src.mode not in ("L", "RGB", "RGBA") else src.copy()
        except OSError as exc:
            raise ValueError(f"cannot read image {Path(image).name}: {exc}") from None
    elif isinstance(image, Image.Image):
        pil = image
    else:
        array = np.asarray(image)
        if array.dtype != np.uint8:
            raise ValueError(f"grid arrays must be uint8 (use ganlab.media.to_uint8), got {array.dtype}")
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[:, :, 0]
        pil = Image.fromarray(array)
    return pil


def show_grid(
    image: np.ndarray | Image.Image | str | Path,
    caption: str = "",
    min_width: int = 256,
    *,
    width: int | str = "content",
) -> None:
    """Show a sample grid crisply: nearest-neighbour upscale of small images, lossless PNG."""
    try:
        pil = media.upscale_nearest(as_pil(image), min_width)
    except ValueError as exc:
        show_error(exc)
        return
    st.image(pil, caption=caption or None, output_format="PNG", width=width)


def png_bytes(image: np.ndarray | Image.Image | str | Path, min_width: int = 256) -> bytes:
    """A grid as PNG bytes, upscaled with nearest neighbour so small images stay sharp."""
    buffer = io.BytesIO()
    media.upscale_nearest(as_pil(image), min_width).save(buffer, format="PNG")
    return buffer.getvalue()
def png_download(image: np.ndarray | Image.Image | str | Path, file_name: str, *, key: str,
                 label: str = "Download PNG", min_width: int = 256) -> None:
    """A download button for an image as shown by show_grid (same nearest-neighbour upscale, lossless PNG).

    The PNG is encoded only when the button is clicked (a callable), not on every slider move.
    """
    pil = as_pil(image)
    st.download_button(label, lambda: media.png_bytes(media.upscale_nearest(pil, min_width)), file_name, "image/png",
                       key=key, on_click="ignore", icon=":material/download:")


def error_text(exc_or_message: BaseException | str) -> str:
    """A one-paragraph, traceback-free message for a user-facing error."""
    if isinstance(exc_or_message, BaseException):
        text = str(exc_or_message).strip() or type(exc_or_message).__name__
        # ValueErrors are ours and already name the bad value; others get their type for context.
        if not isinstance(exc_or_message, ValueError):
            text = f"{type(exc_or_message).__name__}: {text}"
        return text.splitlines()[0] if len(text) > 600 else text
    return str(exc_or_message).strip()


def show_error(exc_or_message: BaseException | str, hint: str = "") -> None:
    """st.error with the message and what to do about it; never a traceback."""
    text = error_text(exc_or_message)
    if hint:
        text = f"{text}\n\n**What to do:** {hint}"
    st.error(text, icon=":material/error:")


def format_duration(seconds: float | None) -> str:
    """'1h 02m', '3m 20s', '12s' or '—' for unknown."""
    if seconds is None or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds < 0:
        return "—"
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds}s"


def progress_text(step: int, total: int, latest: dict[str, Any], state: str) -> str:
    """'step 120 / 500 · 24% · ETA 1m 10s' (ETA only while training; no total for a run budgeted in minutes)."""
    text = f"step {step:,} / {total:,} · {100 * min(step / total, 1):.0f}%" if total else f"step {step:,}"
    if not total and latest.get("elapsed") is None:
        return f"{text} · {state}"
    if state == "running" and latest.get("eta") is not None:
        text += f" · ETA {format_duration(latest.get('eta'))}"
    if latest.get("elapsed") is not None:
        text += f" · trained {format_duration(latest.get('elapsed'))}"
    return text


def show_progress(fraction: float, step: int, total: int, latest: dict[str, Any], state: str) -> None:
    """A progress bar (the share of the budget spent: steps or minutes) whose label carries step and ETA."""
    st.progress(min(max(fraction, 0.0), 1.0), text=progress_text(step, total, latest, state))


def show_flash(key: str) -> None:
    """Show (once) a (kind, text) message a callback or an earlier run left in session state."""
    flash = st.session_state.pop(key, None)
    if flash:
        kind, text = flash
        {"error": st.error, "success": st.success, "warning": st.warning}.get(kind, st.info)(text)


@st.cache_data(max_entries=8, show_spinner="Loading the dataset preview…")
def dataset_preview(name: str, size: int, channels: int, path: str, subset: str,
                    fit: str = "crop") -> tuple[np.ndarray, int, tuple[str, ...], tuple[str, ...]]:
    """(grid of the first images, image count, class names, skipped-file notes); cached per settings."""
    from ganlab.data import DataRequest, preview_dataset

    preview = preview_dataset(DataRequest(name, size=size, channels=channels, path=path, subset=subset, fit=fit))
    grid = media.make_grid_image(preview.images, nrow=8)
    return np.asarray(grid.convert("RGB")), preview.count, preview.class_names, preview.skipped


def dataset_preview_or_error(form: dict[str, Any]) -> tuple[tuple | None, str | None]:
    """The (cached) preview of the form's dataset, or why there is none: the same check that enables Start."""
    name, path = form["dataset"], str(form.get("data_path") or "")
    if name in ("folder", "zip") and not path.strip():
        return None, "give the folder (or zip) of images to train on"
    try:
        return dataset_preview(name, int(form["img_size"]), int(form["channels"]), path, str(form["data_subset"]),
                               str(form.get("fit") or "crop")), None
    except Exception as exc:  # noqa: BLE001 - any loading problem becomes a message, never a traceback
        return None, error_text(exc)


def show_dataset_preview(preview: tuple | None, problem: str | None) -> None:
    """Draw the preview grid and image count, or the problem with what to do."""
    if preview is None:
        if problem and problem.startswith("give the folder"):
            st.info("Enter a folder path (or upload a zip) to preview the images.")
        else:
            show_error(problem or "no preview", hint="Check the path or choose another dataset; offline, use "
                                                     "digits, emoji, or a local folder.")
        return
    grid, count, classes, skipped = preview
    show_grid(grid, caption=f"{count:,} images" + (f" · {len(classes)} classes" if classes else ""))
    if skipped:  # files the loader left out, with why (first few)
        with st.expander(f"{len(skipped)} unusable files skipped in the preview"):
            st.text("\n".join(skipped))


def scroll_into_view(key: str) -> None:
    """Scroll the element created with key=... to the top of the window (feedback where the eye is)."""
    selector = f".st-key-{key.replace('.', '-')}"
    st.html(f"""<script>
      (() => {{ let tries = 0; const go = () => {{ const el = window.parent.document.querySelector("{selector}")
                                                  || document.querySelector("{selector}");
        if (el) {{ el.scrollIntoView({{block: "start"}}); }} else if (tries++ < 40) {{ setTimeout(go, 50); }} }};
        setTimeout(go, 50); }})();
    </script>""", unsafe_allow_javascript=True)


@st.cache_resource(max_entries=8, show_spinner="Loading generator…")
def cached_generator(path: str, mtime_ns: int) -> LoadedGenerator:
    """A generator loaded once per file version (mtime in the key: a re-exported file reloads)."""
    return load_generator(path)


@st.cache_data(max_entries=64, show_spinner=False)
def seed_grid(path: str, mtime_ns: int, seed: int, count: int = 16) -> np.ndarray:
    """uint8 grid (H, W, C) of images for seeds seed..seed+count-1 (classes cycle for conditional models)."""
    grid = cached_generator(path, mtime_ns).seed_grid(range(seed, seed + count))
    return np.asarray(grid.convert("RGB"))
