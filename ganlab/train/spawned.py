"""Entry point of a job's worker process: `python -m ganlab.train.spawned FD` (see ganlab.train.runner)."""

from __future__ import annotations

import sys
from multiprocessing.connection import Connection

from ganlab.train.worker import work


def main(argv: list[str]) -> int:
    """Read the WorkOrder from the inherited connection descriptor, then work."""
    conn = Connection(int(argv[0]))
    try:
        order = conn.recv()
    except EOFError:
        return 1
    work(conn, order)
    conn.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
