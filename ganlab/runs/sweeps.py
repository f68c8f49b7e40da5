"""Sweep folders: which runs a sweep queued (sweeps/<id>/sweep.json beside the runs) and how they came out."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganlab import paths
from ganlab.config.sweep import SweepError, SweepPlan, value_text
from ganlab.files import atomic_write_bytes
from ganlab.runs.lifecycle import state_of
from ganlab.runs.quality import final_quality, kind
from ganlab.runs.store import Run, RunError, open_run

SWEEPS = "sweeps"  # folder beside the run folders (it has no config.json, so it is never taken for a run)


@dataclass
class Sweep:
    """A sweep's record: its plan, a name, and the run each cell trains (None until the run is made)."""

    path: Path
    plan: SweepPlan
    name: str = ""
    created: float = 0.0
    runs: list[str | None] = field(default_factory=list)  # one per cell of plan.cells(), same order

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def runs_root(self) -> Path:
        return self.path.parent.parent

    @property
    def title(self) -> str:
        axes = " × ".join(f"{a.field} ({len(a.values)})" for a in self.plan.axes)
        return f"{self.name or self.id}: {axes}, {self.plan.budget_text} each"

    def save(self) -> None:
        data = {"name": self.name, "created": self.created, "plan": self.plan.to_dict(), "runs": self.runs}
        atomic_write_bytes(self.path / "sweep.json", json.dumps(data, indent=2).encode())

    def record_run(self, index: int, run: Run) -> None:
        """Note that cell `index` trains `run` (written at once: a crash later still knows the runs made)."""
        self.runs[index] = run.id
        self.save()


def _root(root: Path | None) -> Path:
    return Path(root) if root else paths.runs_dir()


def create_sweep(plan: SweepPlan, name: str = "", root: Path | None = None) -> Sweep:
    """A new sweep folder with its record; cells get their runs through record_run."""
    folder = _root(root) / SWEEPS
    folder.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-zA-Z0-9_.-]+", "-", name or "sweep").strip("-.")[:40] or "sweep"
    while True:
        number = 1 + max((int(p.name[:5]) for p in folder.iterdir() if p.name[:5].isdigit()), default=-1)
        path = folder / f"{number:05d}-{slug}"
        try:
            path.mkdir()  # atomic: two launches racing for a number cannot both win
            break
        except FileExistsError:
            continue
    sweep = Sweep(path, plan, name=name, created=time.time(), runs=[None] * plan.size)
    sweep.save()
    return sweep


def open_sweep(sweep_id: str, root: Path | None = None) -> Sweep:
    """The sweep with this folder name; SweepError when it is missing or its record unreadable."""
    if not sweep_id or "/" in sweep_id or "\\" in sweep_id or sweep_id in (".", ".."):
        raise SweepError(f"sweep id {sweep_id!r} is not a sweep folder name")
    path = _root(root) / SWEEPS / sweep_id
    try:
        data = json.loads((path / "sweep.json").read_text(encoding="utf-8"))
        plan = SweepPlan.from_dict(data["plan"])
        runs = [r if isinstance(r, str) else None for r in data.get("runs", [])]
    except FileNotFoundError:
        raise SweepError(f"no sweep named {sweep_id!r} in {path.parent}") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SweepError(f"sweep {sweep_id!r} has an unreadable sweep.json: {exc}") from None
    runs = (runs + [None] * plan.size)[: plan.size]
    return Sweep(path, plan, name=str(data.get("name", "")), created=float(data.get("created", 0.0)), runs=runs)


def list_sweeps(root: Path | None = None) -> list[Sweep]:
    """Every readable sweep, newest first (an unreadable record is left out, not an error for the others)."""
    folder = _root(root) / SWEEPS
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.iterdir(), reverse=True):
        try:
            out.append(open_sweep(path.name, root))
        except SweepError:
            continue
    return out


@dataclass(frozen=True)
class Cell:
    """How one run of a sweep came out: its settings, state, newest grid and final quality."""

    values: dict[str, Any]
    run: Run | None
    state: str  # a RunState value, "not started" or "deleted"
    grid: Path | None = None
    grid_step: int = 0
    quality: dict[str, Any] | None = None  # the newest quality record with a finite "fid"

    @property
    def label(self) -> str:
        return " · ".join(f"{k}={value_text(v)}" for k, v in self.values.items())

    @property
    def score(self) -> float | None:
        return float(self.quality["fid"]) if self.quality else None


def sweep_cells(sweep: Sweep) -> list[Cell]:
    """One Cell per combination of the plan, in plan order (row by row)."""
    cells = []
    for values, run_id in zip(sweep.plan.cells(), sweep.runs):
        if run_id is None:
            cells.append(Cell(values, None, "not started"))
            continue
        try:
            run = open_run(run_id, sweep.runs_root)
        except RunError:
            cells.append(Cell(values, None, "deleted"))
            continue
        grids = run.sample_paths()
        step, grid = grids[-1] if grids else (0, None)
        cells.append(Cell(values, run, state_of(run), grid, step, final_quality(run.read_metrics())))
    return cells


def winner(cells: list[Cell]) -> Cell | None:
    """The cell with the lowest final quality number among those measured alike (same extractor and sample
    count as most cells: numbers of different feature spaces do not compare); None when no cell has one."""
    scored = [c for c in cells if c.quality is not None]
    if not scored:
        return None
    kinds = [kind(c.quality) for c in scored]
    common = max(set(kinds), key=kinds.count)
    alike = [c for c, k in zip(scored, kinds) if k == common]
    return min(alike, key=lambda c: c.score)
