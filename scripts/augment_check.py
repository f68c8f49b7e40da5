"""Does augmenting what D sees help on a small folder? And does starting from a trained G help on a tiny one?

Part 1: a 1,000-image Fashion-MNIST subset written as a folder of PNG files; the same recipe trained for the
same training time with augment=off, diffaugment and ada. Part 2: 200 images of one class, starting from the
shipped `fashion-dcgan` generator (G only: it ships no D) versus from scratch, each with and without
augmentation, same time.

The arms of each part train in ONE process, interleaved in short slices of training time, so a busy machine
slows them alike; each arm stops when its own training clock (Trainer.elapsed) reaches the budget. FID is
measured with the shipped Fashion-MNIST classifier (ganlab.metrics): 10,000 samples of the averaged G against
the test split (part 2: against the test images of that class).

Run: nice python scripts/augment_check.py --parts 1 --seconds 600 --points 5   (part 1, about 35 minutes)
     nice python scripts/augment_check.py --parts 2 --finetune-seconds 150 --points 3   (part 2, about 12 minutes)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from PIL import Image  # noqa: E402

from ganlab import media  # noqa: E402
from ganlab.config import TrainConfig  # noqa: E402
from ganlab.data import open_dataset  # noqa: E402
from ganlab.data.pixels import pick_indices  # noqa: E402
from ganlab.metrics import evaluate_generator, get_extractor, real_feature_stats  # noqa: E402
from ganlab.runs.export import machine_description  # noqa: E402
from ganlab.train import Trainer  # noqa: E402

N_FAKE = 10_000  # samples for the final FID
N_FAKE_CURVE = 2_000  # samples for the FIDs along the way (a cheaper, slightly higher estimate)
SLICE_SECONDS = 5.0  # training time per arm before the next arm's turn


def write_png_folder(images: torch.Tensor, folder: Path) -> Path:
    """uint8 (N, 1, H, W) -> folder/00000.png ... (greyscale PNG files)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        Image.fromarray(image[0].numpy(), mode="L").save(folder / f"{i:05d}.png")
    return folder


def recipe(folder: Path, seed: int, **changes) -> TrainConfig:
    """The DCGAN recipe of the shipped fashion-dcgan (28 px, widths 64, BCE, Adam(2e-4, 0.5), EMA), on a folder."""
    base = dict(dataset="folder", data_path=str(folder), img_size=28, channels=1, arch="dcgan", loss="bce",
                g_channels=64, d_channels=64, z_dim=100, lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999,
                batch_size=64, ema=0.999, max_steps=10**9, log_every=100, sample_every=10**9,
                checkpoint_every=10**9, quality_every=0, threads=1, seed=seed)
    base.update(changes)
    return TrainConfig(**base)


def train_interleaved(arms: dict[str, Trainer], seconds: float, emit) -> None:
    """Round-robin slices of training time until every arm's own clock reaches `seconds`."""
    while any(t.elapsed < seconds for t in arms.values()):
        for t in arms.values():
            start = t.elapsed
            while t.elapsed < seconds and t.elapsed - start < SLICE_SECONDS:
                t.train_step()
        emit("  " + " · ".join(f"{n}: {t.step} it, {t.elapsed:.0f}s" for n, t in arms.items()))


def score(t: Trainer, extractor, real_stats, n: int = N_FAKE) -> dict:
    t.calibrate_ema()
    net = t.G_ema or t.G
    result = evaluate_generator(net, extractor, real_stats, n=n, seed=0)
    out = {"fid": round(result["fid"], 2), "kid": round(result["kid"], 4), "steps": t.step,
           "images_seen": t.d_updates * t.config.batch_size, "train_seconds": round(t.elapsed, 1),
           "img_s": round(t.d_updates * t.config.batch_size / max(t.elapsed, 1e-9), 1)}
    if t.augment is not None and t.config.augment == "ada":
        out["ada_p"] = round(float(t.augment.p), 3)
    if t.warm_note:
        out["start"] = t.warm_note
    return out


def grid_row(arms: dict[str, Trainer], n: int = 12) -> Image.Image:
    """One row of n samples (same z) per arm, stacked: what the table's numbers look like."""
    z = torch.randn(n, 100, generator=torch.Generator().manual_seed(5))
    rows = []
    for t in arms.values():
        t.calibrate_ema()
        rows.append(t.sample(z.to(t.device)).cpu())
    return media.make_grid_image(torch.cat(rows), nrow=n)


def run_part(title: str, arms: dict[str, Trainer], seconds: float, points: int, extractor, real_stats,
             emit) -> dict:
    """Train the arms to `seconds` each; FID (N_FAKE_CURVE samples) at `points` - 1 times along the way, N_FAKE at the end."""
    emit(f"{title}: {', '.join(arms)} for {seconds:.0f} s of training each")
    curves: dict[str, list] = {name: [] for name in arms}
    for i in range(1, points):
        train_interleaved(arms, seconds * i / points, emit)
        for name, t in arms.items():
            point = score(t, extractor, real_stats, n=N_FAKE_CURVE)
            curves[name].append({k: point[k] for k in ("train_seconds", "steps", "fid", "ada_p") if k in point})
        emit("  FID so far: " + " · ".join(f"{n}: {c[-1]['fid']}" for n, c in curves.items()))
    train_interleaved(arms, seconds, emit)
    results = {}
    for name, t in arms.items():
        results[name] = {**score(t, extractor, real_stats), f"curve_fid_{N_FAKE_CURVE}": curves[name]}
        emit(f"  {name}: {json.dumps(results[name])}")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=600.0, help="training seconds per arm, part 1")
    parser.add_argument("--finetune-seconds", type=float, default=150.0, help="training seconds per arm, part 2")
    parser.add_argument("--finetune-class", type=int, default=7, help="Fashion-MNIST class of part 2 (7 = Sneaker)")
    parser.add_argument("--finetune-augment", default="off,diffaugment",
                        help="part 2: each of these augmentations from scratch and from fashion-dcgan")
    parser.add_argument("--augment", default="off,diffaugment,ada", help="part 1: the augmentations compared")
    parser.add_argument("--parts", default="1,2", help="which parts to run")
    parser.add_argument("--points", type=int, default=5, help="FIDs per arm along the way (the last at the end)")
    parser.add_argument("--ada-kimg", type=float, default=TrainConfig.ada_kimg, help="ADA's speed of p (ada_kimg)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", default="", help="folder for the PNG subsets (default: a temporary one)")
    parser.add_argument("--out", default="", help="write the results as JSON here")
    parser.add_argument("--grid", default="", help="write sample rows per arm (PNG) with this path prefix")
    args = parser.parse_args()

    def emit(line: str) -> None:
        print(line, flush=True)

    t_start = time.time()
    work = Path(args.work or tempfile.mkdtemp(prefix="augment_check_"))
    train = open_dataset("fashion-mnist", size=28, channels=1, subset="train")
    test = open_dataset("fashion-mnist", size=28, channels=1, subset="test")
    extractor = get_extractor("fashion-mnist", 1, 28)
    report: dict = {"machine": machine_description().split(", ")[0], "threads_per_arm": 1, "torch": torch.__version__,
                    "command": " ".join(["python", *sys.argv]),
                    "n_fake": N_FAKE, "slice_seconds": SLICE_SECONDS}
    parts = {p.strip() for p in args.parts.split(",")}

    if "1" in parts:
        subset = train.images[torch.from_numpy(pick_indices(len(train), 1000))]  # evenly spaced: every class
        folder = write_png_folder(subset, work / "fashion-1k")
        stats = real_feature_stats(extractor, test.images, max_count=len(test))
        arms = {name: Trainer(recipe(folder, args.seed, augment=name, ada_kimg=args.ada_kimg), None)
                for name in (a.strip() for a in args.augment.split(",") if a.strip())}
        report["part1"] = {"images": len(subset), "seconds_per_arm": args.seconds,
                           "arms": run_part("part 1 (1,000 images)", arms, args.seconds, args.points, extractor,
                                            stats, emit)}
        if args.grid:
            grid_row(arms).save(f"{args.grid}-fashion-1k.png")

    if "2" in parts:
        k = args.finetune_class
        mask = train.labels == k
        subset = train.images[mask][torch.from_numpy(pick_indices(int(mask.sum()), 200))]
        folder = write_png_folder(subset, work / f"fashion-class{k}-200")
        stats = real_feature_stats(extractor, test.images[test.labels == k], max_count=10_000)
        augments = [a.strip() for a in args.finetune_augment.split(",") if a.strip()]
        arms = {f"{start}/{aug}": Trainer(recipe(folder, args.seed, augment=aug, ada_kimg=args.ada_kimg,
                                                 init_from="" if start == "scratch" else start), None)
                for start in ("scratch", "fashion-dcgan") for aug in augments}
        report["part2"] = {"class": train.class_names[k], "images": len(subset),
                           "seconds_per_arm": args.finetune_seconds,
                           "arms": run_part(f"part 2 (200 x {train.class_names[k]})", arms, args.finetune_seconds,
                                            args.points, extractor, stats, emit)}
        if args.grid:
            grid_row(arms).save(f"{args.grid}-fashion-class{k}.png")

    report["wall_seconds"] = round(time.time() - t_start, 1)
    emit(json.dumps(report, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
