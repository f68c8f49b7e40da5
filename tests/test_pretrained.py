"""Shipped generators: every card rebuilds its generator, images have the stated shape, metrics reproduce."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from ganlab import paths
from ganlab.explore import load_generator
from ganlab.runs.export import list_pretrained

CARDS = list_pretrained(paths.pretrained_dir())
EXPECTED = {"digits-dcgan", "fashion-dcgan", "fashion-wgangp", "fashion-mlp", "fashion-cdcgan", "emoji-dcgan"}


def test_every_promised_generator_ships_with_a_card() -> None:
    assert EXPECTED <= {card["name"] for card in CARDS}


def test_pretrained_folder_fits_the_40_mb_budget() -> None:
    total = sum(p.stat().st_size for p in paths.pretrained_dir().rglob("*") if p.is_file())
    assert total < 40 * 2**20, f"pretrained/ is {total / 2**20:.1f} MB"


@pytest.mark.parametrize("card", CARDS, ids=[c["name"] for c in CARDS])
def test_pretrained_generator_rebuilds_from_card_with_stated_shape(card: dict) -> None:
    loaded = load_generator(card["path"])
    mc = card["model_config"]
    labels = torch.arange(4) % mc["num_classes"] if mc["num_classes"] else None
    with torch.no_grad():
        images = loaded.generator(torch.randn(4, mc["z_dim"]), labels)
    assert images.shape == (4, mc["img_channels"], mc["img_size"], mc["img_size"])
    assert images.min() >= -1 and images.max() <= 1 and images.std() > 0.05
    for key in ("dataset", "train_config", "steps", "wall_clock_seconds", "machine", "precision", "command"):
        assert key in card, f"{card['name']} card lacks {key}"
    assert loaded.class_names == tuple(card["class_names"])


@pytest.mark.parametrize("card", [c for c in CARDS if "fid" in (c.get("metrics") or {})],
                         ids=[c["name"] for c in CARDS if "fid" in (c.get("metrics") or {})])
def test_fashion_generators_cover_every_class_or_card_says_so(card: dict) -> None:
    coverage = card["metrics"]["coverage"]
    assert coverage is not None and len(coverage) == 10 and abs(sum(coverage) - 1) < 1e-3
    assert min(coverage) > 0.0, f"{card['name']} never generates class {coverage.index(0.0)}"


@pytest.mark.slow
@pytest.mark.parametrize("card", [c for c in CARDS if "fid" in (c.get("metrics") or {})],
                         ids=[c["name"] for c in CARDS if "fid" in (c.get("metrics") or {})])
def test_card_metrics_reproduce_from_shipped_weights(card: dict) -> None:
    spec = importlib.util.spec_from_file_location("evaluate_pretrained",
                                                  Path(paths.repo_root()) / "scripts" / "evaluate_pretrained.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    again = module.evaluate(card)
    stated = card["metrics"]
    assert again["fid"] == pytest.approx(stated["fid"], rel=0.02, abs=0.05)
    assert again["kid"] == pytest.approx(stated["kid"], rel=0.05, abs=0.005)
    assert again["coverage"] == pytest.approx(stated["coverage"], abs=0.005)
