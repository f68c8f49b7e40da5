"""Retake the README screenshots (docs/screenshots/*.png, 1400x900) by running the browser test against the real app.

Usage: python scripts/screenshots.py   (needs Chromium and playwright, like tests/e2e; about a minute)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "docs" / "screenshots"
EXPECTED = ("home", "train", "runs", "sweep", "explore", "playground")


def main() -> int:
    # One code path for test and pictures: the e2e flow saves a screenshot at each page when asked to.
    env = dict(os.environ, GANLAB_SCREENSHOTS="1", GANLAB_E2E="1")
    result = subprocess.run([sys.executable, "-m", "pytest", "tests/e2e", "-q", "-x", "-p", "no:cacheprovider"],
                            cwd=ROOT, env=env, check=False)
    if result.returncode != 0:
        print("the browser flow failed; screenshots may be missing or stale", file=sys.stderr)
        return result.returncode
    missing = [name for name in EXPECTED if not (SHOTS / f"{name}.png").is_file()]
    for name in EXPECTED:
        if name not in missing:
            print(SHOTS.relative_to(ROOT) / f"{name}.png")
    if missing:
        print(f"not taken: {', '.join(missing)} (a page that is not in the app yet is skipped)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
