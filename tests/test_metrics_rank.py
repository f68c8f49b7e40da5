"""Slow: the generic metric ranks checkpoints of two real training runs like the shipped classifier's FID
(scripts/rank_check.py; Spearman >= 0.9 pooled over both runs' checkpoints that the reference does not read as noise)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from ganlab.data.mnist import find_idx

ROOT = Path(__file__).resolve().parent.parent


def _script():
    spec = importlib.util.spec_from_file_location("rank_check", ROOT / "scripts" / "rank_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["digits", "fashion-mnist"])
def test_generic_metric_ranks_checkpoints_like_the_shipped_classifier(dataset, tmp_path):
    if dataset == "fashion-mnist" and find_idx("fashion-mnist", "test") is None:
        pytest.skip("Debian's dataset-fashion-mnist is not installed (apt install dataset-fashion-mnist)")
    script = _script()
    rows, corr = script.rank_check(dataset, None, n=1000, root=tmp_path)
    generic = corr["random-conv-v1"]
    # >= 8 checkpoints of both runs that the reference sees content in (not noise to it), ranked alike
    assert generic["ranked"] >= script.MIN_RANKED and generic["runs"] == 2, corr
    assert generic["fid"] >= 0.9, corr
