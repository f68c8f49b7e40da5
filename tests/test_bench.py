"""The benchmark runs end to end and prints a ratio row (figures are not asserted: machines are noisy)."""

from __future__ import annotations

import re

import torch

from ganlab.bench_baseline import ExampleDiscriminator, ExampleGenerator
from ganlab.bench import run_bench
from ganlab.config import TrainConfig
from ganlab.nets import build_discriminator, build_generator, count_parameters


def test_bench_quick_prints_baseline_trainer_and_ratio() -> None:
    lines = run_bench(iters=1, repeats=1, poll_seconds=0, quick=True)
    row = next(line for line in lines if line.startswith("DCGAN 28px"))
    base, ours, ratio = re.findall(r"[\d.]+", row.split(")")[-1])[:3]
    assert float(base) > 0 and float(ours) > 0 and ratio
    assert any(line.startswith("GIF export") for line in lines)


def test_bench_baseline_nets_match_ganlab_64px_dcgan_size() -> None:
    mc = TrainConfig(img_size=64, channels=3).model_config(channels=3)
    assert count_parameters(ExampleGenerator()) == count_parameters(build_generator(mc))
    assert count_parameters(ExampleDiscriminator()) == count_parameters(build_discriminator(mc))
    assert ExampleGenerator()(torch.randn(2, 100, 1, 1)).shape == (2, 3, 64, 64)
