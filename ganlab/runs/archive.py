"""Zips to download: a run folder (bounded in size, written file by file in chunks) and an exported model."""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ganlab import paths
from ganlab.runs.export import check_model_name
from ganlab.runs.store import Run, RunError

RUN_ZIP_LIMIT = 256 * 2**20  # the app serves a download from memory: a run zip holds at most this many bytes
CHUNK = 2**20
STORED_SUFFIXES = (".png", ".gif", ".mp4", ".zip")  # already compressed: deflating them only costs time


@dataclass
class RunZipPlan:
    """What a run zip holds: (file, name in the zip) pairs, their total size, and what was left out and why."""

    run_id: str
    members: list[tuple[Path, str]] = field(default_factory=list)
    total_bytes: int = 0
    left_out: list[str] = field(default_factory=list)

    def note(self) -> str:
        """The README.txt of the zip: what is in it, what is not and why."""
        lines = [f"GAN Lab run {self.run_id}: {len(self.members)} files, "
                 f"{self.total_bytes / 1e6:.1f} MB before compression."]
        lines += [f"Left out: {item}" for item in self.left_out]
        return "\n".join(lines) + "\n"


def plan_run_zip(run: Run, limit: int = RUN_ZIP_LIMIT) -> RunZipPlan:
    """Every file of the run except the older step checkpoints; checkpoints/latest.pt only if it fits the limit.

    Raises RunError when the run's other files alone exceed the limit (copy the folder itself then).
    """
    if not run.path.is_dir():
        raise RunError(f"run {run.id} does not exist any more")
    plan = RunZipPlan(run.id)
    step_checkpoints = set(run.step_checkpoints())
    latest = run.latest_checkpoint
    for path in sorted(p for p in run.path.rglob("*") if p.is_file() and not p.is_symlink()):
        if path.name.startswith(".") or path in step_checkpoints or path == latest:
            continue  # temp files of writes in progress; checkpoints are decided below
        plan.members.append((path, f"{run.id}/{path.relative_to(run.path).as_posix()}"))
        plan.total_bytes += path.stat().st_size
    if plan.total_bytes > limit:
        raise RunError(f"run {run.id} holds {plan.total_bytes / 1e6:.1f} MB besides its checkpoints, over the "
                       f"{limit / 1e6:.1f} MB a download may have; copy the folder {run.path} instead")
    if step_checkpoints:
        plan.left_out.append(f"{len(step_checkpoints)} older step checkpoint(s) in checkpoints/ "
                             "(latest.pt resumes the run and holds the newest weights)")
    if latest is not None:
        size = latest.stat().st_size
        if plan.total_bytes + size <= limit:
            plan.members.append((latest, f"{run.id}/checkpoints/latest.pt"))
            plan.total_bytes += size
        else:
            plan.left_out.append(f"checkpoints/latest.pt ({size / 1e6:.1f} MB): the zip would exceed "
                                 f"{limit / 1e6:.1f} MB; copy it from {latest}")
    return plan


def write_run_zip(run: Run, out: BinaryIO, limit: int = RUN_ZIP_LIMIT) -> RunZipPlan:
    """Write the zip of plan_run_zip to out, each file in chunks (never a whole file in memory)."""
    plan = plan_run_zip(run, limit)
    with zipfile.ZipFile(out, "w") as archive:
        for path, name in plan.members:
            compression = zipfile.ZIP_STORED if path.suffix in STORED_SUFFIXES else zipfile.ZIP_DEFLATED
            with open(path, "rb") as src:
                # The size of the version opened: a checkpoint replaced meanwhile (atomic rename) is still read
                # whole from this handle, and a file that grows (metrics of a live run) is cut at this size.
                remaining = os.fstat(src.fileno()).st_size
                info = zipfile.ZipInfo.from_file(path, name)
                info.compress_type = compression
                with archive.open(info, "w", force_zip64=remaining > 2**31) as dst:
                    while remaining > 0 and (chunk := src.read(min(CHUNK, remaining))):
                        dst.write(chunk)
                        remaining -= len(chunk)
        archive.writestr(f"{run.id}/README.txt", plan.note(), compress_type=zipfile.ZIP_DEFLATED)
    return plan


def run_zip_bytes(run: Run, limit: int = RUN_ZIP_LIMIT) -> bytes:
    """The run zip as bytes for a download button: written to a temp file on disk first, so the only copy in
    memory is the finished zip (at most `limit` bytes plus its small README)."""
    with tempfile.TemporaryFile(dir=paths.cache_dir()) as tmp:
        write_run_zip(run, tmp, limit)
        tmp.seek(0)
        return tmp.read()


def model_files(name: str, folder: Path | None = None) -> tuple[Path, Path]:
    """(weights, card) of an exported or shipped model; RunError when either file is missing."""
    folder = Path(folder) if folder else paths.pretrained_dir()
    check_model_name(name, folder, overwrite=True)  # only the name's form: it must stay inside the folder
    weights, card = folder / f"{name}.safetensors", folder / f"{name}.json"
    missing = [p.name for p in (weights, card) if not p.is_file()]
    if missing:
        raise RunError(f"model {name!r} is incomplete or missing in {folder}: no {', '.join(missing)}")
    return weights, card


def model_zip_bytes(name: str, folder: Path | None = None) -> bytes:
    """<name>.zip holding <name>.safetensors and <name>.json (a model is a few MB: built in memory)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in model_files(name, folder):
            archive.write(path, path.name, compress_type=zipfile.ZIP_STORED if path.suffix == ".safetensors"
                          else zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
