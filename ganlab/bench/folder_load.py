"""Time loading a generated folder of images cold and cached: python -m ganlab.bench.folder_load."""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image


def make_images(folder: Path, n: int, src_size: int = 128, fmt: str = "jpg", seed: int = 0) -> None:
    """n colourful src_size^2 images (smooth gradients plus noise, so JPEG has work to do)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    ramp = np.linspace(0, 1, src_size, dtype=np.float32)
    for i in range(n):
        a, b, c = rng.uniform(0, 255, 3)
        red = np.broadcast_to(a * ramp[None, :], (src_size, src_size))
        green = np.broadcast_to(b * ramp[:, None], (src_size, src_size))
        img = np.stack([red, green, np.full((src_size, src_size), c)], -1) + rng.normal(0, 12, (src_size, src_size, 3))
        Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(folder / f"img_{i:05d}.{fmt}", quality=90)


def bench(n: int = 10_000, size: int = 64, src_size: int = 128, fmt: str = "jpg", workdir: str | None = None) -> dict:
    """Seconds to load n images at size px: 'cold' (decode) and 'cached' (second load)."""
    from ganlab.data import (
        open_dataset,  # imported here so GANLAB_HOME set below is honoured by paths
    )

    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        os.environ["GANLAB_HOME"] = str(Path(tmp) / "home")
        folder = Path(tmp) / "images"
        start = time.perf_counter()
        make_images(folder, n, src_size, fmt)
        generate = time.perf_counter() - start
        timings = {"n": n, "size": size, "src_size": src_size, "format": fmt, "generate_s": round(generate, 2)}
        for label in ("cold", "cached"):
            start = time.perf_counter()
            ds = open_dataset("folder", size=size, channels=3, path=str(folder))
            timings[f"{label}_s"] = round(time.perf_counter() - start, 3)
        timings["shape"] = tuple(ds.images.shape)
        timings["cpus"] = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--src-size", type=int, default=128)
    parser.add_argument("--format", default="jpg", choices=("jpg", "png", "webp"))
    args = parser.parse_args()
    print(bench(args.n, args.size, args.src_size, args.format))


if __name__ == "__main__":
    main()
