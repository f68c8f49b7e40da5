"""TensorBoard event files beside metrics.jsonl: every metric record as scalars, every fixed-noise grid as an image.

Written when the `tensorboard` package is installed (and GANLAB_TENSORBOARD is not 0), so that
`tensorboard --logdir ~/.ganlab/runs` shows every run. Only tensorboard's protobufs and record framing are used:
each write appends to one file per run and closes it, synchronously, so there is no writer thread to flush or close.
A resume writes a SessionLog START at its step, from which TensorBoard's reader drops the steps logged after the
checkpoint (like `truncate_metrics` does for metrics.jsonl).
"""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ganlab.files import atomic_write

if TYPE_CHECKING:
    from ganlab.runs.store import Run

EVENTS_FILE = "events.out.tfevents.ganlab"  # TensorBoard reads any file whose name contains "tfevents"
SAMPLES_TAG = "samples/fixed_noise"
# metrics.jsonl key -> TensorBoard tag (the part before "/" is the section TensorBoard groups charts by).
TAGS = {
    "loss_d": "loss/D", "loss_g": "loss/G", "gp": "loss/gradient_penalty",
    "d_real": "D/D(x)", "d_fake": "D/D(G(z))",
    "critic_real": "D/critic(x)", "critic_fake": "D/critic(G(z))", "wasserstein": "D/wasserstein_estimate",
    "img_s": "speed/img_per_s", "epoch": "progress/epoch", "elapsed": "progress/elapsed_s",
    "fid": "quality/FID", "kid": "quality/KID", "kid_std": "quality/KID_std",
}
SKIPPED_KEYS = {"step", "eta", "n_fake", "n_real", "seconds"}  # bookkeeping, not curves
log = logging.getLogger(__name__)


def available() -> bool:
    """Whether event files are written: tensorboard is importable and GANLAB_TENSORBOARD is not 0/false/no."""
    if os.environ.get("GANLAB_TENSORBOARD", "").lower() in ("0", "false", "no"):
        return False
    return importlib.util.find_spec("tensorboard") is not None


def scalars(record: dict[str, Any]) -> Iterator[tuple[str, float]]:
    """(tag, value) for the numbers of one metrics.jsonl record; class shares become quality/class_share/<i>."""
    for key, value in record.items():
        if key in SKIPPED_KEYS or isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            yield TAGS.get(key, f"other/{key}"), float(value)
        elif key == "coverage" and isinstance(value, list):
            for i, share in enumerate(value):
                if isinstance(share, (int, float)):
                    yield f"quality/class_share/{i}", float(share)


def log_records(folder: Path, records: Iterable[dict[str, Any]]) -> None:
    """Append the scalars of metric records to the run's event file (no-op without tensorboard)."""
    if available():
        _append(folder, lambda: [_scalar_event(r, None) for r in records if isinstance(r.get("step"), int)])


def log_image(folder: Path, step: int, png: bytes, size: tuple[int, int], mode: str) -> None:
    """Append a PNG (the fixed-noise grid of a step) to the run's event file (no-op without tensorboard)."""
    if available():
        _append(folder, lambda: [_image_event(step, png, size, mode, None)])


def mark_restart(folder: Path, step: int) -> None:
    """Record that training continues after `step` (its checkpoint): TensorBoard drops what was logged after it."""
    if available() and (folder / EVENTS_FILE).is_file():
        # The reader purges events at steps >= a START's step: mark the first step that will be logged again.
        _append(folder, lambda: [_restart_event(step + 1)])


def write_run_events(run: Run) -> Path:
    """(Re)write a run's event file from metrics.jsonl and samples/: for runs trained without tensorboard."""
    if importlib.util.find_spec("tensorboard") is None:
        raise ValueError("tensorboard is not installed: pip install tensorboard (or pip install 'ganlab[tensorboard]')")
    from PIL import Image

    try:  # when the run was made (status.json is written by its lifecycle owner; read here, never written)
        started = float(json.loads((run.path / "status.json").read_text(encoding="utf-8")).get("created"))
    except (OSError, ValueError, TypeError, AttributeError):
        started = time.time()
    events = []
    for record in run.read_metrics():
        if isinstance(record, dict) and isinstance(record.get("step"), int):
            elapsed = record.get("elapsed")
            wall = started + float(elapsed) if isinstance(elapsed, (int, float)) else None
            events.append(_scalar_event(record, wall))
    for step, path in run.sample_paths():
        png = path.read_bytes()
        with Image.open(io.BytesIO(png)) as image:
            events.append(_image_event(step, png, image.size, image.mode, path.stat().st_mtime))
    events.sort(key=lambda e: e.step)
    target = run.path / EVENTS_FILE
    atomic_write(target, lambda fh: _write_events(fh, [_file_version(started), *events]))
    return target


# --------------------------------------------------------------------------- event encoding


def _file_version(wall_time: float | None = None) -> Any:
    from tensorboard.compat.proto import event_pb2

    return event_pb2.Event(wall_time=wall_time or time.time(), file_version="brain.Event:2")


def _scalar_event(record: dict[str, Any], wall_time: float | None) -> Any:
    from tensorboard.compat.proto import event_pb2, summary_pb2

    values = [summary_pb2.Summary.Value(tag=tag, simple_value=value) for tag, value in scalars(record)]
    return event_pb2.Event(wall_time=wall_time or time.time(), step=int(record["step"]),
                           summary=summary_pb2.Summary(value=values))


def _restart_event(step: int) -> Any:
    from tensorboard.compat.proto import event_pb2

    return event_pb2.Event(wall_time=time.time(), step=step,
                           session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START))


def _image_event(step: int, png: bytes, size: tuple[int, int], mode: str, wall_time: float | None) -> Any:
    from tensorboard.compat.proto import event_pb2, summary_pb2

    colorspace = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}.get(mode, 3)
    image = summary_pb2.Summary.Image(width=size[0], height=size[1], colorspace=colorspace,
                                      encoded_image_string=png)
    value = summary_pb2.Summary.Value(tag=SAMPLES_TAG, image=image)
    return event_pb2.Event(wall_time=wall_time or time.time(), step=step, summary=summary_pb2.Summary(value=[value]))


def _write_events(fh: BinaryIO, events: list[Any]) -> None:
    from tensorboard.summary.writer.record_writer import RecordWriter

    writer = RecordWriter(fh)
    for event in events:
        writer.write(event.SerializeToString())


def _append(folder: Path, build: Callable[[], list[Any]]) -> None:
    """Append events to folder/EVENTS_FILE (a new file starts with its version record); never fails training."""
    try:
        events = build()
        if not events:
            return
        with open(folder / EVENTS_FILE, "ab") as fh:
            if fh.tell() == 0:
                events = [_file_version(), *events]
            _write_events(fh, events)
    except (OSError, ImportError) as exc:  # an optional side log: a full disk also shows in metrics and checkpoints
        log.warning("TensorBoard events for %s not written: %s", folder.name, exc)


def read_events(path: Path) -> dict[str, dict[str, int]]:
    """{"scalars": {tag: points}, "images": {tag: count}} of an event file, read with tensorboard's own reader."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(path), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    tags = acc.Tags()
    return {"scalars": {t: len(acc.Scalars(t)) for t in tags["scalars"]},
            "images": {t: len(acc.Images(t)) for t in tags["images"]}}
