"""Losses: registry, known values, non-saturation, logging stats, and the WGAN-GP gradient penalty."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ganlab import config
from ganlab.config import ModelConfig
from ganlab.nets import build_discriminator
from ganlab.train.losses import LOSSES, GANLoss, get_loss, gradient_penalty


class LinearCritic(nn.Module):
    """D(x) = <w, x>: its input gradient is w everywhere, so the penalty is exactly (||w|| - 1)^2."""

    def __init__(self, w: torch.Tensor) -> None:
        super().__init__()
        self.w = nn.Parameter(w.clone())

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return (x * self.w).flatten(1).sum(dim=1)


class QuadraticCritic(nn.Module):
    """D(x) = 0.5 ||x||^2: gradient x, so the penalty depends on where x_hat falls (tests eps sampling)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * x.flatten(1).pow(2).sum(dim=1)


# ----------------------------------------------------------------- registry
def test_loss_registry_matches_config_choices() -> None:
    assert set(LOSSES) == set(config.LOSSES)
    for name in LOSSES:
        loss = get_loss(name)
        assert isinstance(loss, GANLoss) and loss.name == name
    assert get_loss("wgan-gp").uses_gradient_penalty
    assert not any(get_loss(n).uses_gradient_penalty for n in ("bce", "lsgan", "hinge"))


def test_get_loss_rejects_unknown_name_listing_known() -> None:
    with pytest.raises(ValueError, match=r"loss='wgan'.*bce, wgan-gp, lsgan, hinge"):
        get_loss("wgan")


# ----------------------------------------------------------------- known values
def test_bce_at_zero_logits_is_log2_per_term() -> None:
    zeros = torch.zeros(8)
    loss = get_loss("bce")
    assert loss.d_loss(zeros, zeros).item() == pytest.approx(2 * math.log(2))
    assert loss.g_loss(zeros).item() == pytest.approx(math.log(2))


def test_bce_matches_bce_with_logits() -> None:
    torch.manual_seed(0)
    real, fake = torch.randn(16) * 5, torch.randn(16) * 5
    bce = nn.functional.binary_cross_entropy_with_logits
    expected_d = bce(real, torch.ones(16)) + bce(fake, torch.zeros(16))
    torch.testing.assert_close(get_loss("bce").d_loss(real, fake), expected_d)
    torch.testing.assert_close(get_loss("bce").g_loss(fake), bce(fake, torch.ones(16)))


def test_bce_generator_loss_is_non_saturating() -> None:
    # When D confidently rejects fakes (logit -20), minimax log(1 - D) has gradient ~ 0; -log D keeps ~ -1/N.
    fake = torch.full((4,), -20.0, requires_grad=True)
    get_loss("bce").g_loss(fake).backward()
    torch.testing.assert_close(fake.grad, torch.full((4,), -0.25), atol=1e-6, rtol=0)


def test_bce_is_stable_for_extreme_logits() -> None:
    huge = torch.tensor([1e4, -1e4])
    loss = get_loss("bce")
    assert torch.isfinite(loss.d_loss(huge, huge)) and torch.isfinite(loss.g_loss(huge))


def test_wgan_values() -> None:
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([-2.0, 0.0])
    loss = get_loss("wgan-gp")
    assert loss.d_loss(real, fake).item() == pytest.approx(-1.0 - 2.0)
    assert loss.g_loss(fake).item() == pytest.approx(1.0)


def test_hinge_values() -> None:
    real, fake = torch.tensor([2.0, 0.5]), torch.tensor([-3.0, 0.0])
    loss = get_loss("hinge")
    # real: relu(1-2)=0, relu(1-0.5)=0.5 -> 0.25; fake: relu(1-3)=0, relu(1+0)=1 -> 0.5
    assert loss.d_loss(real, fake).item() == pytest.approx(0.75)
    assert loss.g_loss(fake).item() == pytest.approx(1.5)


def test_lsgan_values() -> None:
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, 2.0])
    loss = get_loss("lsgan")
    # 0.5 * mean((0, 4)) + 0.5 * mean((0, 4)) = 1 + 1
    assert loss.d_loss(real, fake).item() == pytest.approx(2.0)
    # 0.5 * mean((1, 1)) = 0.5
    assert loss.g_loss(fake).item() == pytest.approx(0.5)


@pytest.mark.parametrize("name", list(config.LOSSES))
def test_losses_return_float32_scalars_for_bf16_scores(name: str) -> None:
    real = torch.randn(8).bfloat16().requires_grad_(True)
    fake = torch.randn(8).bfloat16().requires_grad_(True)
    loss = get_loss(name)
    d, g = loss.d_loss(real, fake), loss.g_loss(fake)
    assert d.shape == () and g.shape == () and d.dtype == g.dtype == torch.float32
    (d + g).backward()
    assert real.grad is not None and fake.grad is not None


# ----------------------------------------------------------------- logging stats
@pytest.mark.parametrize(
    "name, keys",
    [
        ("bce", {"d_real", "d_fake"}),
        ("wgan-gp", {"critic_real", "critic_fake", "wasserstein"}),
        ("lsgan", {"critic_real", "critic_fake"}),
        ("hinge", {"critic_real", "critic_fake"}),
    ],
)
def test_d_stats_are_detached_scalar_tensors(name: str, keys: set[str]) -> None:
    real = torch.tensor([2.0, 4.0], requires_grad=True)
    fake = torch.tensor([0.0, -2.0], requires_grad=True)
    stats = get_loss(name).d_stats(real, fake)
    assert set(stats) == keys
    for value in stats.values():
        assert isinstance(value, torch.Tensor) and value.dim() == 0 and not value.requires_grad
    if name == "bce":
        assert stats["d_fake"].item() == pytest.approx((0.5 + 1 / (1 + math.e**2)) / 2)
    else:
        assert stats["critic_real"].item() == pytest.approx(3.0)
        assert stats["critic_fake"].item() == pytest.approx(-1.0)
    if name == "wgan-gp":
        assert stats["wasserstein"].item() == pytest.approx(4.0)


# ----------------------------------------------------------------- gradient penalty
@pytest.mark.parametrize("scale", [0.3, 1.0, 2.5])
def test_gradient_penalty_of_linear_critic_equals_squared_norm_gap(scale: float) -> None:
    torch.manual_seed(0)
    w = torch.randn(3, 8, 8)
    w = w / w.norm() * scale
    critic = LinearCritic(w)
    real, fake = torch.randn(5, 3, 8, 8), torch.randn(5, 3, 8, 8)
    gp = gradient_penalty(critic, real, fake)
    assert gp.item() == pytest.approx((scale - 1) ** 2, abs=1e-5)


def test_gradient_penalty_trains_the_critic() -> None:
    # create_graph=True: d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||.
    torch.manual_seed(0)
    w = torch.randn(1, 4, 4)
    critic = LinearCritic(w)
    gradient_penalty(critic, torch.randn(3, 1, 4, 4), torch.randn(3, 1, 4, 4)).backward()
    norm = w.norm()
    torch.testing.assert_close(critic.w.grad, 2 * (norm - 1) * w / norm, atol=1e-5, rtol=1e-4)


def test_gradient_penalty_does_not_backprop_into_real_or_fake() -> None:
    fake = torch.randn(2, 1, 4, 4, requires_grad=True)
    gp = gradient_penalty(LinearCritic(torch.randn(1, 4, 4)), torch.randn(2, 1, 4, 4), fake)
    gp.backward()
    assert fake.grad is None


def test_gradient_penalty_deterministic_given_generator() -> None:
    real, fake = torch.randn(6, 2, 4, 4), torch.randn(6, 2, 4, 4)
    critic = QuadraticCritic()
    a = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(3))
    b = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(3))
    c = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(4))
    assert a.item() == b.item() and a.item() != c.item()


def test_gradient_penalty_interpolates_between_real_and_fake() -> None:
    # Quadratic critic: grad = x_hat, ||x_hat|| for real = fake = x is ||x|| whatever eps is.
    x = torch.full((4, 1, 2, 2), 1.5)  # ||x|| = 3 per sample -> (3 - 1)^2 = 4
    assert gradient_penalty(QuadraticCritic(), x, x.clone()).item() == pytest.approx(4.0)


def test_gradient_penalty_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(2, 1, 4, 4\).*\(3, 1, 4, 4\)"):
        gradient_penalty(QuadraticCritic(), torch.randn(2, 1, 4, 4), torch.randn(3, 1, 4, 4))


@pytest.mark.parametrize("arch", ["dcgan", "mlp"])
@pytest.mark.parametrize("conditional", [False, True])
def test_gradient_penalty_under_bf16_autocast_is_finite_and_trains(arch: str, conditional: bool) -> None:
    torch.manual_seed(0)
    mc = ModelConfig(
        arch=arch, img_size=16, img_channels=3, d_channels=8, mlp_hidden=(16, 32), d_norm="layer",
        num_classes=4 if conditional else 0,
    )  # fmt: skip
    critic = build_discriminator(mc)
    real = torch.rand(4, 3, 16, 16) * 2 - 1
    fake = (torch.rand(4, 3, 16, 16) * 2 - 1).bfloat16()
    labels = torch.tensor([0, 1, 2, 3]) if conditional else None
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        gp = gradient_penalty(critic, real, fake, labels)
        d = get_loss("wgan-gp").d_loss(critic(real, labels), critic(fake.float(), labels))
        total = d + 10.0 * gp
    assert gp.dtype == torch.float32 and torch.isfinite(gp)
    total.backward()
    grads = [p.grad for p in critic.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)


def test_gradient_penalty_under_bf16_autocast_matches_fp32_roughly() -> None:
    torch.manual_seed(0)
    critic = build_discriminator(ModelConfig(arch="dcgan", img_size=16, img_channels=1, d_channels=8, d_norm="layer"))
    real, fake = torch.randn(8, 1, 16, 16), torch.randn(8, 1, 16, 16)
    gp32 = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(0))
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        gp16 = gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(0))
    assert gp16.item() == pytest.approx(gp32.item(), rel=0.05)
