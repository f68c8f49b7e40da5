"""Class conditioning pieces shared by all architectures: label checks, G's label embedding, D's projection."""

from __future__ import annotations

import torch
from torch import Tensor, nn


def label_embed_dim(num_classes: int) -> int:
    """Width of G's label embedding: about one slot per class (like one-hot), at least 8, at most 64."""
    return min(max(num_classes, 8), 64)


def check_labels(labels: Tensor | None, batch: int, num_classes: int, who: str) -> Tensor | None:
    """Validate labels for a conditional net; unconditional nets ignore labels so callers can always pass them."""
    if num_classes <= 0:
        return None
    if labels is None:
        raise ValueError(f"{who} is conditional on {num_classes} classes: pass labels, a LongTensor of shape (N,)")
    if labels.dtype.is_floating_point or labels.dtype == torch.bool or labels.is_complex():
        raise ValueError(f"{who}: labels must be integer class ids, got dtype {labels.dtype}")
    if tuple(labels.shape) != (batch,):
        raise ValueError(f"{who}: labels shape {tuple(labels.shape)} must be ({batch},), one class id per sample")
    # No range check here: it would need a device->host sync on every step; nn.Embedding reports it.
    return labels.long()


class ClassEmbedding(nn.Embedding):
    """G's label embedding, concatenated with z. Initialised N(0, 1) so labels are as loud as z at the start."""

    def reset_parameters(self) -> None:
        nn.init.normal_(self.weight, 0.0, 1.0)


class ProjectionHead(nn.Module):
    """Projection discriminator term (Miyato & Koyama 2018): score += <embed(y), phi(x)>.

    phi(x) is D's last hidden representation pooled to a vector (global sum over positions for conv D,
    as in the paper). The embedding acts as a linear layer on one-hot labels, so it starts at N(0, 0.02)
    like D's other weights.
    """

    def __init__(self, num_classes: int, features: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(num_classes, features)
        nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def forward(self, pooled: Tensor, labels: Tensor) -> Tensor:
        # pooled: (N, F), labels: (N,) -> (N,)
        return (self.embed(labels) * pooled).sum(dim=1)
