"""DCGAN discriminator / WGAN critic: strided convs, LeakyReLU(0.2), batch, per-sample or no normalisation."""

from __future__ import annotations

from torch import Tensor, nn

from ganlab.nets.conditional import ProjectionHead, check_labels
from ganlab.nets.dcgan import MAX_WIDTH_MULT, dcgan_layout

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
