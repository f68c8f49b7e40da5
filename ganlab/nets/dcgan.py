"""DCGAN (Radford et al. 2015): generators (transposed-conv or upsample+conv) and the discriminator/critic."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ganlab.nets.conditional import (
    ClassEmbedding,
    ProjectionHead,
    check_labels,
    label_embed_dim,
)

MAX_WIDTH_MULT = 8  # widths are capped at 8x the base, as in the 64px recipe (ngf*8 = 512)


def dcgan_layout(img_size: int) -> tuple[int, int]:
    """(start resolution s0, number of x2 stages) with s0 * 2**stages == img_size and 3 <= s0 <= 7.

    64 -> (4, 4) as in pytorch/examples; 28 -> (7, 2) (7->14->28); 48 -> (6, 3); 96 -> (6, 4) (6->12->24->48->96).
    """
    if not isinstance(img_size, int) or isinstance(img_size, bool) or img_size < 6:
        raise ValueError(f"img_size={img_size!r}: DCGAN needs a whole number of pixels, at least 6 (e.g. 16, 28, 32, 64)")
    start, stages = img_size, 0
    while start > 7:
        if start % 2:
            raise ValueError(
                f"img_size={img_size} cannot be halved down to a 3..7 pixel start; "
                "use a size like 16, 28, 32, 48, 64, 96 or 128"
            )
        start //= 2
        stages += 1
    if stages == 0:
        raise ValueError(f"img_size={img_size} is too small for DCGAN; use at least 8 (e.g. 16, 28, 32)")
    return start, stages


def generator_widths(img_size: int, base_channels: int) -> list[int]:
    """Channels of G's hidden stages from s0 upward: halving down to base_channels, capped at 8x base."""
    _, stages = dcgan_layout(img_size)
    return [base_channels * min(MAX_WIDTH_MULT, 2 ** (stages - 1 - i)) for i in range(stages)]


class ProjectZ(nn.ConvTranspose2d):
    """ConvT with an s0 kernel on a 1x1 input, computed as one matrix product (same weights, same result).

    oneDNN's transposed convolution is ~3x slower than a matmul for this shape on CPU; keeping the
    ConvTranspose2d parameter keeps checkpoints and the pytorch/examples layout unchanged.
    """

    def forward(self, x: Tensor, output_size: list[int] | None = None) -> Tensor:
        if x.shape[-2:] != (1, 1) or output_size is not None:
            return super().forward(x, output_size)
        n, k = x.shape[0], self.kernel_size
        if self.weight.is_contiguous(memory_format=torch.channels_last):
            # Weight (z, C0, s0, s0) laid out as (z, s0, s0, C0): multiply in that order (no copy of the
            # weight each step) and the result comes out channels_last, the model's memory format.
            out = nn.functional.linear(x.flatten(1), self.weight.permute(0, 2, 3, 1).flatten(1).t())
            return out.reshape(n, k[0], k[1], self.out_channels).permute(0, 3, 1, 2)  # (N, C0, s0, s0)
        out = nn.functional.linear(x.flatten(1), self.weight.flatten(1).t())  # (N, C0*s0*s0)
        return out.reshape(n, self.out_channels, k[0], k[1])


class DCGANGenerator(nn.Module):
    """z (N, z_dim) [+ label embedding] -> image (N, C, H, W) in [-1, 1].

    Stages: project z to (C0, s0, s0) with a ConvT whose kernel is s0 (a linear map on the 1x1 input),
    then x2 stages (ConvT 4/2/1 or nearest-upsample + conv3x3) with BN + ReLU, then a last x2 layer to
    img_channels with tanh and no BN. With z_dim=100, img_size=64, base 64, img_channels=3 this is exactly
    the pytorch/examples DCGAN generator (same layers, same parameter order, no biases).
    """

    def __init__(
        self,
        z_dim: int,
        img_size: int,
        img_channels: int,
        base_channels: int = 64,
        num_classes: int = 0,
        upsample: bool = False,
    ) -> None:
        super().__init__()
        start, _ = dcgan_layout(img_size)
        widths = generator_widths(img_size, base_channels)
        self.z_dim = z_dim
        self.num_classes = num_classes
        self.img_shape = (img_channels, img_size, img_size)
        self.first_stage_shape = (widths[0], start, start)
        self.upsample = upsample

        # Conditional G: concatenate a learned label code with z (the cGAN recipe, Mirza & Osindero 2014).
        in_dim = z_dim
        if num_classes > 0:
            self.label_embed = ClassEmbedding(num_classes, label_embed_dim(num_classes))
            in_dim += self.label_embed.embedding_dim

        # (N, in_dim, 1, 1) -> (N, C0, s0, s0)
        self.project = nn.Sequential(
            ProjectZ(in_dim, widths[0], start, 1, 0, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(True),
        )
        # (N, C_i, s, s) -> (N, C_{i+1}, 2s, 2s)
        self.stages = nn.Sequential(*[self._up(c_in, c_out) for c_in, c_out in zip(widths[:-1], widths[1:])])
        # (N, C_last, size/2, size/2) -> (N, img_channels, size, size); no BN on the output (Radford et al.)
        last = self._up_conv(widths[-1], img_channels)
        self.to_image = nn.Sequential(*last, nn.Tanh())

    def _up_conv(self, c_in: int, c_out: int) -> list[nn.Module]:
        if self.upsample:
            # Nearest upsample + 3x3 conv avoids the checkerboard of stride-2 ConvT (Odena et al. 2016).
            return [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False)]
        return [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False)]

    def _up(self, c_in: int, c_out: int) -> nn.Sequential:
        return nn.Sequential(*self._up_conv(c_in, c_out), nn.BatchNorm2d(c_out), nn.ReLU(True))

    def _latent(self, z: Tensor, labels: Tensor | None) -> Tensor:
        if z.dim() != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z shape {tuple(z.shape)} must be (N, {self.z_dim})")
        labels = check_labels(labels, z.shape[0], self.num_classes, "generator")
        if labels is not None:
            code = self.label_embed(labels).to(z.dtype)
            z = torch.cat([z, code], dim=1)
        return z.reshape(z.shape[0], -1, 1, 1)  # (N, in_dim, 1, 1)

    def first_stage(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Activations after the projection stage, (N, C0, s0, s0)."""
        return self.project(self._latent(z, labels))

    def features(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Flattened first-stage activations (N, C0*s0*s0), the space GANSpace-style PCA runs in."""
        return self.first_stage(z, labels).flatten(1)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        h = self.first_stage(z, labels)  # (N, C0, s0, s0)
        h = self.stages(h)  # (N, C_last, size/2, size/2)
        return self.to_image(h)  # (N, C, size, size) in [-1, 1]


# ------------------------------------------------------------------ discriminator / critic

NORMS = ("batch", "layer", "none")


def check_norm(norm: str) -> None:
    if norm not in NORMS:
        raise ValueError(f"norm={norm!r} is not allowed; choose one of: {', '.join(NORMS)}")


def norm2d(norm: str, channels: int) -> list[nn.Module]:
    """BatchNorm2d, or GroupNorm(1, C): a per-sample layer norm over (C, H, W), valid under gradient penalty."""
    if norm == "batch":
        return [nn.BatchNorm2d(channels)]
    if norm == "layer":
        return [nn.GroupNorm(1, channels)]
    return []


def discriminator_widths(img_size: int, base_channels: int) -> list[int]:
    """Channels of D's stages from full resolution downward: doubling from base, capped at 8x base."""
    _, stages = dcgan_layout(img_size)
    return [base_channels * min(MAX_WIDTH_MULT, 2**i) for i in range(stages)]


class DCGANDiscriminator(nn.Module):
    """Image (N, C, H, W) -> raw scores (N,) (logits; no sigmoid).

    Mirrors the generator: Conv 4/2/1 stages halving the resolution down to s0, no norm on the first
    (input) layer, then a conv with kernel s0 to one score. With base 64, norm="batch" at 64px this is
    the pytorch/examples DCGAN discriminator minus its sigmoid (losses take logits).
    Conditional: projection discriminator, score += <embed(y), sum over positions of the last features>.
    """

    def __init__(
        self,
        img_size: int,
        img_channels: int,
        base_channels: int = 64,
        norm: str = "batch",
        num_classes: int = 0,
    ) -> None:
        super().__init__()
        check_norm(norm)
        start, _ = dcgan_layout(img_size)
        widths = discriminator_widths(img_size, base_channels)
        self.num_classes = num_classes
        self.img_shape = (img_channels, img_size, img_size)
        self.norm = norm
        # The recipe has no conv biases because a norm follows; with no norm at all, the biases are needed.
        bias = norm == "none"

        layers: list[nn.Module] = [
            # (N, C, size, size) -> (N, base, size/2, size/2); no norm on D's input layer (Radford et al.)
            nn.Conv2d(img_channels, widths[0], 4, 2, 1, bias=bias),
            nn.LeakyReLU(0.2),
        ]
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            # (N, c_in, s, s) -> (N, c_out, s/2, s/2)
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=bias), *norm2d(norm, c_out), nn.LeakyReLU(0.2)]
        self.body = nn.Sequential(*layers)
        # (N, C_last, s0, s0) -> (N, 1, 1, 1)
        self.head = nn.Conv2d(widths[-1], 1, start, 1, 0, bias=bias)
        if num_classes > 0:
            self.projection = ProjectionHead(num_classes, widths[-1])

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        if x.dim() != 4 or tuple(x.shape[1:]) != self.img_shape:
            raise ValueError(f"images shape {tuple(x.shape)} must be (N, {', '.join(map(str, self.img_shape))})")
        labels = check_labels(labels, x.shape[0], self.num_classes, "discriminator")
        h = self.body(x)  # (N, C_last, s0, s0)
        score = self.head(h).flatten()  # (N,); flatten copes with channels_last where view would not
        if labels is not None:
            score = score + self.projection(h.sum(dim=(2, 3)), labels)
        return score
