"""Fully connected GAN (Goodfellow et al. 2014): images or 2-D toy points, optionally class-conditional."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from ganlab.nets.conditional import (
    ClassEmbedding,
    ProjectionHead,
    check_labels,
    label_embed_dim,
)

OUT_ACTIVATIONS = ("tanh", "none")
MLP_NORMS = ("none", "layer", "batch")


def _check_sizes(name: str, sizes: Sequence[int]) -> tuple[int, ...]:
    sizes = tuple(int(s) for s in sizes)
    if not sizes or any(s < 1 for s in sizes):
        raise ValueError(f"{name}={sizes!r}: give one or more positive sizes")
    return sizes


class MLPGenerator(nn.Module):
    """z (N, z_dim) [+ label embedding] -> (N, *out_shape); Linear + LeakyReLU(0.2) stages, plain as the classic recipe."""

    def __init__(
        self,
        z_dim: int,
        out_shape: Sequence[int],
        hidden: Sequence[int],
        num_classes: int = 0,
        out_activation: str = "tanh",
    ) -> None:
        super().__init__()
        if out_activation not in OUT_ACTIVATIONS:
            raise ValueError(f"out_activation={out_activation!r} is not allowed; choose one of: {', '.join(OUT_ACTIVATIONS)}")
        hidden = _check_sizes("hidden", hidden)
        self.z_dim = z_dim
        self.num_classes = num_classes
        self.img_shape = _check_sizes("out_shape", out_shape)
        in_dim = z_dim
        if num_classes > 0:
            # Conditional: concatenate a label code with z (Mirza & Osindero 2014).
            self.label_embed = ClassEmbedding(num_classes, label_embed_dim(num_classes))
            in_dim += self.label_embed.embedding_dim
        # (N, in_dim) -> (N, hidden[0])
        self.first = nn.Sequential(nn.Linear(in_dim, hidden[0]), nn.LeakyReLU(0.2))
        rest: list[nn.Module] = []
        for h_in, h_out in zip(hidden[:-1], hidden[1:]):
            rest += [nn.Linear(h_in, h_out), nn.LeakyReLU(0.2)]
        # (N, hidden[-1]) -> (N, prod(out_shape)); tanh for images in [-1, 1], none for unbounded toy points
        rest.append(nn.Linear(hidden[-1], math.prod(self.img_shape)))
        if out_activation == "tanh":
            rest.append(nn.Tanh())
        self.rest = nn.Sequential(*rest)

    def _latent(self, z: Tensor, labels: Tensor | None) -> Tensor:
        if z.dim() != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z shape {tuple(z.shape)} must be (N, {self.z_dim})")
        labels = check_labels(labels, z.shape[0], self.num_classes, "generator")
        if labels is None:
            return z
        return torch.cat([z, self.label_embed(labels).to(z.dtype)], dim=1)

    def features(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """First hidden layer's activations (N, hidden[0]), the space GANSpace-style PCA runs in."""
        return self.first(self._latent(z, labels))

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        out = self.rest(self.features(z, labels))  # (N, prod(out_shape))
        return out.reshape(out.shape[0], *self.img_shape)  # (N, *out_shape)


class MLPDiscriminator(nn.Module):
    """(N, *in_shape) -> raw scores (N,); Linear + [norm] + LeakyReLU(0.2) + Dropout stages, no norm on the input layer.

    norm="layer" (LayerNorm) or "none" keeps samples independent, as the gradient penalty requires.
    Conditional: projection discriminator, score += <embed(y), last hidden features>.
    """

    def __init__(
        self,
        in_shape: Sequence[int],
        hidden: Sequence[int],
        dropout: float = 0.0,
        num_classes: int = 0,
        norm: str = "none",
    ) -> None:
        super().__init__()
        if norm not in MLP_NORMS:
            raise ValueError(f"norm={norm!r} is not allowed; choose one of: {', '.join(MLP_NORMS)}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout={dropout!r} must be a number from 0 up to (not including) 1")
        hidden = _check_sizes("hidden", hidden)
        self.num_classes = num_classes
        self.img_shape = _check_sizes("in_shape", in_shape)
        self.norm = norm
        layers: list[nn.Module] = []
        in_dim = math.prod(self.img_shape)
        for i, h_out in enumerate(hidden):
            # (N, in_dim) -> (N, h_out)
            layers.append(nn.Linear(in_dim, h_out))
            if i > 0 and norm == "batch":
                layers.append(nn.BatchNorm1d(h_out))
            elif i > 0 and norm == "layer":
                layers.append(nn.LayerNorm(h_out))
            layers.append(nn.LeakyReLU(0.2))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            in_dim = h_out
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(in_dim, 1)  # (N, hidden[-1]) -> (N, 1)
        if num_classes > 0:
            self.projection = ProjectionHead(num_classes, in_dim)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        if tuple(x.shape[1:]) != self.img_shape:
            raise ValueError(f"input shape {tuple(x.shape)} must be (N, {', '.join(map(str, self.img_shape))})")
        labels = check_labels(labels, x.shape[0], self.num_classes, "discriminator")
        h = self.body(x.flatten(1))  # (N, hidden[-1])
        score = self.head(h).flatten()  # (N,)
        if labels is not None:
            score = score + self.projection(h, labels)
        return score
