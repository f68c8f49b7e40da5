"""ui/widgets.py: image conversion, durations and progress text, and error boxes without tracebacks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from ui.widgets import as_pil, format_duration, progress_text


def test_format_duration_shapes() -> None:
    assert [format_duration(s) for s in (None, -1, 5, 200, 3725)] == ["—", "—", "5s", "3m 20s", "1h 02m"]


def test_progress_text_shows_eta_only_while_running() -> None:
    latest = {"eta": 70, "elapsed": 12}
    assert progress_text(120, 480, latest, "running") == "step 120 / 480 · 25% · ETA 1m 10s · trained 12s"
    assert "ETA" not in progress_text(120, 480, latest, "paused")


def test_as_pil_accepts_arrays_images_and_paths(tmp_path: Path) -> None:
    grey = np.zeros((8, 8, 1), dtype=np.uint8)
    assert as_pil(grey).mode == "L"
    path = tmp_path / "g.png"
    Image.fromarray(np.zeros((4, 6, 3), dtype=np.uint8)).save(path)
    assert as_pil(path).size == (6, 4)
    assert as_pil(Image.new("RGB", (3, 3))).size == (3, 3)


def test_as_pil_rejects_float_arrays() -> None:
    with pytest.raises(ValueError, match="uint8"):
        as_pil(np.zeros((4, 4), dtype=np.float32))


def _error_app() -> None:
    from ui.widgets import show_error

    try:
        raise RuntimeError("disk on fire")
    except RuntimeError as exc:
        show_error(exc, hint="Put it out.")
    show_error("plain message")


def test_show_error_gives_message_and_hint_without_traceback() -> None:
    at = AppTest.from_function(_error_app).run()
    assert not at.exception
    texts = [e.value for e in at.error]
    assert texts[0] == "RuntimeError: disk on fire\n\n**What to do:** Put it out."
    assert texts[1] == "plain message"
    assert not any("Traceback" in t for t in texts)


def _grid_app() -> None:
    import numpy as np

    from ui.widgets import show_grid

    show_grid(np.zeros((8, 8, 3), dtype=np.uint8), caption="tiny")
    show_grid(np.zeros((8, 8), dtype=np.float64), caption="bad")


def test_show_grid_draws_png_and_reports_bad_input_as_error() -> None:
    at = AppTest.from_function(_grid_app).run()
    assert not at.exception
    assert [c for image in at.image for c in image.captions] == ["tiny"]
    assert any("uint8" in e.value for e in at.error)
