"""scripts/gpu_check.sh and .py without a GPU: a missing CUDA fails loudly, and the CPU rehearsal (--dry-run) runs
every step the GPU check runs (training, FID, explorer, a pinned job) with the same PASS lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import gpu_check  # noqa: E402

no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA: the check would run for real")


def _summary(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


@no_cuda
def test_the_one_command_check_fails_loudly_without_cuda() -> None:
    env = {**os.environ, "GANLAB_GPU_PYTHON": sys.executable}  # no install: this environment already has torch
    done = subprocess.run(["bash", str(ROOT / "scripts" / "gpu_check.sh"), "--skip-bench"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL: CUDA is available" in done.stdout
    assert _summary(done.stdout)["ok"] is False


def test_dry_run_runs_every_step_on_the_cpu(capsys: pytest.CaptureFixture) -> None:
    code = gpu_check.main(["--dry-run", "--skip-bench", "--train-seconds", "1", "--fid-samples", "200"])
    out = capsys.readouterr().out
    assert code == 0, out
    for heading in ("== versions and cards", "s of training on cpu, then FID", "== explorer latency on cpu",
                    "== a job of the app's queue"):
        assert heading in out
    assert "FAIL" not in out and out.count("PASS") >= 6
    assert "FID " in out and "pinned to cpu" in out
    assert Path(os.environ["GANLAB_HOME"]).name.startswith("ganlab-gpu-check-")  # its runs stayed out of yours
    assert _summary(out) == {"ok": True, "failed": []}
