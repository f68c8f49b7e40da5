"""`python -m ganlab bench`: images/s of GAN Lab's trainer vs the plain reference loops, explorer and GIF latency.

Each reference loop is also run with only bf16 autocast + channels_last added (on GPUs with bf16 and CPUs with
fast bf16), so the table separates what the hardware's bf16 kernels give from what the trainer adds. The loops of
one config are built once and measured in turns (a few seconds each, several rounds), so load from elsewhere on the
machine hits each of them alike; the table gives the median and the range over the rounds. Everything runs on one
device (`--device cuda`: the trainer and the plain loops on the same GPU); a part that ends up on another device
than the one asked for stops the benchmark with FellBackError instead of printing its figure.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import torch

from ganlab.bench.reference import DCGANReference, WGANGPReference
from ganlab.config import TrainConfig, build_config
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


class TrainerStepper:
    """GAN Lab's trainer as a stepper (one train_step per step), its ticks quiet except the logging one."""

    def __init__(self, config: TrainConfig, data: ImageDataset) -> None:
        self.trainer = Trainer(config.replace(max_steps=10**9, log_every=50, sample_every=10**9,
                                              checkpoint_every=10**9, quality_every=0), None, dataset=data)
        check_on("the trainer", self.trainer.device, resolve_device(config.device))
        check_on("the trainer's G", next(self.trainer.G.parameters()).device, self.trainer.device)
        self.images_per_step = config.batch_size * config.d_steps

    def step(self) -> None:
        self.trainer.train_step()

    def sync(self) -> None:
        self.trainer.log_record()  # the one host sync the trainer does at a logging tick
        if self.trainer.device.type == "cuda":  # CUDA runs asynchronously: wait for the queued work
            torch.cuda.synchronize(self.trainer.device)


def timed_rate(stepper: Any, seconds: float, min_steps: int = 2) -> float:
    """Images/s of whole steps over at least `seconds` (and at least min_steps steps)."""
    start, steps = time.perf_counter(), 0
    while steps < min_steps or time.perf_counter() - start < seconds:
        stepper.step()
        steps += 1
    if hasattr(stepper, "sync"):
        stepper.sync()
    return steps * stepper.images_per_step / (time.perf_counter() - start)


def race(steppers: dict[str, Any], seconds: float, repeats: int, warmup: int = 2) -> dict[str, list[float]]:
    """Rates of each stepper over `repeats` rounds; in every round each one runs `seconds` in turn (the order
    rotates), so a burst of load from elsewhere falls on all of them rather than on one."""
    for stepper in steppers.values():
        for _ in range(warmup):
            stepper.step()
        if hasattr(stepper, "sync"):  # queued GPU work of the warm-up must not land on the first timed loop
            stepper.sync()
    rates: dict[str, list[float]] = {name: [] for name in steppers}
    names = list(steppers)
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            rates[name].append(timed_rate(steppers[name], seconds))
    return rates


def spread(values: list[float], fmt: str = "{:,.0f}") -> str:
    """median (min–max) of the values."""
    med = statistics.median(values)
    return f"{fmt.format(med)} ({fmt.format(min(values))}–{fmt.format(max(values))})" if len(values) > 1 \
        else fmt.format(med)


def paired_ratio(ours: list[float], theirs: list[float]) -> str:
    """Median (min–max) of the per-round ratios: each round measured both within seconds of each other."""
    return spread([a / b for a, b in zip(ours, theirs)], "{:.2f}×")


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


def run_bench(seconds: float = 3.0, repeats: int = 5, poll_seconds: float = 20.0, quick: bool = False,
              threads: int = 0, emit: Callable[[str], None] | None = None, device: str = "auto") -> list[str]:
    """Run every measurement on one device (auto = the best here); lines (a markdown table, then latencies) are
    emitted as they come and returned. ConfigError when the device is missing; FellBackError when a part ran
    elsewhere."""
    target = resolve_device(device)
    threads = set_threads(threads)
    lines = _Lines(emit)
    lines += [f"machine: {machine_description()}", f"device: {describe_device(target)}",
              f"threads: {threads}; {repeats} rounds of {seconds:g} s per loop, "
              "the loops of a config taking turns in one process; median (min–max) over the rounds", ""]
    # The +bf16/CL loop where bf16 is fast: GPUs with bf16, CPUs with AVX512-BF16/AMX.
    fast_loop = torch.cuda.is_bf16_supported() if target.type == "cuda" else cpu_has_fast_bf16()
    lines += ["| config | baseline img/s | +bf16/CL img/s | GAN Lab img/s | GAN Lab / baseline | GAN Lab / +bf16/CL |",
              "|---|---:|---:|---:|---:|---:|"]
    defaults = TrainConfig(device=str(target), precision="auto", threads=threads)
    same = dict(batch_size=64, ema=0.0, g_channels=64, d_channels=64)  # the reference loops' networks and batch
    cases = [
        ("DCGAN 64 px RGB, batch 64", defaults.replace(img_size=64, channels=3, **same)),
        ("DCGAN 28 px grey (Fashion-MNIST)", defaults.replace(img_size=28, channels=1, **same)),
        ("WGAN-GP 28 px grey, 5 critic steps", defaults.replace(img_size=28, channels=1, loss="wgan-gp", d_steps=5,
                                                                **same)),
        # What Start trains on Fashion-MNIST (its dataset recipe, EMA included) vs the same loop on the same nets.
        ("Fashion-MNIST default recipe", build_config({"dataset": "fashion-mnist", "channels": 1, "threads": threads,
                                                       "device": str(target)})),
    ]
    if quick:
        cases = cases[1:2]
    for label, config in cases:
        size, channels = config.img_size, config.channels
        data = synthetic(512 if quick else 4096, channels, size)
        mc = config.replace(precision="fp32").model_config(channels=channels)
        torch.manual_seed(0)

        def reference(fast: bool, config: TrainConfig = config, data=data, mc=mc) -> Any:
            if config.loss == "wgan-gp":
                return WGANGPReference(data.images, build_generator(mc), build_discriminator(mc), fast=fast,
                                       batch=config.batch_size, n_critic=config.d_steps, device=target)
            if mc.img_size == 64 and mc.g_channels == mc.d_channels == 64:  # the example's own 64 px networks
                return DCGANReference(data.images, fast=fast, batch=config.batch_size, device=target)
            return DCGANReference(data.images, generator=build_generator(mc), discriminator=build_discriminator(mc),
                                  fast=fast, batch=config.batch_size, device=target)

        steppers = {"base": reference(False)}
        if fast_loop:  # the same loop with only bf16 autocast + channels_last: what this CPU's bf16 kernels give
            steppers["fast"] = reference(True)
        steppers["ours"] = TrainerStepper(config, data)
        rates = race(steppers, seconds, repeats)
        fast = rates.get("fast")
        lines.append(f"| {label} | {spread(rates['base'])} | {spread(fast) if fast else 'n/a'} | "
                     f"{spread(rates['ours'])} | {paired_ratio(rates['ours'], rates['base'])} | "
                     f"{paired_ratio(rates['ours'], fast) if fast else 'n/a'} |")
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
