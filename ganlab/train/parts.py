"""The trainable parts of a run: G, D, the averaged G, their optimisers and loss scalers, on the run's hardware."""

from __future__ import annotations

import copy

import torch
from torch import nn

from ganlab.config import ModelConfig, TrainConfig
from ganlab.device import Hardware
from ganlab.nets import build_discriminator, build_generator
from ganlab.train.optim import make_adam

Parts = tuple[nn.Module, nn.Module, "nn.Module | None", torch.optim.Optimizer, torch.optim.Optimizer,
              torch.amp.GradScaler, torch.amp.GradScaler]


def build_parts(config: TrainConfig, model_config: ModelConfig, hardware: Hardware) -> Parts:
    """(G, D, G_ema or None, opt_g, opt_d, scaler_g, scaler_d), initialised from torch's global RNG."""
    fmt = torch.channels_last if hardware.channels_last else torch.contiguous_format
    generator = build_generator(model_config).to(hardware.device, memory_format=fmt)
    discriminator = build_discriminator(model_config).to(hardware.device, memory_format=fmt)
    averaged = copy.deepcopy(generator).eval().requires_grad_(False) if config.ema > 0 else None
    betas = (config.beta1, config.beta2)
    opt_g = make_adam(generator.parameters(), config.lr_g, betas, hardware.device)
    opt_d = make_adam(discriminator.parameters(), config.lr_d, betas, hardware.device)
    # fp16 needs loss scaling; bf16 and fp32 do not (enabled=False makes the scaler a no-op).
    use_scaler = hardware.precision == "fp16"
    scaler_g = torch.amp.GradScaler(hardware.device.type, enabled=use_scaler)
    scaler_d = torch.amp.GradScaler(hardware.device.type, enabled=use_scaler)
    return generator, discriminator, averaged, opt_g, opt_d, scaler_g, scaler_d
