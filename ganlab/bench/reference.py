"""The reference training loops the benchmark compares against: pytorch/examples DCGAN, written plainly.

Each loop also runs in a "fast" form: the same code with only bf16 autocast and channels_last added
(what the usual mixed-precision recipe adds to a loop). It shows how much of GAN Lab's speed-up this CPU's
bf16 kernels give on their own, and how much comes from the trainer. The loops run on the device they are
given (the example's `.to(device)` per batch), so a GPU benchmark compares both on the same card.
"""

from __future__ import annotations

import contextlib
import time

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class ExampleGenerator(nn.Module):
    """pytorch/examples dcgan Generator (64 px), verbatim in structure."""

    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 3) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),  # 4x4
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),  # 8x8
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),  # 16
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),  # 32x32
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh(),  # 64x64
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z)


class ExampleDiscriminator(nn.Module):
    """pytorch/examples dcgan Discriminator (64 px) with its Sigmoid output."""

    def __init__(self, ndf: int = 64, nc: int = 3) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),  # 32x32
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid(),  # 1x1
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x)


class _Sigmoid(nn.Module):
    """Wrap a logit discriminator so the baseline can use BCELoss as the example does."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.net(x))


def make_loader(images: torch.Tensor, batch: int) -> DataLoader:
    # The example normalises floats up front and batches through a DataLoader.
    data = TensorDataset(images.float().div(127.5).sub(1.0))
    return DataLoader(data, batch_size=batch, shuffle=True, drop_last=True)


def weights_init(m: nn.Module) -> None:
    """The example's init: conv weights N(0, 0.02), BatchNorm weights N(1, 0.02), biases 0."""
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class ExampleLoop:
    """One iteration of the example's training loop, kept as written (fp32, BCELoss, .item() per step)."""

    def __init__(self, nc: int = 3, nz: int = 100, generator: nn.Module | None = None,
                 discriminator: nn.Module | None = None, fast: bool = False,
                 device: torch.device | str = "cpu") -> None:
        self.nz = nz
        self.fast = fast
        self.device = torch.device(device)
        self.net_g = generator or ExampleGenerator(nz=nz, nc=nc)
        self.net_d = _Sigmoid(discriminator) if discriminator is not None else ExampleDiscriminator(nc=nc)
        if generator is None:
            self.net_g.apply(weights_init)
            self.net_d.apply(weights_init)
        self.flat_z = generator is not None  # ganlab generators take (N, z); the example's take (N, z, 1, 1)
        self.net_g.to(self.device)
        self.net_d.to(self.device)
        if fast:
            self.net_g.to(memory_format=torch.channels_last)
            self.net_d.to(memory_format=torch.channels_last)
        self.criterion = nn.BCELoss()
        self.opt_d = torch.optim.Adam(self.net_d.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.opt_g = torch.optim.Adam(self.net_g.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def step(self, real: torch.Tensor) -> tuple[float, float, float, float, float]:
        """(loss_D, loss_G, D(x), D(G(z)) before and after the D update), read back every step."""
        real = real.to(self.device)
        if not self.fast:
            return self._step(real)
        with _fast_context(self.device):
            return self._step(real.contiguous(memory_format=torch.channels_last))

    def _step(self, real: torch.Tensor) -> tuple[float, float, float, float, float]:
        b = real.size(0)
        self.net_d.zero_grad()
        label = torch.full((b,), 1.0, device=self.device)
        output = self.net_d(real).view(-1).float()  # .float(): BCELoss in fp32 under autocast
        err_real = self.criterion(output, label)
        err_real.backward()
        d_x = output.mean().item()
        noise = torch.randn((b, self.nz) if self.flat_z else (b, self.nz, 1, 1), device=self.device)
        fake = self.net_g(noise)
        label.fill_(0.0)
        output = self.net_d(fake.detach()).view(-1).float()
        err_fake = self.criterion(output, label)
        err_fake.backward()
        d_g_z1 = output.mean().item()
        self.opt_d.step()
        self.net_g.zero_grad()
        label.fill_(1.0)
        output = self.net_d(fake).view(-1).float()
        err_g = self.criterion(output, label)
        err_g.backward()
        d_g_z2 = output.mean().item()
        self.opt_g.step()
        return (err_real + err_fake).item(), err_g.item(), d_x, d_g_z1, d_g_z2


def _fast_context(device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on the device: the one change the "fast" reference loops make besides channels_last."""
    return torch.autocast(device.type, dtype=torch.bfloat16)


class _Batches:
    """Endless batches from the example's DataLoader (a new shuffled pass when one ends)."""

    def __init__(self, images: torch.Tensor, batch: int) -> None:
        self.loader = make_loader(images, batch)
        self.it = iter(self.loader)

    def next(self) -> torch.Tensor:
        try:
            return next(self.it)[0]
        except StopIteration:
            self.it = iter(self.loader)
            return next(self.it)[0]


class DCGANReference:
    """The example's DCGAN loop as a stepper: step() is one iteration on the next DataLoader batch."""

    def __init__(self, images: torch.Tensor, *, generator: nn.Module | None = None,
                 discriminator: nn.Module | None = None, nz: int = 100, batch: int = 64, fast: bool = False,
                 device: torch.device | str = "cpu") -> None:
        self.loop = ExampleLoop(nc=images.shape[1], nz=nz, generator=generator, discriminator=discriminator,
                                fast=fast, device=device)
        self.batches = _Batches(images, batch)
        self.images_per_step = batch

    def step(self) -> None:
        self.loop.step(self.batches.next())


class WGANGPReference:
    """A plain WGAN-GP loop as a stepper: step() is n_critic critic updates (autograd.grad penalty) and one G update,
    fp32 with .item() every update (or with only bf16 autocast + channels_last added when fast)."""

    def __init__(self, images: torch.Tensor, generator: nn.Module, critic: nn.Module, *, nz: int = 100,
                 batch: int = 64, n_critic: int = 5, lam: float = 10.0, fast: bool = False,
                 device: torch.device | str = "cpu") -> None:
        self.device = device = torch.device(device)
        generator.to(device)
        critic.to(device)
        if fast:
            generator.to(memory_format=torch.channels_last)
            critic.to(memory_format=torch.channels_last)
        self.generator, self.critic, self.nz, self.n_critic, self.lam, self.fast = \
            generator, critic, nz, n_critic, lam, fast
        self.opt_d = torch.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.0, 0.9))
        self.opt_g = torch.optim.Adam(generator.parameters(), lr=1e-4, betas=(0.0, 0.9))
        self.batches = _Batches(images, batch)
        self.images_per_step = batch * n_critic

    def step(self) -> None:
        dev = self.device
        with _fast_context(dev) if self.fast else contextlib.nullcontext():
            for _ in range(self.n_critic):
                real = self.batches.next().to(dev)
                if self.fast:
                    real = real.contiguous(memory_format=torch.channels_last)
                b = real.size(0)
                self.opt_d.zero_grad()
                fake = self.generator(torch.randn(b, self.nz, device=dev)).detach()
                eps = torch.rand(b, 1, 1, 1, device=dev)
                mixed = (eps * real + (1 - eps) * fake).requires_grad_(True)
                grads = torch.autograd.grad(self.critic(mixed).float().sum(), mixed, create_graph=True)[0]
                gp = ((grads.float().flatten(1).norm(2, dim=1) - 1) ** 2).mean()
                loss_d = self.critic(fake).float().mean() - self.critic(real).float().mean() + self.lam * gp
                loss_d.backward()
                self.opt_d.step()
                _ = loss_d.item()
            self.opt_g.zero_grad()
            loss_g = -self.critic(self.generator(torch.randn(b, self.nz, device=dev))).float().mean()
            loss_g.backward()
            self.opt_g.step()
            _ = loss_g.item()


def stepper_rate(stepper: DCGANReference | WGANGPReference, iters: int, warmup: int = 2) -> float:
    """Images/s of `iters` steps after `warmup` untimed ones."""
    for _ in range(warmup):
        stepper.step()
    start = time.perf_counter()
    for _ in range(iters):
        stepper.step()
    return iters * stepper.images_per_step / (time.perf_counter() - start)


def baseline_dcgan_rate(images: torch.Tensor, iters: int, *, generator: nn.Module | None = None,
                        discriminator: nn.Module | None = None, nz: int = 100, batch: int = 64,
                        fast: bool = False, device: torch.device | str = "cpu") -> float:
    """Images/s of the example's loop over a DataLoader (two warm-up iterations first)."""
    return stepper_rate(DCGANReference(images, generator=generator, discriminator=discriminator, nz=nz, batch=batch,
                                       fast=fast, device=device), iters)


def baseline_wgangp_rate(images: torch.Tensor, iters: int, generator: nn.Module, critic: nn.Module, *,
                         nz: int = 100, batch: int = 64, n_critic: int = 5, lam: float = 10.0,
                         fast: bool = False, device: torch.device | str = "cpu") -> float:
    """Images/s (real images through the critic) of a plain WGAN-GP loop: fp32, .item() every step."""
    return stepper_rate(WGANGPReference(images, generator, critic, nz=nz, batch=batch, n_critic=n_critic, lam=lam,
                                        fast=fast, device=device), iters, warmup=1)
