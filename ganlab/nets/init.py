"""DCGAN weight initialisation (by isinstance, never by class-name substrings) and parameter counting."""

from __future__ import annotations

from torch import nn

from ganlab.nets.conditional import ClassEmbedding

_LINEAR_LIKE = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Linear)
_BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def _init_one(m: nn.Module) -> None:
    if isinstance(m, _LINEAR_LIKE):
        nn.init.normal_(m.weight, 0.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, _BATCH_NORMS):
        # Radford et al.: BN scale ~ N(1, 0.02), shift 0 (the pytorch/examples recipe).
        if m.weight is not None:
            nn.init.normal_(m.weight, 1.0, 0.02)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, (nn.GroupNorm, nn.LayerNorm)):
        if m.weight is not None:
            nn.init.ones_(m.weight)
        if m.bias is not None:
            nn.init.zeros_(m.bias)
    elif isinstance(m, ClassEmbedding):
        # G's label code plays the role of extra latent dims, so it matches z's N(0, 1).
        nn.init.normal_(m.weight, 0.0, 1.0)
    elif isinstance(m, nn.Embedding):
        # An embedding is a linear layer on one-hot labels (D's projection): same scale as other weights.
        nn.init.normal_(m.weight, 0.0, 0.02)


def init_weights(module: nn.Module) -> None:
    """DCGAN init over every submodule: conv/convT/linear N(0, 0.02), BatchNorm scale N(1, 0.02), biases 0."""
    module.apply(_init_one)


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameter elements (all of them, or only those with requires_grad)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)
