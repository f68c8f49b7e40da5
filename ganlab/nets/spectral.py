"""Spectral normalisation of a discriminator (Miyato et al. 2018): every layer's weight divided by its top singular value."""

from __future__ import annotations

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

_LAYERS = (nn.Conv2d, nn.Linear)


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Wrap every Conv2d/Linear of `module` in spectral normalisation (one power iteration per forward pass).

    Call it after weight initialisation: the parametrisation divides whatever weight is there by its
    spectral norm, so D is 1-Lipschitz per layer whatever the init scale. The power-iteration vectors are
    buffers, so they are saved in checkpoints and exact resume holds.
    """
    for layer in [m for m in module.modules() if isinstance(m, _LAYERS)]:
        spectral_norm(layer)
    return module
