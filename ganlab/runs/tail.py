"""metrics.jsonl read incrementally: one parsed copy per run, extended by the lines appended since the last read."""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any


class MetricsTail:
    """Parsed metric records of many runs, re-reading only what was appended (a live run's file grows every
    tick; a page that polls it must not keep a parsed copy per change). Bounded to `max_runs` runs (LRU)."""

    def __init__(self, max_runs: int = 64) -> None:
        self.max_runs = max_runs
        self._lock = threading.Lock()
        self._files: OrderedDict[str, tuple[int, int, list[dict[str, Any]]]] = OrderedDict()  # inode, offset, records

    def records(self, path: Path) -> list[dict[str, Any]]:
        """All complete records of the file (a last line cut short by a crash is left for the next read)."""
        key = str(path)
        try:
            stat = os.stat(path)
        except OSError:
            with self._lock:
                self._files.pop(key, None)
            return []
        with self._lock:
            inode, offset, records = self._files.get(key, (stat.st_ino, 0, []))
            if inode != stat.st_ino or stat.st_size < offset:  # replaced (truncated on resume): start again
                offset, records = 0, []
            if stat.st_size > offset:
                with open(path, "rb") as fh:
                    fh.seek(offset)
                    chunk = fh.read(stat.st_size - offset)
                complete = chunk.rfind(b"\n") + 1
                for line in chunk[:complete].splitlines():
                    try:
                        records.append(json.loads(line))
                    except ValueError:
                        continue  # a line broken by a crash in the middle of the file
                offset += complete
            self._files[key] = (stat.st_ino, offset, records)
            self._files.move_to_end(key)
            while len(self._files) > self.max_runs:
                self._files.popitem(last=False)
            return list(records)
