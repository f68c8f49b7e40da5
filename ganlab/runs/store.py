"""Run store: one self-describing folder per run (config, metrics, samples, checkpoints; status in lifecycle.py)."""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from ganlab import paths
from ganlab.config import ConfigError, TrainConfig
from ganlab.files import atomic_write_bytes
from ganlab.runs import tensorboard


class RunError(ValueError):
    """A run folder is missing, malformed or the operation on it is not allowed."""


MAX_SAMPLES = 500  # sample grids kept per run before older ones are thinned


def _slug(text: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_.-]+", "-", text).strip("-.")[:40] or "run"


@dataclass
class Run:
    """A handle on a run folder; cheap to create, reads files on demand."""

    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def samples_dir(self) -> Path:
        return self.path / "samples"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def latest_checkpoint(self) -> Path | None:
        latest = self.checkpoints_dir / "latest.pt"
        return latest if latest.is_file() else None

    def config(self) -> TrainConfig:
        if not self.config_path.is_file():
            raise RunError(f"run {self.id} has no config.json")
        try:
            return TrainConfig.load(self.config_path)
        except ConfigError as exc:
            raise RunError(f"run {self.id}: config.json is invalid: {exc}") from None

    def write_config(self, config: TrainConfig) -> None:
        atomic_write_bytes(self.config_path, config.to_json().encode())

    @property
    def display_name(self) -> str:
        try:
            return (self.path / "name.txt").read_text(encoding="utf-8").strip() or self.id
        except OSError:
            return self.id

    # ---- metrics and samples
    def append_metrics(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        with open(self.metrics_path, "a", encoding="utf-8") as fh:
            fh.write("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))
        tensorboard.log_records(self.path, records)

    def read_metrics(self) -> list[dict[str, Any]]:
        """All metric records; a line cut short by a crash is skipped, not fatal."""
        if not self.metrics_path.is_file():
            return []
        out = []
        with open(self.metrics_path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    out.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        return out

    def truncate_metrics(self, after_step: int) -> None:
        """Drop records logged after after_step (a resume restarts there) and lines cut short by a crash."""
        records = self.read_metrics()
        kept = [r for r in records if isinstance(r, dict) and isinstance(r.get("step", 0), (int, float))
                and r.get("step", 0) <= after_step]
        if self.metrics_path.is_file() and (len(kept) != len(records) or not self._metrics_end_clean()):
            text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in kept)
            atomic_write_bytes(self.metrics_path, text.encode())
        tensorboard.mark_restart(self.path, after_step)

    def _metrics_end_clean(self) -> bool:
        with open(self.metrics_path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            if fh.tell() == 0:
                return True
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"

    def sample_paths(self) -> list[tuple[int, Path]]:
        """(step, path) of every saved fixed-noise grid, oldest first."""
        return _by_step(self.samples_dir.glob("step_*.png"), r"step_(\d+)\.png")

    def sample_near(self, step: int) -> tuple[int, Path] | None:
        """The grid saved at the largest step <= step (or the first one)."""
        samples = self.sample_paths()
        if not samples:
            return None
        before = [s for s in samples if s[0] <= step]
        return before[-1] if before else samples[0]

    def step_checkpoints(self) -> list[Path]:
        """The kept step_<N>.pt checkpoints, oldest first by their step number (not by file name)."""
        return [p for _, p in _by_step(self.checkpoints_dir.glob("step_*.pt"), r"step_(\d+)\.pt")]

    def prune_checkpoints(self, keep: int) -> None:
        """Delete all but the newest `keep` step checkpoints (latest.pt is never touched)."""
        steps = self.step_checkpoints()
        for old in steps[:-keep] if keep > 0 else steps:
            old.unlink(missing_ok=True)

    def save_sample(self, image: Image.Image, step: int, keep: int = MAX_SAMPLES) -> Path:
        """Write the fixed-noise grid of a step as samples/step_<N>.png, atomically; past `keep` grids, thin
        the older half (every other one goes) so the folder stays bounded and the history slider spans it all."""
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        path = self.samples_dir / f"step_{step:06d}.png"
        atomic_write_bytes(path, buffer.getvalue())
        samples = self.sample_paths()
        if len(samples) > keep:
            older = samples[1 : len(samples) // 2]  # the first grid (the untrained G) always stays
            for _, old in older[1::2]:
                old.unlink(missing_ok=True)
        tensorboard.log_image(self.path, step, buffer.getvalue(), image.size, image.mode)
        return path


def make_run_folder(config: TrainConfig, root: Path | None = None) -> Path:
    """A new, never-colliding, empty run folder NNNNN-arch-dataset[-name] with samples/ and checkpoints/."""
    root = Path(root) if root else paths.runs_dir()
    root.mkdir(parents=True, exist_ok=True)
    label = _slug(f"{config.arch}-{config.dataset}" + (f"-{config.name}" if config.name else ""))
    while True:
        number = 1 + max((int(p.name[:5]) for p in root.iterdir() if p.name[:5].isdigit()), default=-1)
        path = root / f"{number:05d}-{label}"
        try:
            path.mkdir()  # atomic: two sessions racing for the same number cannot both win
            break
        except FileExistsError:
            continue
    (path / "samples").mkdir()
    (path / "checkpoints").mkdir()
    return path


def create_run(config: TrainConfig, root: Path | None = None, *, folder: Path | None = None) -> Run:
    """A run folder with its config (and name): a new one under root, or `folder` from make_run_folder.

    Training code creates runs through ganlab.runs.lifecycle.RunRecorder.create, which also locks them.
    """
    run = Run(folder if folder is not None else make_run_folder(config, root))
    run.write_config(config)
    if config.name:
        atomic_write_bytes(run.path / "name.txt", config.name.encode())
    return run


def open_run(run_id: str, root: Path | None = None) -> Run:
    """The run with this folder name; refuses names that would leave the runs folder."""
    root = Path(root) if root else paths.runs_dir()
    if not run_id or "/" in run_id or "\\" in run_id or run_id in (".", ".."):
        raise RunError(f"run id {run_id!r} is not a run folder name")
    path = root / run_id
    if not (path / "config.json").is_file():
        raise RunError(f"no run named {run_id!r} in {root}")
    return Run(path)


def list_runs(root: Path | None = None) -> list[Run]:
    """Every run folder under root, newest first."""
    root = Path(root) if root else paths.runs_dir()
    if not root.is_dir():
        return []
    runs = [Run(p) for p in root.iterdir() if (p / "config.json").is_file()]
    return sorted(runs, key=lambda r: r.id, reverse=True)


def _by_step(files: Iterable[Path], pattern: str) -> list[tuple[int, Path]]:
    """(step, path) for the files whose name matches pattern (one group: the step), sorted by step."""
    found = []
    for p in files:
        m = re.fullmatch(pattern, p.name)
        if m:
            found.append((int(m.group(1)), p))
    return sorted(found)
