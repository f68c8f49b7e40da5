"""Does the generic metric rank checkpoints like the shipped classifier's FID? Spearman over checkpoints of two runs.

    python scripts/rank_check.py                          # fashion-mnist and digits, two runs each (minutes of CPU)
    python scripts/rank_check.py --datasets digits --quick

Each dataset gets two small runs (a DCGAN and an MLP GAN, different seeds), trained on the CPU; checkpoints are
saved at geometrically spaced steps (from noise to the best the budget allows), so their quality differs widely.
Every checkpoint is scored against the held-out real images (Fashion-MNIST's test split; for digits the
classifier's own 20% hold-out) by the shipped classifier read at its last layer (the reference), by the same
classifier read at all depths ("-layers") and by the generic random-conv-v1; the script prints the table and the
Spearman rank correlation of each against the reference, pooled over both runs.

A reference can only order checkpoints it sees some of the real images' kind in. When not one sample lands inside
the real images' manifold in the reference's own features (its precision and recall both 0), their feature
clouds are apart and the FD is saturated (measured: the digits classifier gives every not-yet-digit checkpoint FD
166-204, in no order, while random-conv-v1 sees them improve). So the pass mark is the Spearman over the
checkpoints the reference can rank (precision or recall above 0); the Spearman over all of them is printed too.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from ganlab.config import build_config  # noqa: E402
from ganlab.explore import load_generator  # noqa: E402
from ganlab.metrics import evaluate_generator, extractor_by_name, list_extractors, real_feature_stats  # noqa: E402
from ganlab.runs import create_run  # noqa: E402
from ganlab.train import Trainer  # noqa: E402

REFERENCE = {"fashion-mnist": "fashion-mnist", "digits": "digits"}
CANDIDATES = {"fashion-mnist": ("random-conv-v1", "fashion-mnist-layers"), "digits": ("random-conv-v1", "digits-layers")}
SIZE = {"fashion-mnist": 28, "digits": 32}
# Two runs per dataset: different architectures (blurry vs speckled failure modes) and seeds.
RUNS = (
    {"arch": "dcgan", "loss": "bce", "g_channels": 32, "d_channels": 32, "seed": 0},
    {"arch": "mlp", "loss": "bce", "mlp_hidden": [128, 256, 512], "seed": 1},
)
STEPS = (10, 25, 50, 100, 200, 400, 800, 1500)
# Digits leave the noise band later (the MLP after ~800 steps): more checkpoints after that, to rank >= 8.
DATASET_STEPS = {"digits": (10, 25, 50, 100, 200, 400, 600, 800, 1100, 1500, 2200, 3000)}
QUICK_STEPS = (10, 30, 100, 300)
MIN_RANKED = 8  # checkpoints the reference can rank, over both runs


def spearman(a: list[float], b: list[float]) -> float:
    """Spearman's rank correlation (average ranks for ties)."""

    def ranks(x: list[float]) -> torch.Tensor:
        t = torch.tensor(x, dtype=torch.float64)
        order = t.argsort()
        r = torch.empty_like(t)
        r[order] = torch.arange(len(x), dtype=torch.float64)
        for value in t.unique():  # ties share their mean rank
            same = t == value
            r[same] = r[same].mean()
        return r

    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    return float((ra * rb).sum() / (ra.square().sum() * rb.square().sum()).sqrt())


def held_out(dataset: str) -> torch.Tensor:
    """Real images no run trained on: Fashion-MNIST's test split; digits' stratified 20% (the classifier's own)."""
    from ganlab.data import open_dataset

    if dataset == "fashion-mnist":
        return open_dataset(dataset, size=SIZE[dataset], subset="test").images
    from sklearn.model_selection import train_test_split

    data = open_dataset(dataset, size=SIZE[dataset])
    _, idx = train_test_split(list(range(len(data))), test_size=0.2, stratify=data.labels.numpy(), random_state=0)
    return data.images[torch.tensor(idx)]


def train_run(dataset: str, settings: dict[str, Any], steps: tuple[int, ...], root: Path) -> list[tuple[int, Path]]:
    """Train one run to max(steps), saving a checkpoint at each of `steps`; [(step, checkpoint path)]."""
    config = build_config({"dataset": dataset, "img_size": SIZE[dataset], "batch_size": 64, "max_steps": max(steps),
                           "device": "cpu", "precision": "fp32", "quality_every": 0, "ema": 0.0,
                           "checkpoint_every": 10**9, "sample_every": 10**9, "log_every": 10**9,
                           "keep_checkpoints": len(steps) + 1, **settings})
    trainer = Trainer(config, create_run(config, root))
    saved = []
    for step in steps:
        while trainer.step < step:
            trainer.train_step()
        trainer.save()
        saved.append((step, trainer.run_dir.checkpoints_dir / f"step_{step:06d}.pt"))
    return saved


def score(dataset: str, checkpoints: list[tuple[str, int, Path]], n: int) -> list[dict[str, Any]]:
    """One row per checkpoint: FD and KID under the reference and each candidate extractor."""
    real = held_out(dataset)
    names = [REFERENCE[dataset], *(c for c in CANDIDATES[dataset] if c in list_extractors())]
    extractors = {name: extractor_by_name(name, 1, SIZE[dataset]) for name in names}
    stats = {name: real_feature_stats(ext, real, max_count=5000) for name, ext in extractors.items()}
    ref = REFERENCE[dataset]
    rows = []
    for run, step, path in checkpoints:
        generator = load_generator(path).generator
        row: dict[str, Any] = {"run": run, "step": step}
        for name, ext in extractors.items():
            result = evaluate_generator(generator, ext, stats[name], n=n, kid_subsets=10)
            row[name] = {k: result[k] for k in ("fid", "kid", "precision", "recall", "density", "knn_coverage")}
        row["rankable"] = bool(row[ref]["precision"] or row[ref]["recall"])  # else no sample is inside its manifold
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def extractor_names(rows: list[dict[str, Any]]) -> list[str]:
    return [k for k in rows[0] if k not in ("run", "step", "rankable")]


def correlations(rows: list[dict[str, Any]], dataset: str) -> dict[str, dict[str, float]]:
    """Spearman of each candidate's FD and KID against the reference FD, pooled over both runs' checkpoints:
    over those the reference can rank ("fid", "kid"), and over all of them ("fid_all")."""
    ranked = [r for r in rows if r["rankable"]]
    ref, ref_all = [r[REFERENCE[dataset]]["fid"] for r in ranked], [r[REFERENCE[dataset]]["fid"] for r in rows]
    return {name: {"fid": spearman(ref, [r[name]["fid"] for r in ranked]) if len(ranked) > 2 else float("nan"),
                   "kid": spearman(ref, [r[name]["kid"] for r in ranked]) if len(ranked) > 2 else float("nan"),
                   "fid_all": spearman(ref_all, [r[name]["fid"] for r in rows]), "ranked": len(ranked),
                   "runs": len({r["run"] for r in ranked})}
            for name in extractor_names(rows)}


def rank_check(dataset: str, steps: tuple[int, ...] | None, n: int, root: Path) -> tuple[list[dict[str, Any]], dict]:
    """Train both runs, score every checkpoint, correlate; steps=None: the dataset's own schedule."""
    steps = steps or DATASET_STEPS.get(dataset, STEPS)
    checkpoints = []
    for i, settings in enumerate(RUNS):
        label = f"{settings['arch']}-seed{settings['seed']}"
        t0 = time.perf_counter()
        checkpoints += [(label, step, path) for step, path in train_run(dataset, settings, steps, root / f"run{i}")]
        print(f"[{dataset}] trained {label} to step {max(steps)} in {time.perf_counter() - t0:.0f} s", flush=True)
    rows = score(dataset, checkpoints, n)
    return rows, correlations(rows, dataset)


def markdown(dataset: str, rows: list[dict[str, Any]], corr: dict) -> str:
    names = extractor_names(rows)
    head = "| run | step | " + " | ".join(f"FD {n} | KID {n}" for n in names) + " | ranked |"
    lines = [f"**{dataset}**: {len(rows)} checkpoints of two runs", "", head, "|" + "---|" * (3 + 2 * len(names))]
    for r in rows:
        lines.append(f"| {r['run']} | {r['step']} | " + " | ".join(f"{r[n]['fid']:.4g} | {r[n]['kid']:.4g}"
                                                                    for n in names)
                     + f" | {'yes' if r['rankable'] else 'no (reference sees no sample in its manifold)'} |")
    ranked = next(iter(corr.values()))
    lines += ["", f"Spearman vs the reference FD ({REFERENCE[dataset]}) over the {ranked['ranked']} checkpoints it "
              f"ranks ({ranked['runs']} runs): " + "; ".join(
                  f"{n}: FD {c['fid']:.3f}, KID {c['kid']:.3f}" for n, c in corr.items()),
              "Over all checkpoints: " + "; ".join(f"{n}: FD {c['fid_all']:.3f}" for n, c in corr.items())]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=list(REFERENCE), choices=list(REFERENCE))
    parser.add_argument("--quick", action="store_true", help="4 checkpoints per run up to step 300 (a smoke test)")
    parser.add_argument("--samples", type=int, default=2000, help="generated samples per checkpoint")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    args = parser.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    steps = QUICK_STEPS if args.quick else None
    t0 = time.perf_counter()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for dataset in args.datasets:
            rows, corr = rank_check(dataset, steps, args.samples, Path(tmp) / dataset)
            print("\n" + markdown(dataset, rows, corr) + "\n", flush=True)
            c = corr["random-conv-v1"]
            ok &= c["fid"] >= 0.9 and c["ranked"] >= MIN_RANKED and c["runs"] == 2
    print(f"total {time.perf_counter() - t0:.0f} s; generic FD Spearman >= 0.9 everywhere: {ok}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
