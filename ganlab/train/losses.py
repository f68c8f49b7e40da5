"""GAN objectives on raw discriminator scores (bce, wgan-gp, lsgan, hinge) and the WGAN-GP gradient penalty."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

LOSSES: dict[str, type["GANLoss"]] = {}


def register_loss(name: str) -> Callable[[type["GANLoss"]], type["GANLoss"]]:
    def deco(cls: type["GANLoss"]) -> type["GANLoss"]:
        cls.name = name
        LOSSES[name] = cls
        return cls

    return deco


def get_loss(name: str) -> "GANLoss":
    """A fresh loss object by name; unknown names raise ValueError listing the known ones."""
    if name not in LOSSES:
        raise ValueError(f"loss={name!r} is unknown; choose one of: {', '.join(LOSSES)}")
    return LOSSES[name]()


class GANLoss:
    """Objective on raw scores (logits). Scores are cast to float32 so bf16 autocast never degrades the loss."""

    name: str = ""
    uses_gradient_penalty: bool = False

    def d_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        """Scalar loss the discriminator minimises (without any gradient penalty)."""
        raise NotImplementedError

    def g_loss(self, fake_scores: Tensor) -> Tensor:
        """Scalar loss the generator minimises."""
        raise NotImplementedError

    def d_stats(self, real_scores: Tensor, fake_scores: Tensor) -> dict[str, Tensor]:
        """Detached 0-dim tensors for logging (no .item(): the trainer syncs only at log ticks)."""
        real, fake = real_scores.detach().float(), fake_scores.detach().float()
        return {"critic_real": real.mean(), "critic_fake": fake.mean()}

    def real_signs(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        """(N,) +1 where D calls a real image real, -1 where it calls it fake: ADA's overfitting signal.

        The decision boundary is 0 for logits (bce) and hinge scores; subclasses with another boundary override it.
        """
        return torch.sign(real_scores.detach().float())

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


@register_loss("bce")
class NonSaturatingBCE(GANLoss):
    """Goodfellow et al.: D maximises log D(x) + log(1 - D(G(z))); G minimises -log D(G(z)) (non-saturating)."""

    def d_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        # softplus(-s) = BCEWithLogits(s, 1); softplus(s) = BCEWithLogits(s, 0): stable for any logit.
        return F.softplus(-real_scores.float()).mean() + F.softplus(fake_scores.float()).mean()

    def g_loss(self, fake_scores: Tensor) -> Tensor:
        return F.softplus(-fake_scores.float()).mean()

    def d_stats(self, real_scores: Tensor, fake_scores: Tensor) -> dict[str, Tensor]:
        real, fake = real_scores.detach().float(), fake_scores.detach().float()
        return {"d_real": torch.sigmoid(real).mean(), "d_fake": torch.sigmoid(fake).mean()}


@register_loss("wgan-gp")
class WassersteinGP(GANLoss):
    """Gulrajani et al.: critic maximises E[D(x)] - E[D(G(z))] (+ gradient penalty added by the trainer)."""

    uses_gradient_penalty = True

    def d_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return fake_scores.float().mean() - real_scores.float().mean()

    def g_loss(self, fake_scores: Tensor) -> Tensor:
        return -fake_scores.float().mean()

    def d_stats(self, real_scores: Tensor, fake_scores: Tensor) -> dict[str, Tensor]:
        stats = super().d_stats(real_scores, fake_scores)
        stats["wasserstein"] = stats["critic_real"] - stats["critic_fake"]
        return stats

    def real_signs(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        # A critic's scores have no fixed zero (any constant can be added): the boundary is the midpoint of the
        # batch's mean real and mean fake score, so the signal is "how cleanly D separates reals from fakes".
        real, fake = real_scores.detach().float(), fake_scores.detach().float()
        return torch.sign(real - (real.mean() + fake.mean()) / 2)


@register_loss("lsgan")
class LeastSquares(GANLoss):
    """Mao et al. (a=0, b=c=1): D pulls real scores to 1 and fake to 0; G pulls fake scores to 1."""

    def d_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return 0.5 * (real_scores.float() - 1).pow(2).mean() + 0.5 * fake_scores.float().pow(2).mean()

    def g_loss(self, fake_scores: Tensor) -> Tensor:
        return 0.5 * (fake_scores.float() - 1).pow(2).mean()

    def real_signs(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return torch.sign(real_scores.detach().float() - 0.5)  # targets 1 (real) and 0 (fake): boundary 0.5


@register_loss("hinge")
class Hinge(GANLoss):
    """Lim & Ye / Miyato et al.: D minimises relu(1 - D(x)) + relu(1 + D(G(z))); G minimises -D(G(z))."""

    def d_loss(self, real_scores: Tensor, fake_scores: Tensor) -> Tensor:
        return F.relu(1 - real_scores.float()).mean() + F.relu(1 + fake_scores.float()).mean()

    def g_loss(self, fake_scores: Tensor) -> Tensor:
        return -fake_scores.float().mean()


def gradient_penalty(
    critic: nn.Module,
    real: Tensor,
    fake: Tensor,
    labels: Tensor | None = None,
    *,
    generator: torch.Generator | None = None,
) -> Tensor:
    """WGAN-GP: E[(||grad_x D(x_hat)||_2 - 1)^2], x_hat = eps*real + (1-eps)*fake, eps ~ U(0,1) per sample.

    x_hat is built in float32 and is the leaf the gradient is taken against, so under bf16 autocast the
    critic still runs in bf16 (fast) while the gradient and its norm come back in float32 (no dtype mix-ups).
    `generator`, when given, must live on real.device. create_graph=True so the penalty trains the critic.
    """
    if real.shape != fake.shape:
        raise ValueError(f"real shape {tuple(real.shape)} and fake shape {tuple(fake.shape)} must match")
    n = real.shape[0]
    eps_shape = (n,) + (1,) * (real.dim() - 1)  # one mixing weight per sample, broadcast over (C, H, W)
    eps = torch.rand(eps_shape, generator=generator, device=real.device, dtype=torch.float32)
    real32, fake32 = real.detach().float(), fake.detach().float()
    x_hat = (eps * real32 + (1 - eps) * fake32).requires_grad_(True)
    scores = critic(x_hat, labels) if labels is not None else critic(x_hat)
    (grad,) = torch.autograd.grad(outputs=scores.float().sum(), inputs=x_hat, create_graph=True)
    # The tiny epsilon keeps the sqrt differentiable when a gradient is exactly zero (dead critic).
    grad_norm = torch.sqrt(grad.float().flatten(1).pow(2).sum(dim=1) + 1e-12)
    return (grad_norm - 1).pow(2).mean()
