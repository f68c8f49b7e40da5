"""Does the fast path hurt learning? Same seed and steps on Fashion-MNIST in fp32 and bf16, FID of each.

Run: python scripts/precision_check.py [--steps 1500] [--loss wgan-gp]   (prints a table; numbers go in the README)
WGAN-GP uses the fashion-wgangp recipe's settings (5 critic steps, Adam(0, 0.9), batch 64, lambda 10).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ganlab.config import TrainConfig  # noqa: E402
from ganlab.data import open_dataset  # noqa: E402
from ganlab.metrics import evaluate_generator, get_extractor, real_feature_stats  # noqa: E402
from ganlab.train.trainer import Trainer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--loss", choices=("bce", "wgan-gp"), default="bce")
    args = parser.parse_args()
    train = open_dataset("fashion-mnist", size=28)
    extractor = get_extractor("fashion-mnist", 1, 28)
    test_stats = real_feature_stats(extractor, open_dataset("fashion-mnist", size=28, subset="test").images,
                                    max_count=10_000)
    recipe = dict(batch_size=128) if args.loss == "bce" else dict(
        loss="wgan-gp", d_steps=5, beta1=0.0, beta2=0.9, gp_lambda=10.0, batch_size=64)
    rows = []
    for precision in ("fp32", "bf16"):
        config = TrainConfig(dataset="fashion-mnist", img_size=28, **recipe, max_steps=args.steps,
                             precision=precision, device="cpu", seed=0, quality_every=0, threads=args.threads,
                             log_every=100, sample_every=10**9, checkpoint_every=10**9)
        trainer = Trainer(config, None, dataset=train)
        started = time.perf_counter()
        trainer.run()
        seconds = time.perf_counter() - started
        result = evaluate_generator(trainer.G.eval(), extractor, test_stats, n=5000, seed=0)
        rows.append((precision, seconds, result["fid"], min(result["coverage"]), max(result["coverage"])))
        print(f"{precision}: {seconds:.0f} s, FID {result['fid']:.2f}", flush=True)
    print(f"\nloss {args.loss}, {recipe}")
    print("\n| precision | steps | train time | FID (5k samples vs test) | class share min-max |\n|---|---|---|---|---|")
    for precision, seconds, fid, lo, hi in rows:
        print(f"| {precision} | {args.steps} | {seconds:.0f} s | {fid:.2f} | {lo:.1%}-{hi:.1%} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
