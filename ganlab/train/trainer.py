"""The GAN trainer: D and G update steps, logging ticks, samples, checkpoints; no threads, no UI."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ganlab import media
from ganlab.config import ConfigError, TrainConfig
from ganlab.data import DataRequest, Dataset, make_sampler, open_dataset
from ganlab.data.dataset import Progress
from ganlab.device import resolve_hardware, set_threads
from ganlab.nets import recalibrate_batchnorm
from ganlab.runs import Run, save_checkpoint
from ganlab.train.augment import Augmenter
from ganlab.train.ema import update_ema
from ganlab.train.events import AbortFn, DivergedError, ProgressFn, TrainEvent
from ganlab.train.losses import get_loss, gradient_penalty
from ganlab.train.meter import Meter
from ganlab.train.parts import build_parts
from ganlab.train.state import restore_trainer, trainer_state
from ganlab.train.ticks import Ticks
from ganlab.train.warm_start import trainable_d_parameters, warm_start

if TYPE_CHECKING:
    from ganlab.metrics import LiveQuality


class Trainer:
    """Owns G, D, optimisers and data for one run; advance it with train_step() or run()."""

    shard = (0, 1)  # (rank, world size): a DistributedTrainer (ganlab.train.distributed) is one of several processes

    def __init__(self, config: TrainConfig, run: Run | None = None, *, dataset: Dataset | None = None,
                 data_progress: Progress | None = None, warm: bool = True, device: str | None = None) -> None:
        """warm=False skips init_from (a resume loads its own weights); device overrides config.device (a pinned GPU)."""
        self.config = config
        self.run_dir = run
        self.hardware = resolve_hardware(device or config.device, config.precision)
        self.device = self.hardware.device
        if self.device.type == "cpu":
            set_threads(config.threads)
        if dataset is None:  # folders bigger than the memory budget come back as a stream
            dataset = open_dataset(DataRequest.of(config, data_progress))
        if config.conditional and dataset.num_classes < 2:
            raise ConfigError(f"conditional=True needs a labelled dataset; {config.dataset!r} has no class labels")
        self.dataset_name = dataset.name
        self.num_images = len(dataset)
        self.class_names = tuple(dataset.class_names)
        self.num_skipped = int(dataset.num_skipped)  # unreadable files left out of a folder
        self.skipped = tuple(dataset.skipped)
        self.model_config = config.model_config(num_classes=dataset.num_classes, channels=dataset.channels)
        self.total_steps = config.total_steps(self.num_images // self.shard[1])  # an epoch: all processes' batches

        torch.manual_seed(config.seed)
        (self.G, self.D, self.G_ema, self.opt_g, self.opt_d, self.scaler_g,
         self.scaler_d) = build_parts(config, self.model_config, self.hardware)
        self.warm_note = (warm_start(config.init_from, self.G, self.D, self.G_ema, config.freeze_d)
                          if config.init_from and warm else "")
        self._d_trainable = trainable_d_parameters(self.D, config.freeze_d)  # all of D unless freeze_d > 0
        self.loss = get_loss(config.loss)
        self._joint_d = self.model_config.d_norm != "batch"  # no cross-sample statistics in D
        self.sampler = make_sampler(dataset, config.batch_size, self.device, flip=config.flip, seed=config.seed,
                                    shard=self.shard)
        self.noise = torch.Generator(device=self.device).manual_seed(config.seed + 1)
        fixed = torch.Generator().manual_seed(config.seed + 2)
        self.fixed_z = torch.randn(config.num_samples, config.z_dim, generator=fixed).to(self.device)
        k = self.model_config.num_classes
        self.fixed_labels = (torch.arange(config.num_samples) % k).to(self.device) if k else None
        parts = config.augment_part_list()
        self.augment = Augmenter(config.augment, parts, device=self.device, seed=config.seed + 4, target=config.ada_target,
                                 interval=config.ada_interval, kimg=config.ada_kimg) if parts else None

        self.step = 0  # completed iterations
        self.d_updates = 0
        self.g_updates = 0
        self.elapsed = 0.0  # seconds of training, excluding pauses
        self.meter = Meter()
        self.last_good_step = 0  # the step of the newest checkpoint written
        self._ema_calibrated = False
        self.ticks = Ticks(self, dataset)  # what happens after each iteration: logs, grids, quality, checkpoints

    @property
    def finished(self) -> bool:
        """The budget is spent: the planned steps are done, or max_minutes of training time have passed."""
        return 0 < self.total_steps <= self.step or 0 < self.config.max_minutes * 60 <= self.elapsed

    @property
    def quality(self) -> "LiveQuality | None":
        return self.ticks.quality

    @property
    def quality_note(self) -> str:
        """Why there is no live quality metric for this run ("" when there is one or it is off)."""
        return self.ticks.quality_note

    # ------------------------------------------------------------------ updates
    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.config.z_dim, device=self.device, generator=self.noise)

    def _random_labels(self, n: int) -> torch.Tensor | None:
        k = self.model_config.num_classes
        if not k:
            return None
        return torch.randint(0, k, (n,), device=self.device, generator=self.noise)

    def _seen(self, x: torch.Tensor) -> torch.Tensor:
        """Images (N, C, H, W) as D sees them: augmented when augmentation is on (differentiably)."""
        if self.augment is None:
            return x
        x = self.augment(x)
        return x.contiguous(memory_format=torch.channels_last) if self.hardware.channels_last else x

    def _d_grad(self, on: bool) -> None:
        for p in self._d_trainable:  # frozen layers (freeze_d) stay frozen
            p.requires_grad_(on)

    def d_step(self, keep_fake: bool = False) -> tuple[torch.Tensor, torch.Tensor | None] | None:
        """One discriminator (critic) update on a real batch and a fresh fake batch.

        keep_fake=True builds the fake batch with G's graph and returns it, so the generator step that
        follows can reuse it instead of running G again (as the pytorch/examples recipe does).
        """
        real, labels = self.sampler.next()
        if self.hardware.channels_last:
            real = real.contiguous(memory_format=torch.channels_last)
        n = real.shape[0]
        self._d_grad(True)
        with self.hardware.autocast():
            with torch.set_grad_enabled(keep_fake):
                fake = self.G(self._noise(n), labels)
            fake_d = fake.detach().to(real.dtype)
            if self._joint_d:  # per-sample critic: one pass over real and fake together is cheaper
                both = self._seen(torch.cat([real, fake_d]))
                both_labels = None if labels is None else torch.cat([labels, labels])
                real_scores, fake_scores = self.D(both, both_labels).float().split(n)
                real_seen, fake_seen = both.split(n)
            else:  # BatchNorm sees real and fake batches separately, as in the DCGAN paper
                real_seen, fake_seen = self._seen(real), self._seen(fake_d)
                real_scores = self.D(real_seen, labels).float()
                fake_scores = self.D(fake_seen, labels).float()
            loss = self.loss.d_loss(real_scores, fake_scores)
            stats = {"loss_d": loss, **self.loss.d_stats(real_scores, fake_scores)}
            if self.loss.uses_gradient_penalty:
                # Under autocast too: the critic's double backward is about half of a WGAN-GP step (bf16 here made
                # the whole step ~25% faster); x_hat, the gradient and its norm stay float32 (see gradient_penalty).
                # Taken on the images D saw: with augmentation on, the augmented ones.
                gp = gradient_penalty(self.D, real_seen, fake_seen.float(), labels, generator=self.noise)
                loss = loss + self.config.gp_lambda * gp
                stats["gp"] = gp
                stats["loss_d"] = loss
        self.opt_d.zero_grad(set_to_none=True)
        self.scaler_d.scale(loss).backward()
        self.scaler_d.step(self.opt_d)
        self.scaler_d.update()
        self.d_updates += 1
        self.meter.add(stats)
        if self.augment is not None:
            self.augment.observe(self.loss.real_signs(real_scores, fake_scores))
        return (fake, labels) if keep_fake else None

    def g_step(self, kept: tuple[torch.Tensor, torch.Tensor | None] | None = None) -> None:
        """One generator update through a frozen discriminator (on `kept` fakes from d_step if given)."""
        n = self.config.batch_size
        self._d_grad(False)  # D's weight gradients are not needed for G's update
        with self.hardware.autocast():
            if kept is not None:
                fake, labels = kept
            else:
                labels = self._random_labels(n)
                fake = self.G(self._noise(n), labels)
            loss = self.loss.g_loss(self.D(self._seen(fake), labels).float())
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler_g.scale(loss).backward()
        self.scaler_g.step(self.opt_g)
        self.scaler_g.update()
        self._d_grad(True)
        self.g_updates += 1
        if self.G_ema is not None:
            update_ema(self.G_ema, self.G, self.config.ema, self.g_updates, self.config.ema_rampup)
            self._ema_calibrated = False
        self.meter.add({"loss_g": loss})

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
        if self.augment is not None:
            self.augment.end_iteration(self.step)
            self.meter.add(self.augment.stats())
        self.elapsed += time.perf_counter() - t0
        self.ticks.after_step(progress)

    def log_record(self) -> dict[str, Any] | None:
        """Read the accumulated statistics back (one host sync), check them, and log them."""
        if not self.meter:
            return None
        means, rate = self.meter.read(self.step, self.last_good_step)
        images_per_step = self.config.batch_size * self.config.d_steps * self.shard[1]  # every process's images
        record = {
            "step": self.step,
            "epoch": round(self.step * images_per_step / self.num_images, 4),
            **{k: round(v, 6) for k, v in means.items()},
            "img_s": round(rate * images_per_step, 2),
            "elapsed": round(self.elapsed, 3),
            "eta": self._eta(rate),
        }
        if self.run_dir:
            self.run_dir.append_metrics([record])
        return record

    def _eta(self, steps_per_second: float) -> float | None:
        """Seconds of training left: the steps left at this rate, or the minutes budget left if that ends first."""
        if steps_per_second <= 0:
            return None
        left = [(self.total_steps - self.step) / steps_per_second] if self.total_steps else []
        left += [max(0.0, self.config.max_minutes * 60 - self.elapsed)] if self.config.max_minutes > 0 else []
        return round(min(left), 1) if left else None

    def calibrate_ema(self) -> None:
        """Give the averaged G BatchNorm statistics that match its weights (once per change of the weights)."""
        if self.G_ema is not None and not self._ema_calibrated:
            recalibrate_batchnorm(self.G_ema, batch_size=self.config.batch_size, seed=self.config.seed + 3,
                                  autocast=self.hardware.autocast() if self.hardware.autocast_dtype else None)
            self._ema_calibrated = True

    @torch.no_grad()
    def sample(self, z: torch.Tensor | None = None, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images (N,C,H,W) in [-1,1] from the EMA generator when present, in eval mode."""
        self.calibrate_ema()
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
            self.run_dir.save_sample(image, self.step)
        return np.asarray(image.convert("RGB"))

    # ------------------------------------------------------------------ state and checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Weights, optimiser states, RNG states and counters as plain CPU data: everything exact resume needs."""
        return trainer_state(self)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state_dict() into this trainer (built from the same config); CheckpointError on a mismatch."""
        restore_trainer(self, state)

    def save(self) -> None:
        """Checkpoint to checkpoints/latest.pt (+ a kept step copy), atomically; no-op without a run folder.

        Weights that became NaN/inf in the last update are never written: the previous checkpoint stays.
        """
        if self.run_dir is None:
            return
        for name, net in (("G", self.G), ("D", self.D)):
            if not all(torch.isfinite(p).all() for p in net.parameters()):
                raise DivergedError(f"diverged at step {self.step}: {name}'s weights became NaN/inf (last good "
                                    f"checkpoint: step {self.last_good_step}). Try a lower learning rate.")
        self.calibrate_ema()  # the averaged G is saved with BatchNorm statistics that match its weights
        state = self.state_dict()
        folder = self.run_dir.checkpoints_dir
        save_checkpoint(folder / "latest.pt", state)
        if self.config.keep_checkpoints > 0:
            save_checkpoint(folder / f"step_{self.step:06d}.pt", state)
            self.run_dir.prune_checkpoints(self.config.keep_checkpoints)
        self.last_good_step = self.step

    def save_best(self) -> None:
        """Checkpoint to checkpoints/best.pt (the live metric just improved); no-op without a run folder."""
        if self.run_dir and all(torch.isfinite(p).all() for net in (self.G, self.D) for p in net.parameters()):
            save_checkpoint(self.run_dir.checkpoints_dir / "best.pt", self.state_dict())

    def run(self, progress: ProgressFn | None = None, abort: AbortFn | None = None) -> None:
        """Train until the budget is spent or abort() returns True; always leaves a checkpoint."""
        while not self.finished:
            if abort and abort():
                break
            self.train_step(progress)
        if self.run_dir and (self.run_dir.latest_checkpoint is None or self.last_good_step != self.step):
            self.log_record()
            self.save()
        if progress:
            progress(TrainEvent("done", self.step))
