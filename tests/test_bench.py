"""The benchmark runs end to end and prints a ratio row (figures are not asserted: machines are noisy)."""

from __future__ import annotations

import math

import pytest
import torch

from ganlab.bench import run_bench
from ganlab.bench.reference import ExampleDiscriminator, ExampleGenerator, ExampleLoop, baseline_wgangp_rate
from ganlab.config import TrainConfig
from ganlab.device import cpu_has_fast_bf16
from ganlab.nets import build_discriminator, build_generator, count_parameters


def _median(cell: str) -> float:
    return float(cell.split("(")[0].strip().rstrip("×").replace(",", ""))


def test_bench_quick_prints_baseline_fast_loop_trainer_and_ratios_with_their_spread() -> None:
    lines = run_bench(seconds=0.05, repeats=2, poll_seconds=0, quick=True, threads=1)
    row = next(line for line in lines if line.startswith("| DCGAN 28 px"))
    base, fast, ours, ratio, vs_fast = [c.strip() for c in row.strip("|").split("|")[1:6]]
    assert _median(base) > 0 and _median(ours) > 0
    assert "–" in base and "–" in ours and "–" in ratio  # median (min–max) over the rounds
    assert _median(ratio) > 0
    if cpu_has_fast_bf16():
        assert _median(fast) > 0 and _median(vs_fast) > 0
    else:
        assert fast == vs_fast == "n/a"
    assert any(line.startswith("GIF export") for line in lines)


@pytest.mark.parametrize("fast", [False, True], ids=["as-written", "bf16-channels-last"])
def test_reference_loops_train_in_both_forms(fast: bool) -> None:
    torch.manual_seed(0)
    images = torch.randint(0, 256, (8, 1, 16, 16), dtype=torch.uint8)
    mc = TrainConfig(img_size=16, channels=1, g_channels=8, d_channels=8, z_dim=8).model_config(channels=1)
    loop = ExampleLoop(nc=1, nz=8, generator=build_generator(mc), discriminator=build_discriminator(mc), fast=fast)
    real = images[:4].float().div(127.5).sub(1.0)
    values = loop.step(real)
    assert all(math.isfinite(v) for v in values)
    assert 0 < values[2] < 1  # D(x) is a probability
    critic_mc = TrainConfig(img_size=16, channels=1, g_channels=8, d_channels=8, z_dim=8,
                            loss="wgan-gp").model_config(channels=1)
    rate = baseline_wgangp_rate(images, 1, build_generator(critic_mc), build_discriminator(critic_mc), nz=8, batch=4,
                                n_critic=1, fast=fast)
    assert rate > 0


def test_bench_baseline_nets_match_ganlab_64px_dcgan_size() -> None:
    mc = TrainConfig(img_size=64, channels=3).model_config(channels=3)
    assert count_parameters(ExampleGenerator()) == count_parameters(build_generator(mc))
    assert count_parameters(ExampleDiscriminator()) == count_parameters(build_discriminator(mc))
    assert ExampleGenerator()(torch.randn(2, 100, 1, 1)).shape == (2, 3, 64, 64)


def test_bench_on_a_missing_gpu_fails_loudly(capsys: pytest.CaptureFixture) -> None:
    from ganlab.cli import main

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(["bench", "--device", "cuda", "--quick"]) == 2
    assert "device='cuda' is not available on this machine" in capsys.readouterr().err


def test_a_part_that_trains_on_another_device_than_asked_stops_the_bench(monkeypatch: pytest.MonkeyPatch) -> None:
    from ganlab.bench import throughput

    # As if the trainer had quietly chosen the CPU while the benchmark asked for a GPU.
    monkeypatch.setattr(throughput, "resolve_device", lambda name: torch.device("cuda", 0))
    config = TrainConfig(img_size=16, channels=1, g_channels=8, d_channels=8, z_dim=8, device="cpu", batch_size=8)
    with pytest.raises(throughput.FellBackError, match="the trainer ran on cpu, not on the requested cuda:0"):
        throughput.TrainerStepper(config, throughput.synthetic(32, 1, 16))
