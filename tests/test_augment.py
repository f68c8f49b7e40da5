"""Augmentation of what D sees (DiffAugment, ADA): differentiable, seeded, off = the old steps, ADA's p, exact resume."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganlab.config import ConfigError, ModelConfig, TrainConfig
from ganlab.nets import build_generator
from ganlab.runs import create_run
from ganlab.train.augment import Augmenter
from ganlab.train.losses import gradient_penalty
from ganlab.train.resume import resume_trainer
from ganlab.train.trainer import Trainer
from tests.helpers import blobs_dataset, tiny_config

ALL = {"diffaugment": ("color", "translation", "cutout"), "ada": ("flip", "rotate90", "translation", "color", "cutout")}
CPU = torch.device("cpu")


def _augmenter(method: str, seed: int = 0, p: float = 1.0) -> Augmenter:
    aug = Augmenter(method, ALL[method], device=CPU, seed=seed)
    aug.p = torch.tensor(p)  # ADA at p = 1: every part on every image, the hardest case for the checks below
    return aug


@pytest.mark.parametrize("method", ["diffaugment", "ada"])
def test_augmentation_is_differentiable_and_gradients_reach_g_through_it(method: str) -> None:
    aug = _augmenter(method)
    x = torch.randn(2, 3, 6, 6, dtype=torch.float64, requires_grad=True)

    def same_draws(images: torch.Tensor) -> torch.Tensor:
        aug.generator.manual_seed(7)  # gradcheck calls it many times: the same augmentation each time
        return aug(images)

    assert torch.autograd.gradcheck(same_draws, (x,), eps=1e-6, atol=1e-5)

    G = build_generator(ModelConfig(img_size=16, img_channels=3, z_dim=8, g_channels=8))
    fake = G(torch.randn(6, 8))
    seen = aug(fake)
    assert seen.shape == fake.shape and not torch.equal(seen, fake)
    (seen * torch.randn_like(seen)).sum().backward()
    grads = [p.grad for p in G.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert all(g.abs().sum() > 0 for g in grads)


@pytest.mark.parametrize("method", ["diffaugment", "ada"])
def test_augmentation_is_identical_for_a_seed_and_differs_between_seeds(method: str) -> None:
    x = torch.rand(8, 3, 16, 16) * 2 - 1
    torch.manual_seed(1)
    a = _augmenter(method, seed=3, p=0.5)(x)
    torch.manual_seed(2)  # the global RNG plays no part
    b = _augmenter(method, seed=3, p=0.5)(x)
    c = _augmenter(method, seed=4, p=0.5)(x)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_ada_at_p_zero_leaves_images_unchanged_and_translation_keeps_pixels() -> None:
    x = torch.rand(8, 3, 16, 16) * 2 - 1
    assert torch.equal(_augmenter("ada", p=0.0)(x), x)
    shifted = Augmenter("ada", ("translation",), device=CPU, seed=0)
    shifted.p = torch.tensor(1.0)
    out = shifted(x)  # whole-pixel shifts with reflection: every output pixel is some input pixel of its image
    assert all(set(out[i].flatten().tolist()) <= set(x[i].flatten().tolist()) for i in range(8))


def _trainer_with_ada(**changes) -> Trainer:
    config = tiny_config(augment="ada", ada_kimg=0.064, ada_interval=1, **changes)  # 16 images move p by 0.25
    return Trainer(config, None, dataset=blobs_dataset())


class ConstantD(nn.Module):
    """A stand-in discriminator whose score is `value` for every image (and still depends on the input)."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value
        self.offset = nn.Parameter(torch.zeros(()))  # so D's loss has a gradient to take (no optimiser holds it)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return x.flatten(1).mean(1) * 0 + self.value + self.offset


def test_ada_p_rises_while_d_is_sure_reals_are_real_and_falls_otherwise() -> None:
    overfit = _trainer_with_ada()
    overfit.D = ConstantD(10.0)  # large positive scores on reals: r_t = 1 > 0.6
    p = []
    for _ in range(3):
        overfit.train_step()
        p.append(float(overfit.augment.p))
    assert p == pytest.approx([0.25, 0.5, 0.75])

    unsure = _trainer_with_ada(max_steps=100, log_every=100, sample_every=100, checkpoint_every=100)
    unsure.augment.p = torch.tensor(0.5)
    unsure.D = ConstantD(-10.0)  # D calls reals fake: r_t = -1 < 0.6
    for _ in range(3):
        unsure.train_step()
    assert float(unsure.augment.p) == 0.0  # down by 0.25 per step, never below 0
    record = unsure.log_record()
    assert record["ada_p"] == pytest.approx(0.25 / 3, abs=1e-6) and record["ada_rt"] == -1.0  # logged means


def _reference_iteration(t: Trainer) -> None:
    """One iteration exactly as the trainer ran it before augmentation existed (d_steps = g_steps = 1, fp32)."""
    real, labels = t.sampler.next()
    n = real.shape[0]
    t.D.requires_grad_(True)
    fake = t.G(t._noise(n), labels)
    fake_d = fake.detach()
    if t._joint_d:
        both_labels = None if labels is None else torch.cat([labels, labels])
        real_scores, fake_scores = t.D(torch.cat([real, fake_d]), both_labels).float().split(n)
    else:
        real_scores, fake_scores = t.D(real, labels).float(), t.D(fake_d, labels).float()
    loss = t.loss.d_loss(real_scores, fake_scores)
    if t.loss.uses_gradient_penalty:
        loss = loss + t.config.gp_lambda * gradient_penalty(t.D, real, fake_d, labels, generator=t.noise)
    t.opt_d.zero_grad(set_to_none=True)
    loss.backward()
    t.opt_d.step()
    t.D.requires_grad_(False)
    g_loss = t.loss.g_loss(t.D(fake, labels).float())
    t.opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    t.opt_g.step()
    t.D.requires_grad_(True)


@pytest.mark.parametrize("changes", [dict(loss="bce"), dict(loss="wgan-gp", d_steps=1, beta1=0.0, beta2=0.9),
                                     dict(arch="mlp", loss="hinge", conditional=True, mlp_hidden=(32, 32), dropout=0.0)],
                         ids=["bce-batchnorm", "wgan-gp-joint", "mlp-hinge-conditional"])
def test_augment_off_is_bit_for_bit_the_old_training_step(changes: dict) -> None:
    data = blobs_dataset()
    config = tiny_config(**changes)
    assert config.augment == "off"
    new, old = Trainer(config, None, dataset=data), Trainer(config, None, dataset=data)
    assert new.augment is None
    for _ in range(3):
        new.g_step(new.d_step(keep_fake=True))
        _reference_iteration(old)
    for a, b in zip([*new.G.state_dict().values(), *new.D.state_dict().values()],
                    [*old.G.state_dict().values(), *old.D.state_dict().values()], strict=True):
        assert torch.equal(a, b)
    assert torch.equal(new.noise.get_state(), old.noise.get_state())


@pytest.mark.parametrize("changes", [
    dict(augment="ada", ada_kimg=0.5, ada_target=0.0, ada_interval=4,
         augment_parts="flip,rotate90,translation,color,cutout"),
    dict(augment="diffaugment", loss="wgan-gp", d_steps=2, beta1=0.0, beta2=0.9),
    dict(augment="ada", ada_kimg=0.5, ada_target=0.0, ada_interval=3, loss="hinge", conditional=True, g_steps=2),
], ids=["ada-bce", "diffaugment-wgan-gp", "ada-hinge-conditional"])
def test_resume_with_augmentation_continues_identically(changes: dict) -> None:
    keys = ("step", "loss_d", "loss_g", "gp", "ada_p", "ada_rt")
    data = blobs_dataset()
    straight = create_run(tiny_config(max_steps=10, **changes))
    Trainer(straight.config(), straight, dataset=data).run()
    split = create_run(tiny_config(max_steps=10, **changes))
    first = Trainer(split.config(), split, dataset=data)
    first.run(abort=lambda: first.step >= 6)  # mid-way through ADA's 4-step interval
    torch.manual_seed(12345)
    resume_trainer(split, dataset=data).run()

    def losses(run) -> list[tuple]:
        return [tuple(r.get(k) for k in keys) for r in run.read_metrics() if "loss_d" in r]

    assert losses(split) == losses(straight)
    if changes["augment"] == "ada":
        assert any(r[4] for r in losses(straight))  # p did move, so its state was part of the test


@pytest.mark.parametrize("changes", [dict(loss="bce"), dict(loss="wgan-gp", d_steps=2), dict(loss="lsgan", arch="mlp",
                                     mlp_hidden=(32, 32)), dict(loss="hinge", conditional=True)],
                         ids=["bce", "wgan-gp", "lsgan-mlp", "hinge-conditional"])
@pytest.mark.parametrize("augment", ["diffaugment", "ada"])
def test_every_loss_and_architecture_trains_with_augmentation_under_bf16_autocast(augment: str, changes: dict) -> None:
    config = tiny_config(augment=augment, precision="bf16", max_steps=3, ada_kimg=0.05, **changes)
    trainer = Trainer(config, None, dataset=blobs_dataset(channels=3))
    assert trainer.hardware.autocast_dtype == torch.bfloat16 and trainer.hardware.channels_last
    before = [p.detach().clone() for p in trainer.G.parameters()]
    trainer.run()
    assert trainer.step == 3 and all(torch.isfinite(p).all() for p in trainer.G.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.G.parameters(), strict=True))


def test_augment_settings_are_validated_with_the_allowed_values_named() -> None:
    with pytest.raises(ConfigError, match="augment='flipflop' is not allowed; choose one of: off, diffaugment, ada"):
        TrainConfig(augment="flipflop")
    with pytest.raises(ConfigError, match="'rotate90', which diffaugment does not offer; choose from: color"):
        TrainConfig(augment="diffaugment", augment_parts="color,rotate90")
    assert TrainConfig(augment="ada").augment_part_list() == ("flip", "rotate90", "translation", "color")
    assert TrainConfig(augment="off", augment_parts="anything").augment_part_list() == ()
    assert TrainConfig.from_dict({"lr_g": 1e-4}).augment == "off"  # configs written before augmentation load
