"""The GAN trainer: D and G update steps, logging ticks, samples, checkpoints; no threads, no UI."""

from __future__ import annotations

import copy
import math
import time
from typing import Any, Callable

import numpy as np
import torch

from ganlab import media
from ganlab.config import ConfigError, TrainConfig
from ganlab.data import FolderStream, ImageDataset, make_sampler, open_dataset
from ganlab.device import resolve_hardware, set_threads
from ganlab.ema import recalibrate_batchnorm, update_ema
from ganlab.losses import get_loss, gradient_penalty
from ganlab.nets import build_discriminator, build_generator
from ganlab.optim import make_adam
from ganlab.runs import Run
from ganlab.train_events import AbortFn, DivergedError, ProgressFn, TrainEvent


class Trainer:
    """Owns G, D, optimisers and data for one run; advance it with train_step() or run()."""

    def __init__(self, config: TrainConfig, run: Run | None = None, *,
                 dataset: ImageDataset | FolderStream | None = None,
                 data_progress: Callable[[int, int], None] | None = None) -> None:
        self.config = config
        self.run_dir = run
        self.hardware = resolve_hardware(config.device, config.precision)
        self.device = self.hardware.device
        if self.device.type == "cpu":
            set_threads(config.threads)
        if dataset is None:
            # Folders bigger than the memory budget come back as a stream decoded by DataLoader workers.
            dataset = open_dataset(config.dataset, size=config.img_size, channels=config.channels,
                                   path=config.data_path, subset=config.data_subset, progress=data_progress,
                                   min_images=config.batch_size)
        if config.conditional and dataset.num_classes < 2:
            raise ConfigError(f"conditional=True needs a labelled dataset; {config.dataset!r} has no class labels")
        self.dataset_name = dataset.name
        self.num_images = len(dataset)
        self.class_names = tuple(dataset.class_names)
        self.num_skipped = int(getattr(dataset, "num_skipped", 0))  # unreadable files left out of a folder
        self.skipped = tuple(getattr(dataset, "skipped", ()))
        self.model_config = config.model_config(num_classes=dataset.num_classes, channels=dataset.channels)
        self.total_steps = config.total_steps(self.num_images)

        torch.manual_seed(config.seed)
        fmt = torch.channels_last if self.hardware.channels_last else torch.contiguous_format
        self.G = build_generator(self.model_config).to(self.device, memory_format=fmt)
        self.D = build_discriminator(self.model_config).to(self.device, memory_format=fmt)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False) if config.ema > 0 else None
        self.opt_g = make_adam(self.G.parameters(), config.lr_g, (config.beta1, config.beta2), self.device)
        self.opt_d = make_adam(self.D.parameters(), config.lr_d, (config.beta1, config.beta2), self.device)
        # fp16 needs loss scaling; bf16 and fp32 do not (enabled=False makes the scaler a no-op).
        use_scaler = self.hardware.precision == "fp16"
        self.scaler_g = torch.amp.GradScaler(self.device.type, enabled=use_scaler)
        self.scaler_d = torch.amp.GradScaler(self.device.type, enabled=use_scaler)
        self.loss = get_loss(config.loss)
        self._joint_d = self.model_config.d_norm != "batch"  # no cross-sample statistics in D
        self.sampler = make_sampler(dataset, config.batch_size, self.device, flip=config.flip, seed=config.seed)
        self.noise = torch.Generator(device=self.device).manual_seed(config.seed + 1)
        fixed = torch.Generator().manual_seed(config.seed + 2)
        self.fixed_z = torch.randn(config.num_samples, config.z_dim, generator=fixed).to(self.device)
        k = self.model_config.num_classes
        self.fixed_labels = (torch.arange(config.num_samples) % k).to(self.device) if k else None

        self.step = 0  # completed iterations
        self.d_updates = 0
        self.g_updates = 0
        self.elapsed = 0.0  # seconds of training, excluding pauses
        self._acc: dict[str, torch.Tensor] = {}
        self._acc_counts: dict[str, int] = {}
        self._tick_time = time.perf_counter()
        self._tick_step = 0
        self._last_good_step = 0
        self._ema_calibrated = False
        self.quality = None  # LiveQuality when config.quality_every > 0 and the dataset has an extractor
        self.quality_note = ""
        self._quality_elapsed = 0.0
        if config.quality_every > 0:
            self._attach_quality(dataset)

    def _attach_quality(self, dataset: ImageDataset | FolderStream) -> None:
        from ganlab.metrics import LiveQuality, get_extractor

        extractor = get_extractor(self.config.dataset, self.model_config.img_channels, self.config.img_size)
        if extractor is None or not isinstance(dataset, ImageDataset):
            self.quality_note = f"no quality metric for {self.config.dataset!r}: no feature extractor for it"
            return
        self.quality = LiveQuality(extractor.to(self.device), dataset.images, seed=self.config.seed)

    # ------------------------------------------------------------------ updates
    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.config.z_dim, device=self.device, generator=self.noise)

    def _random_labels(self, n: int) -> torch.Tensor | None:
        k = self.model_config.num_classes
        if not k:
            return None
        return torch.randint(0, k, (n,), device=self.device, generator=self.noise)

    def _accumulate(self, stats: dict[str, torch.Tensor]) -> None:
        # Sums stay on the device: reading them (a host sync) happens only at logging ticks.
        for key, value in stats.items():
            value = value.detach().float()
            self._acc[key] = self._acc[key] + value if key in self._acc else value
            self._acc_counts[key] = self._acc_counts.get(key, 0) + 1

    def d_step(self, keep_fake: bool = False) -> tuple[torch.Tensor, torch.Tensor | None] | None:
        """One discriminator (critic) update on a real batch and a fresh fake batch.

        keep_fake=True builds the fake batch with G's graph and returns it, so the generator step that
        follows can reuse it instead of running G again (as the pytorch/examples recipe does).
        """
        real, labels = self.sampler.next()
        if self.hardware.channels_last:
            real = real.contiguous(memory_format=torch.channels_last)
        n = real.shape[0]
        self.D.requires_grad_(True)
        with self.hardware.autocast():
            with torch.set_grad_enabled(keep_fake):
                fake = self.G(self._noise(n), labels)
            fake_d = fake.detach().to(real.dtype)
            if self._joint_d:  # per-sample critic: one pass over real and fake together is cheaper
                both = torch.cat([real, fake_d])
                both_labels = None if labels is None else torch.cat([labels, labels])
                real_scores, fake_scores = self.D(both, both_labels).float().split(n)
            else:  # BatchNorm sees real and fake batches separately, as in the DCGAN paper
                real_scores = self.D(real, labels).float()
                fake_scores = self.D(fake_d, labels).float()
            loss = self.loss.d_loss(real_scores, fake_scores)
            stats = {"loss_d": loss, **self.loss.d_stats(real_scores, fake_scores)}
            if self.loss.uses_gradient_penalty:
                # Under autocast too: the critic's double backward is about half of a WGAN-GP step (bf16 here made
                # the whole step ~25% faster); x_hat, the gradient and its norm stay float32 (see gradient_penalty).
                gp = gradient_penalty(self.D, real, fake_d.float(), labels, generator=self.noise)
                loss = loss + self.config.gp_lambda * gp
                stats["gp"] = gp
                stats["loss_d"] = loss
        self.opt_d.zero_grad(set_to_none=True)
        self.scaler_d.scale(loss).backward()
        self.scaler_d.step(self.opt_d)
        self.scaler_d.update()
        self.d_updates += 1
        self._accumulate(stats)
        return (fake, labels) if keep_fake else None

    def g_step(self, kept: tuple[torch.Tensor, torch.Tensor | None] | None = None) -> None:
        """One generator update through a frozen discriminator (on `kept` fakes from d_step if given)."""
        n = self.config.batch_size
        self.D.requires_grad_(False)  # D's weight gradients are not needed for G's update
        with self.hardware.autocast():
            if kept is not None:
                fake, labels = kept
            else:
                labels = self._random_labels(n)
                fake = self.G(self._noise(n), labels)
            loss = self.loss.g_loss(self.D(fake, labels).float())
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler_g.scale(loss).backward()
        self.scaler_g.step(self.opt_g)
        self.scaler_g.update()
        self.D.requires_grad_(True)
        self.g_updates += 1
        if self.G_ema is not None:
            update_ema(self.G_ema, self.G, self.config.ema, self.g_updates)
            self._ema_calibrated = False
        self._accumulate({"loss_g": loss})

    def train_step(self, progress: ProgressFn | None = None) -> None:
        """One iteration: d_steps critic updates, then g_steps generator updates, then ticks."""
        t0 = time.perf_counter()
        kept = None
        for i in range(self.config.d_steps):
            kept = self.d_step(keep_fake=i == self.config.d_steps - 1)
        for j in range(self.config.g_steps):
            self.g_step(kept if j == 0 else None)
        kept = None
        self.step += 1
        self.elapsed += time.perf_counter() - t0
        self._ticks(progress)

    # ------------------------------------------------------------------ ticks
    def _ticks(self, progress: ProgressFn | None) -> None:
        cfg = self.config
        last = self.step >= self.total_steps
        checkpoint_due = self.step % cfg.checkpoint_every == 0 or last
        if self.step % cfg.log_every == 0 or checkpoint_due:
            record = self.log_record()
            if record is not None and progress:
                progress(TrainEvent("log", self.step, record=record))
        if self.step % cfg.sample_every == 0 or last:
            grid = self.save_samples()
            if progress:
                progress(TrainEvent("sample", self.step, grid=grid))
        if self._quality_due(last):
            self._quality_elapsed = self.elapsed
            self._calibrate_ema()
            record = {"step": self.step, **self.quality.measure(self.G_ema or self.G)}
            if self.run_dir:
                self.run_dir.append_metrics([record])
            if progress:
                progress(TrainEvent("log", self.step, record=record))
        if checkpoint_due:
            self.save()
            if progress:
                progress(TrainEvent("checkpoint", self.step))

    def _quality_due(self, last: bool) -> bool:
        # Measured every quality_every steps, but never more often than keeps its cost under 5%.
        if self.quality is None or not (self.step % self.config.quality_every == 0 or last):
            return False
        return last or self.elapsed - self._quality_elapsed >= self.quality.min_interval_seconds(0.05)

    def log_record(self) -> dict[str, Any] | None:
        """Read the accumulated statistics back (one host sync), check them, and log them."""
        if not self._acc:
            return None
        keys = list(self._acc)
        values = torch.stack([self._acc[k] for k in keys]).tolist()
        means = {k: v / self._acc_counts[k] for k, v in zip(keys, values)}
        self._acc.clear()
        self._acc_counts.clear()
        if not all(math.isfinite(v) for v in means.values()):
            bad = ", ".join(k for k, v in means.items() if not math.isfinite(v))
            raise DivergedError(
                f"diverged at step {self.step}: {bad} became NaN/inf (last good checkpoint: step "
                f"{self._last_good_step}). Try a lower learning rate, another loss, or fp32 precision."
            )
        now = time.perf_counter()
        steps = self.step - self._tick_step
        rate = steps / max(now - self._tick_time, 1e-9)
        self._tick_time, self._tick_step = now, self.step
        record = {
            "step": self.step,
            "epoch": round(self.step * self.config.batch_size * self.config.d_steps / self.num_images, 4),
            **{k: round(v, 6) for k, v in means.items()},
            "img_s": round(rate * self.config.batch_size * self.config.d_steps, 2),
            "elapsed": round(self.elapsed, 3),
            "eta": round((self.total_steps - self.step) / rate, 1) if rate > 0 else None,
        }
        if self.run_dir:
            self.run_dir.append_metrics([record])
        return record

    def _calibrate_ema(self) -> None:
        if self.G_ema is not None and not self._ema_calibrated:
            recalibrate_batchnorm(self.G_ema, batch_size=self.config.batch_size, seed=self.config.seed + 3,
                                  autocast=self.hardware.autocast() if self.hardware.autocast_dtype else None)
            self._ema_calibrated = True

    @torch.no_grad()
    def sample(self, z: torch.Tensor | None = None, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images (N,C,H,W) in [-1,1] from the EMA generator when present, in eval mode."""
        self._calibrate_ema()
        net = self.G_ema or self.G
        was_training = net.training
        net.eval()
        with self.hardware.autocast():
            out = net(self.fixed_z if z is None else z, self.fixed_labels if z is None else labels).float()
        net.train(was_training)
        return out.contiguous()

    def save_samples(self) -> np.ndarray:
        """Write the fixed-noise grid for this step and return it as uint8 (H, W, C)."""
        image = media.make_grid_image(self.sample().cpu(), nrow=int(math.sqrt(self.config.num_samples)) or None)
        if self.run_dir:
            image.save(self.run_dir.samples_dir / f"step_{self.step:06d}.png")
        return np.asarray(image.convert("RGB"))

    # ------------------------------------------------------------------ checkpoints
    def save(self) -> None:
        """Checkpoint to checkpoints/latest.pt (+ a kept step copy), atomically; no-op without a run folder."""
        from ganlab.trainer_state import save_trainer

        save_trainer(self)

    def run(self, progress: ProgressFn | None = None, abort: AbortFn | None = None) -> None:
        """Train until total_steps or until abort() returns True; always leaves a checkpoint."""
        while self.step < self.total_steps:
            if abort and abort():
                break
            self.train_step(progress)
        if self.run_dir and (self.run_dir.latest_checkpoint is None or self._last_good_step != self.step):
            self.log_record()
            self.save()
        if progress:
            progress(TrainEvent("done", self.step))
