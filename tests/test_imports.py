"""The core package never imports Streamlit (it must run headless and in background threads)."""

from __future__ import annotations

import subprocess
import sys


def test_import_ganlab_does_not_import_streamlit() -> None:
    code = (
        "import sys, ganlab, ganlab.trainer, ganlab.jobs, ganlab.manager, ganlab.cli, ganlab.data, "
        "ganlab.checkpoint, ganlab.runs, ganlab.latent, ganlab.media\n"
        "assert 'streamlit' not in sys.modules, 'streamlit was imported'\nprint('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
