"""Disk budgets for what GAN Lab keeps on its own: extracted uploads and folder caches, evicted least-recently-used."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

DEFAULT_BUDGET_MB = 8192  # per kind (uploads, folder caches); $GANLAB_CACHE_BUDGET_MB overrides it


def budget_bytes() -> int:
    env = os.environ.get("GANLAB_CACHE_BUDGET_MB", "").strip()
    try:
        return int(float(env) * 1024**2) if env else DEFAULT_BUDGET_MB * 1024**2
    except ValueError:
        return DEFAULT_BUDGET_MB * 1024**2


def touch(path: Path) -> None:
    """Mark an entry as used now (its modification time is its last use)."""
    with contextlib.suppress(OSError):
        os.utime(path)


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def evict(entries: Iterable[list[Path]], budget: int, keep: Iterable[Path] = ()) -> list[Path]:
    """Delete whole entries (each a list of paths that belong together), oldest use first, until their total
    size fits the budget; entries holding a path in `keep` (in use now) stay. Returns what was deleted."""
    kept = {Path(p).resolve() for p in keep}
    sized = []
    for group in entries:
        group = [p for p in group if p.exists()]
        if not group:
            continue
        used = max(p.stat().st_mtime for p in group)
        sized.append((used, sum(_size(p) for p in group), group))
    total = sum(size for _, size, _ in sized)
    removed: list[Path] = []
    for _, size, group in sorted(sized, key=lambda e: e[0]):
        if total <= budget:
            break
        if any(p.resolve() in kept for p in group):
            continue
        for p in group:
            with contextlib.suppress(OSError):
                shutil.rmtree(p) if p.is_dir() else p.unlink()
            removed.append(p)
        total -= size
    return removed
