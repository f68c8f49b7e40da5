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


CLASSED = [c for c in CARDS if (c.get("metrics") or {}).get("coverage")]
MEASURED = [(c, block) for c in CARDS for block in [c.get("metrics") or {}, *c.get("more_metrics", [])] if "fid" in block]


@pytest.mark.parametrize("card", CLASSED, ids=[c["name"] for c in CLASSED])
def test_labelled_generators_cover_every_class(card: dict) -> None:
    coverage = card["metrics"]["coverage"]
    assert len(coverage) == 10 and abs(sum(coverage) - 1) < 1e-3
    assert min(coverage) > 0.0, f"{card['name']} never generates class {coverage.index(0.0)}"


def test_every_card_is_measured_by_its_datasets_extractor_and_the_generic_one() -> None:
    for card in CARDS:
        blocks = [card.get("metrics") or {}, *card.get("more_metrics", [])]
        assert "random-conv-v1" in {b.get("extractor") for b in blocks}, f"{card['name']} lacks the generic metric"
        assert all("fid" in b and b["real_floor_fid"] < b["fid"] for b in blocks), card["name"]


@pytest.mark.slow
@pytest.mark.parametrize("card,block", MEASURED, ids=[f"{c['name']}-{b['extractor']}" for c, b in MEASURED])
def test_card_metrics_reproduce_from_shipped_weights(card: dict, block: dict) -> None:
    spec = importlib.util.spec_from_file_location("evaluate_pretrained",
                                                  Path(paths.repo_root()) / "scripts" / "evaluate_pretrained.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    again = module.evaluate(card, extractor_name=block["extractor"])
    assert again["fid"] == pytest.approx(block["fid"], rel=0.02, abs=1e-3)  # seeded, fp32: the same up to kernels
    assert again["kid"] == pytest.approx(block["kid"], rel=0.05, abs=block["kid_std"])
    if block["coverage"]:
        assert again["coverage"] == pytest.approx(block["coverage"], abs=0.005)
