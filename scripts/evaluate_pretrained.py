"""Measure the shipped generators (FID/KID vs the test split, the real-data floor, class coverage) into their cards.

Run: python scripts/evaluate_pretrained.py [NAME ...]   (default: every card in pretrained/)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from ganlab.data import open_dataset  # noqa: E402
from ganlab.explore import load_generator  # noqa: E402
from ganlab.metrics import (  # noqa: E402
    compare,
    evaluate_generator,
    extract,
    extractor_by_name,
    get_extractor,
    real_feature_stats,
)
from ganlab.runs.export import list_pretrained  # noqa: E402

N_FAKE = 10_000
TEST_SUBSET = {"fashion-mnist": "test", "mnist": "test"}


def real_split(dataset: str, size: int, channels: int, test: bool) -> torch.Tensor:
    """Test split where the dataset has one; for digits the extractor's own stratified 20% hold-out."""
    if dataset in TEST_SUBSET:
        return open_dataset(dataset, size=size, channels=channels, subset=TEST_SUBSET[dataset] if test else "").images
    from sklearn.model_selection import train_test_split

    data = open_dataset(dataset, size=size, channels=channels)
    idx_train, idx_test = train_test_split(list(range(len(data))), test_size=0.2, stratify=data.labels.numpy(),
                                           random_state=0)  # the split of pretrained/extractors/digits.json
    return data.images[torch.tensor(idx_test if test else idx_train)]


def evaluate(card: dict, n_fake: int = N_FAKE, extractor_name: str | None = None) -> dict | None:
    """The card's metrics, measured again with the extractor the card names (so its numbers reproduce), or with
    `extractor_name`, or (cards without metrics) with the dataset's default extractor."""
    mc = card["model_config"]
    name = extractor_name or (card.get("metrics") or {}).get("extractor")
    if name:
        extractor = extractor_by_name(name, mc["img_channels"], mc["img_size"])
    else:
        extractor = get_extractor(card["dataset"], mc["img_channels"], mc["img_size"])
    if extractor is None:
        return None
    test = real_split(card["dataset"], mc["img_size"], mc["img_channels"], test=True)
    train = real_split(card["dataset"], mc["img_size"], mc["img_channels"], test=False)
    test_stats = real_feature_stats(extractor, test, max_count=len(test))
    generator = load_generator(card["path"]).generator
    result = evaluate_generator(generator, extractor, test_stats, n=n_fake, seed=0)
    floor_images = train[torch.randperm(len(train), generator=torch.Generator().manual_seed(1))[:n_fake]]
    feats, logits = extract(extractor, floor_images)
    floor = compare(feats, test_stats, logits, extractor.num_classes)
    return {
        "extractor": extractor.name,
        "n_fake": result["n_fake"],
        "n_real": result["n_real"],
        "fid": round(result["fid"], 3),
        "kid": round(result["kid"], 5),
        "kid_std": round(result["kid_std"], 5),
        "real_floor_fid": round(floor["fid"], 3),
        "real_floor_kid": round(floor["kid"], 5),
        "coverage": [round(c, 4) for c in result["coverage"]] if result["coverage"] else None,
        "real_floor_coverage": [round(c, 4) for c in floor["coverage"]] if floor["coverage"] else None,
        "against": "test split" if card["dataset"] in TEST_SUBSET else "stratified 20% hold-out (seed 0)",
        "command": f"python scripts/evaluate_pretrained.py {card['name']}"
                   + (f" --extractor {extractor_name}" if extractor_name else ""),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*")
    parser.add_argument("--extractor", default="", help="measure with this extractor instead of the card's own")
    args = parser.parse_args()
    torch.manual_seed(0)
    for card in list_pretrained():
        if args.names and card["name"] not in args.names:
            continue
        metrics = evaluate(card, extractor_name=args.extractor or None)
        path = Path(card.pop("path")).with_suffix(".json")
        card["metrics"] = metrics or {"note": f"no feature extractor for {card['dataset']}: no FID is reported"}
        path.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
        print(card["name"], json.dumps(card["metrics"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
