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


def test_checkpoints_the_reference_sees_no_sample_of_are_left_out_of_the_ranking_but_counted_in_all() -> None:
    script = _script()

    def row(run: str, ref_fd: float, generic_fd: float, seen: bool) -> dict:
        scores = {"precision": 0.3 if seen else 0.0, "recall": 0.0}
        return {"run": run, "step": 0, "digits": {"fid": ref_fd, "kid": ref_fd, **scores},
                "random-conv-v1": {"fid": generic_fd, "kid": generic_fd}, "rankable": seen}

    # Saturated checkpoints (the reference's FD ~190 in no order) disagree with the generic metric; seen ones agree.
    rows = [row("a", 192, 16, False), row("a", 189, 40, False), row("b", 203, 24, False),
            row("a", 27, 1.2, True), row("a", 11, 0.1, True), row("b", 86, 5.0, True), row("b", 57, 2.0, True)]
    generic = script.correlations(rows, "digits")["random-conv-v1"]
    assert (generic["ranked"], generic["runs"]) == (4, 2)
    assert generic["fid"] == 1.0 and generic["kid"] == 1.0  # ranked alike where the reference can rank
    assert generic["fid_all"] < 0.9  # over all checkpoints the saturated ones pull it down
