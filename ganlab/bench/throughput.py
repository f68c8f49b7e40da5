"""`python -m ganlab bench`: images/s of GAN Lab's trainer vs the plain reference loops, explorer and GIF latency.

Each reference loop is also run with only bf16 autocast + channels_last added (on CPUs with fast bf16), so
the table separates what the hardware's bf16 kernels give from what the trainer adds.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable

import torch

from ganlab.bench.reference import baseline_dcgan_rate, baseline_wgangp_rate
from ganlab.config import TrainConfig
from ganlab.data import ImageDataset
from ganlab.device import cpu_has_fast_bf16, set_threads
from ganlab.nets import build_discriminator, build_generator
from ganlab.runs.export import machine_description
from ganlab.train.trainer import Trainer


def synthetic(n: int, channels: int, size: int, seed: int = 0) -> ImageDataset:
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, channels, size, size), generator=gen, dtype=torch.uint8)
    return ImageDataset(images=images, labels=None, class_names=(), name="synthetic")


def median_rate(measure: Callable[[], float], repeats: int) -> float:
    return statistics.median(measure() for _ in range(repeats))


def trainer_rate(config: TrainConfig, data: ImageDataset, iters: int) -> float:
    """Images/s (real images through D) of ganlab's trainer, after two warm-up iterations."""
    trainer = Trainer(config.replace(max_steps=10**9, log_every=50, sample_every=10**9, checkpoint_every=10**9),
                      None, dataset=data)
    for _ in range(2):
        trainer.train_step()
    trainer.log_record()
    start = time.perf_counter()
    for _ in range(iters):
        trainer.train_step()
    trainer.log_record()  # the one host sync the trainer does at a logging tick
    return iters * config.batch_size * config.d_steps / (time.perf_counter() - start)


def polled_share(config: TrainConfig, seconds: float) -> float:
    """Throughput of a TrainingJob with a thread polling snapshot() every 0.5 s, as a share of unpolled."""
    from ganlab.train.job import TrainingJob

    seconds = seconds / 2

    def run(poll: bool) -> float:
        job = TrainingJob(config.replace(max_steps=10**9, checkpoint_every=10**9, sample_every=200))
        job.start()
        job.wait_for(lambda s: s.step >= 3, timeout=300)
        stop = threading.Event()

        def poller() -> None:
            while not stop.wait(0.5):
                job.snapshot()

        thread = threading.Thread(target=poller, daemon=True)
        if poll:
            thread.start()
        first = job.snapshot().step
        t0 = time.perf_counter()
        time.sleep(seconds)
        rate = (job.snapshot().step - first) / (time.perf_counter() - t0)
        stop.set()
        job.stop(timeout=60)
        return rate

    # Alternate the two so a burst of load from elsewhere does not land on one side only.
    polled, unpolled = [], []
    for _ in range(2):
        unpolled.append(run(False))
        polled.append(run(True))
    return statistics.median(polled) / statistics.median(unpolled)


def explorer_latency(img_size: int = 64, repeats: int = 20) -> tuple[float, float]:
    """Milliseconds to render one image and a 16-image grid to PIL from a 64 px DCGAN."""
    from ganlab import media
    from ganlab.explore.latent import z_batch

    mc = TrainConfig(img_size=img_size, channels=3).model_config(channels=3)
    gen = build_generator(mc).eval()

    def once(n: int) -> float:
        t0 = time.perf_counter()
        with torch.no_grad():
            images = gen(z_batch(list(range(n)), mc.z_dim))
        media.make_grid_image(images, nrow=4) if n > 1 else media.to_pil(images[0])
        return (time.perf_counter() - t0) * 1000

    once(1), once(16)
    return (statistics.median(once(1) for _ in range(repeats)), statistics.median(once(16) for _ in range(repeats)))


def gif_seconds(frames: int = 120, size: int = 64) -> float:
    """Seconds to write a GIF of `frames` 64 px RGB frames."""
    import io

    from ganlab import media

    images = torch.randint(0, 256, (frames, size, size, 3), dtype=torch.uint8).numpy()
    t0 = time.perf_counter()
    media.write_gif(images, io.BytesIO(), fps=24)
    return time.perf_counter() - t0


class _Lines(list):
    """Collects output lines and echoes each one as soon as it is measured."""

    def __init__(self, emit: Callable[[str], None] | None) -> None:
        super().__init__()
        self.emit = emit

    def append(self, line: str) -> None:
        super().append(line)
        if self.emit:
            self.emit(line)

    def __iadd__(self, lines: list[str]) -> "_Lines":
        for line in lines:
            self.append(line)
        return self


def run_bench(iters: int = 8, repeats: int = 3, poll_seconds: float = 20.0, quick: bool = False,
              emit: Callable[[str], None] | None = None) -> list[str]:
    """Run every measurement; lines are emitted as they come and returned (tests use quick=True)."""
    threads = set_threads(0)
    lines = _Lines(emit)
    lines += [f"machine: {machine_description()}", f"threads: {threads}", ""]
    header = (f"{'config':34} {'baseline img/s':>15} {'+bf16/CL img/s':>15} {'ganlab img/s':>13} {'ratio':>7} "
              f"{'vs +bf16/CL':>11}")
    lines += [header, "-" * len(header)]
    defaults = TrainConfig(device="auto", precision="auto")
    cases = [
        ("DCGAN 64px RGB, batch 64", 64, 3, "bce"),
        ("DCGAN 28px grey (Fashion-MNIST)", 28, 1, "bce"),
        ("WGAN-GP 28px grey, 5 critic steps", 28, 1, "wgan-gp"),
    ]
    if quick:
        cases = cases[1:2]
    fast_loop = cpu_has_fast_bf16()  # the reference loops run on the CPU; without fast bf16 there is no such row
    for label, size, channels, loss in cases:
        data = synthetic(512 if quick else 4096, channels, size)
        config = defaults.replace(img_size=size, channels=channels, batch_size=64, loss=loss,
                                  d_steps=5 if loss == "wgan-gp" else 1)
        mc = config.replace(precision="fp32").model_config(channels=channels)

        def reference(fast: bool, loss: str = loss, size: int = size, data=data, mc=mc) -> float:
            # defaults bind this iteration's case (the closure is only called within the iteration anyway)
            if loss == "wgan-gp":
                torch.manual_seed(0)
                return median_rate(lambda: baseline_wgangp_rate(
                    data.images, max(1, iters // 4), build_generator(mc), build_discriminator(mc), fast=fast), repeats)
            if size == 64:
                return median_rate(lambda: baseline_dcgan_rate(data.images, iters, fast=fast), repeats)
            return median_rate(lambda: baseline_dcgan_rate(
                data.images, iters, generator=build_generator(mc), discriminator=build_discriminator(mc), fast=fast),
                repeats)

        base = reference(False)
        # The same loop with only bf16 autocast + channels_last added: what this CPU's bf16 kernels give alone.
        fast = reference(True) if fast_loop else None
        ours_iters = iters if loss != "wgan-gp" else max(1, iters // 4)
        ours = median_rate(lambda config=config, data=data, n=ours_iters: trainer_rate(config, data, n), repeats)
        fast_cols = f"{fast:15.1f}" if fast else f"{'n/a':>15}"
        vs_fast = f"{ours / fast:10.2f}x" if fast else f"{'n/a':>11}"
        lines.append(f"{label:34} {base:15.1f} {fast_cols} {ours:13.1f} {ours / base:6.2f}x {vs_fast}")
    one, grid = explorer_latency()
    lines += ["", f"explorer frame (64px, 1 image): {one:.1f} ms", f"explorer grid (64px, 16 images): {grid:.1f} ms"]
    lines.append(f"GIF export (120 frames, 64px): {gif_seconds():.2f} s")
    if poll_seconds > 0:
        share = polled_share(defaults.replace(dataset="digits", img_size=28, batch_size=64), poll_seconds)
        lines.append(f"training throughput while polling snapshot() every 0.5 s: {share:.1%} of unpolled")
    return lines
