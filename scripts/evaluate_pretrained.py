"""Measure the shipped generators (FID/KID vs the test split, the real-data floor, class coverage) into their cards.

Run: python scripts/evaluate_pretrained.py [NAME ...]   (default: every card in pretrained/)

`metrics` uses the dataset's default extractor (the one the app's live metric uses), `more_metrics` the others
asked for with --also (default: the dataset-agnostic random-conv-v1), so a card answers with both.
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


def real_split(card: dict, size: int, channels: int, test: bool) -> torch.Tensor:
    """Test split where the dataset has one; for digits the extractor's own stratified 20% hold-out; for sets
    without either (emoji) a seeded half of the images, the other half giving the real-data floor."""
    dataset = card["dataset"]
    if dataset in TEST_SUBSET:
        return open_dataset(dataset, size=size, channels=channels, subset=TEST_SUBSET[dataset] if test else "").images
    from sklearn.model_selection import train_test_split

    if dataset == "digits":
        data = open_dataset(dataset, size=size, channels=channels)
        idx_train, idx_test = train_test_split(list(range(len(data))), test_size=0.2, stratify=data.labels.numpy(),
                                               random_state=0)  # the split of pretrained/extractors/digits.json
    else:
        tc = card["train_config"]
        data = open_dataset(tc["dataset"], size=size, channels=channels, subset=tc.get("data_subset") or "")
        idx_train, idx_test = train_test_split(list(range(len(data))), test_size=0.5, random_state=0)
    return data.images[torch.tensor(idx_test if test else idx_train)]


def against(dataset: str) -> str:
    """What the real side of a card's metric is."""
    if dataset in TEST_SUBSET:
        return "test split"
    if dataset == "digits":
        return "stratified 20% hold-out (seed 0)"
    return "a random half of the training images (seed 0); the floor is the other half"


def evaluate(card: dict, n_fake: int = N_FAKE, extractor_name: str | None = None, command: str = "") -> dict | None:
    """One metrics block for the card: with `extractor_name`, else the dataset's default extractor."""
    mc = card["model_config"]
    if extractor_name:
        extractor = extractor_by_name(extractor_name, mc["img_channels"], mc["img_size"])
    else:
        extractor = get_extractor(card["dataset"], mc["img_channels"], mc["img_size"])
    if extractor is None:
        return None
    test = real_split(card, mc["img_size"], mc["img_channels"], test=True)
    train = real_split(card, mc["img_size"], mc["img_channels"], test=False)
    test_stats = real_feature_stats(extractor, test, max_count=len(test))
    generator = load_generator(card["path"]).generator
    result = evaluate_generator(generator, extractor, test_stats, n=n_fake, seed=0)
    floor_images = train[torch.randperm(len(train), generator=torch.Generator().manual_seed(1))[:n_fake]]
    feats, logits = extract(extractor, floor_images)
    floor = compare(feats, test_stats, logits, extractor.num_classes)
    block = {
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
        "against": against(card["dataset"]),
        "command": command or f"python scripts/evaluate_pretrained.py {card['name']}",
    }
    for key in ("precision", "recall", "density", "knn_coverage"):  # fidelity and diversity apart
        if result.get(key) is not None:
            block[key] = round(float(result[key]), 4)
    return block


def measure(card: dict, also: list[str]) -> tuple[dict, list[dict]]:
    """(metrics, more_metrics) of a card: its dataset's default extractor, then each of `also` not already used."""
    command = f"python scripts/evaluate_pretrained.py {card['name']}" + "".join(f" --also {a}" for a in also)
    metrics = evaluate(card, command=command)
    more = [evaluate(card, extractor_name=name, command=command) for name in also
            if metrics is None or name != metrics["extractor"]]
    if metrics is None:
        metrics = {"note": f"no feature extractor for {card['dataset']}: no FID is reported"}
    return metrics, [m for m in more if m]


def table(cards: list[dict]) -> str:
    """The README's table of shipped generators, from their cards."""
    lines = ["| model | data | architecture / loss | size | G steps | train time | FID, shipped classifier at all depths "
             "(real floor) | FD random-conv-v1 (floor) | precision / recall (random-conv-v1) | class share min–max |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    order = ["digits-dcgan", "fashion-dcgan", "fashion-wgangp", "fashion-mlp", "fashion-cdcgan", "emoji-dcgan"]
    for card in sorted(cards, key=lambda c: (order.index(c["name"]) if c["name"] in order else len(order), c["name"])):
        tc, mc = card["train_config"], card["model_config"]
        blocks = {b["extractor"]: b for b in [card.get("metrics") or {}, *card.get("more_metrics", [])] if "fid" in b}
        own = next((b for name, b in blocks.items() if name.endswith("-layers")), None)
        generic = blocks.get("random-conv-v1")
        arch = ("conditional " if mc["num_classes"] else "") + mc["arch"].upper().replace("MLP", "MLP GAN")
        size = f"{mc['img_size']} px " + ("RGB" if mc["img_channels"] == 3 else "×1")
        shares = (own or {}).get("coverage")
        lines.append(" | ".join([
            f"| `{card['name']}`", card["dataset"], f"{arch} / {card['loss'].upper()}"
            + (f", {tc['d_steps']} critic steps" if tc.get("d_steps", 1) > 1 else ""), size, f"{card['steps']:,}",
            f"{card['train_seconds'] / 60:.0f} min",
            f"{own['fid']:.2f} ({own['real_floor_fid']:.2f})" if own else "—",
            f"{generic['fid']:.3f} ({generic['real_floor_fid']:.3f})" if generic else "—",
            f"{generic['precision']:.2f} / {generic['recall']:.2f}" if generic and "precision" in generic else "—",
            f"{100 * min(shares):.1f}%–{100 * max(shares):.1f}% |" if shares else "— |"]))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*")
    parser.add_argument("--table", action="store_true", help="print the README's table from the cards; measure nothing")
    parser.add_argument("--also", action="append", default=None, metavar="EXTRACTOR",
                        help="measure with this extractor too (repeatable; default: random-conv-v1)")
    args = parser.parse_args()
    if args.table:
        print(table([c for c in list_pretrained() if not args.names or c["name"] in args.names]))
        return 0
    torch.manual_seed(0)
    for card in list_pretrained():
        if args.names and card["name"] not in args.names:
            continue
        metrics, more = measure(card, args.also if args.also is not None else ["random-conv-v1"])
        path = Path(card.pop("path")).with_suffix(".json")
        card["metrics"] = metrics
        card["more_metrics"] = more
        path.write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
        print(card["name"], json.dumps({"metrics": metrics, "more_metrics": more}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
