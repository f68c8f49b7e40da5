"""`python -m ganlab bench`: images/s of GAN Lab's trainer vs the plain reference loops, explorer and GIF latency.

Each reference loop is also run with only bf16 autocast + channels_last added (on GPUs with bf16 and CPUs with
fast bf16), so the table separates what the hardware's bf16 kernels give from what the trainer adds. Everything
runs on one device (`--device cuda`: the trainer and the plain loops on the same GPU); a part that ends up on
another device than the one asked for stops the benchmark with FellBackError instead of printing its figure.
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Callable

import torch

from ganlab.bench.reference import baseline_dcgan_rate, baseline_wgangp_rate
from ganlab.config import TrainConfig
from ganlab.data import ImageDataset
from ganlab.device import cpu_has_fast_bf16, resolve_device, set_threads
from ganlab.nets import build_discriminator, build_generator
from ganlab.runs.export import machine_description
from ganlab.train.trainer import Trainer


def synthetic(n: int, channels: int, size: int, seed: int = 0) -> ImageDataset:
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, channels, size, size), generator=gen, dtype=torch.uint8)
    return ImageDataset(images=images, labels=None, class_names=(), name="synthetic")


class FellBackError(RuntimeError):
    """A part of the benchmark ran on another device than the one asked for (its figure would mislead)."""


def check_on(what: str, actual: torch.device, wanted: torch.device) -> None:
    if actual.type != wanted.type:
        raise FellBackError(f"{what} ran on {actual}, not on the requested {wanted}")


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA runs asynchronously: a clock read alone would not see it)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def median_rate(measure: Callable[[], float], repeats: int) -> float:
    return statistics.median(measure() for _ in range(repeats))


def trainer_rate(config: TrainConfig, data: ImageDataset, iters: int) -> float:
    """Images/s (real images through D) of ganlab's trainer on config.device, after two warm-up iterations."""
    trainer = Trainer(config.replace(max_steps=10**9, log_every=50, sample_every=10**9, checkpoint_every=10**9),
                      None, dataset=data)
    check_on("the trainer", trainer.device, resolve_device(config.device))
    check_on("the trainer's G", next(trainer.G.parameters()).device, trainer.device)
    for _ in range(2):
        trainer.train_step()
    trainer.log_record()
    sync(trainer.device)
    start = time.perf_counter()
    for _ in range(iters):
        trainer.train_step()
    trainer.log_record()  # the one host sync the trainer does at a logging tick
    sync(trainer.device)
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


def explorer_latency(img_size: int = 64, repeats: int = 20, device: torch.device | str = "cpu") -> tuple[float, float]:
    """Milliseconds to render one image and a 16-image grid to PIL from a 64 px DCGAN on device (the explorer's
    own path: LoadedGenerator.generate, then pixels on the CPU)."""
    from ganlab import media
    from ganlab.explore import LoadedGenerator
    from ganlab.explore.latent import z_batch

    mc = TrainConfig(img_size=img_size, channels=3).model_config(channels=3)
    loaded = LoadedGenerator(build_generator(mc).eval().to(device), mc)
    check_on("the explorer's generator", loaded.device, torch.device(device))

    def once(n: int) -> float:
        t0 = time.perf_counter()
        images = loaded.generate(z_batch(list(range(n)), mc.z_dim))  # uint8 on the CPU: a host sync
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
              emit: Callable[[str], None] | None = None, device: str = "auto") -> list[str]:
    """Run every measurement on one device (auto = the best here); lines are emitted as they come and returned
    (tests use quick=True). ConfigError when the device is missing; FellBackError when a part ran elsewhere."""
    target = resolve_device(device)
    threads = set_threads(0)
    lines = _Lines(emit)
    lines += [f"machine: {machine_description()}", f"threads: {threads}", f"device: {describe_device(target)}", ""]
    header = (f"{'config':34} {'baseline img/s':>15} {'+bf16/CL img/s':>15} {'ganlab img/s':>13} {'ratio':>7} "
              f"{'vs +bf16/CL':>11}")
    lines += [header, "-" * len(header)]
    defaults = TrainConfig(device=str(target), precision="auto")
    cases = [
        ("DCGAN 64px RGB, batch 64", 64, 3, "bce"),
        ("DCGAN 28px grey (Fashion-MNIST)", 28, 1, "bce"),
        ("WGAN-GP 28px grey, 5 critic steps", 28, 1, "wgan-gp"),
    ]
    if quick:
        cases = cases[1:2]
    # The +bf16/CL loop where bf16 is fast: GPUs with bf16, CPUs with AVX512-BF16/AMX.
    fast_loop = torch.cuda.is_bf16_supported() if target.type == "cuda" else cpu_has_fast_bf16()
    for label, size, channels, loss in cases:
        data = synthetic(512 if quick else 4096, channels, size)
        config = defaults.replace(img_size=size, channels=channels, batch_size=64, loss=loss,
                                  d_steps=5 if loss == "wgan-gp" else 1)
        mc = config.replace(precision="fp32").model_config(channels=channels)

        def reference(fast: bool) -> float:
            if loss == "wgan-gp":
                torch.manual_seed(0)
                return median_rate(lambda: baseline_wgangp_rate(
                    data.images, max(1, iters // 4), build_generator(mc), build_discriminator(mc), fast=fast,
                    device=target), repeats)
            if size == 64:
                return median_rate(lambda: baseline_dcgan_rate(data.images, iters, fast=fast, device=target), repeats)
            return median_rate(lambda: baseline_dcgan_rate(
                data.images, iters, generator=build_generator(mc), discriminator=build_discriminator(mc), fast=fast,
                device=target), repeats)

        base = reference(False)
        # The same loop with only bf16 autocast + channels_last added: what this CPU's bf16 kernels give alone.
        fast = reference(True) if fast_loop else None
        ours = median_rate(lambda: trainer_rate(config, data, iters if loss != "wgan-gp" else max(1, iters // 4)),
                           repeats)
        fast_cols = f"{fast:15.1f}" if fast else f"{'n/a':>15}"
        vs_fast = f"{ours / fast:10.2f}x" if fast else f"{'n/a':>11}"
        lines.append(f"{label:34} {base:15.1f} {fast_cols} {ours:13.1f} {ours / base:6.2f}x {vs_fast}")
    one, grid = explorer_latency(device=target)
    lines += ["", f"explorer frame (64px, 1 image): {one:.1f} ms", f"explorer grid (64px, 16 images): {grid:.1f} ms"]
    lines.append(f"GIF export (120 frames, 64px): {gif_seconds():.2f} s")
    if poll_seconds > 0:
        share = polled_share(defaults.replace(dataset="digits", img_size=28, batch_size=64), poll_seconds)
        lines.append(f"training throughput while polling snapshot() every 0.5 s: {share:.1%} of unpolled")
    if target.type == "cuda":
        lines.append(f"peak GPU memory (this process): {torch.cuda.max_memory_allocated(target) / 2**20:,.0f} MiB")
    return lines


def describe_device(device: torch.device) -> str:
    """'cuda:0 (NVIDIA H100 80GB HBM3, 79.1 GiB), torch 2.5.1, CUDA 12.4' or 'cpu, torch 2.5.1'."""
    if device.type != "cuda":
        return f"{device}, torch {torch.__version__}"
    props = torch.cuda.get_device_properties(device)
    return (f"{device} ({props.name}, {props.total_memory / 2**30:.1f} GiB), torch {torch.__version__}, "
            f"CUDA {torch.version.cuda}")
