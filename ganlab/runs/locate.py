"""Finding a checkpoint file from what a user types: a file path, a run folder or a run id, plus best or latest."""

from __future__ import annotations

from pathlib import Path

from ganlab.runs.store import RunError, open_run

WHICH = ("latest", "best")  # checkpoints/latest.pt: the newest; checkpoints/best.pt: the best live quality so far
FILE_SUFFIXES = (".pt", ".safetensors", ".json")  # files; a run id may hold dots too (a sweep's "lr_g-0.0002")


def checkpoint_path(spec: str | Path, which: str = "latest", root: Path | None = None) -> Path:
    """The file to load: `spec` itself when it is a file (or does not name a run: the loader then says what is
    wrong), else checkpoints/<which>.pt of the run folder or run id `spec`."""
    if which not in WHICH:
        raise ValueError(f"which={which!r}: choose {' or '.join(WHICH)}")
    path = Path(spec)
    if path.is_file():
        return path
    if path.is_dir() and (path / "checkpoints").is_dir():
        folder = path
    elif path.suffix in FILE_SUFFIXES or path.is_dir() or len(path.parts) != 1 or not str(spec):
        return path  # a file name that is not there, a plain folder or a path: the loader names what is wrong
    else:
        try:
            folder = open_run(str(spec), root).path
        except RunError:
            return path  # neither a file nor a run: the loader's "does not exist" names the path
    found = folder / "checkpoints" / f"{which}.pt"
    if not found.is_file():
        hint = " (best.pt is written when the live quality metric improves; it needs quality_every > 0)"
        raise RunError(f"run {folder.name} has no {which}.pt yet{hint if which == 'best' else ''}")
    return found
