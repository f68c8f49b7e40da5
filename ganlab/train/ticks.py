"""What happens after each iteration, on its own cadence: metric records, sample grids, live quality, checkpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ganlab.data import Dataset, ImageDataset
from ganlab.train.events import ProgressFn, TrainEvent

if TYPE_CHECKING:
    from ganlab.metrics import LiveQuality
    from ganlab.train.trainer import Trainer

QUALITY_OVERHEAD = 0.05  # the live quality metric may cost at most this share of training time


class Ticks:
    """Decides when to log, sample, measure and checkpoint a trainer, and does it."""

    def __init__(self, trainer: "Trainer", dataset: Dataset) -> None:
        self.trainer = trainer
        self.quality: LiveQuality | None = None  # when quality_every > 0 and the dataset has an extractor
        self.quality_note = ""
        self._quality_elapsed = 0.0
        if trainer.config.quality_every > 0:
            self._attach_quality(dataset)

    def _attach_quality(self, dataset: Dataset) -> None:
        from ganlab.metrics import LiveQuality, get_extractor

        t = self.trainer
        extractor = get_extractor(t.config.dataset, t.model_config.img_channels, t.config.img_size)
        if extractor is None or not isinstance(dataset, ImageDataset):
            self.quality_note = f"no quality metric for {t.config.dataset!r}: no feature extractor for it"
            return
        self.quality = LiveQuality(extractor.to(t.device), dataset.images, seed=t.config.seed)

    def after_step(self, progress: ProgressFn | None) -> None:
        t, cfg = self.trainer, self.trainer.config
        last = t.finished
        checkpoint_due = t.step % cfg.checkpoint_every == 0 or last
        if t.step % cfg.log_every == 0 or checkpoint_due:
            record = t.log_record()
            if record is not None and progress:
                progress(TrainEvent("log", t.step, record=record))
        if t.step % cfg.sample_every == 0 or last:
            grid = t.save_samples()
            if progress:
                progress(TrainEvent("sample", t.step, grid=grid))
        if self._quality_due(last):
            self._quality_elapsed = t.elapsed
            t.calibrate_ema()
            record = {"step": t.step, **self.quality.measure(t.G_ema or t.G)}
            if t.run_dir:
                t.run_dir.append_metrics([record])
            if progress:
                progress(TrainEvent("log", t.step, record=record))
        if checkpoint_due:
            t.save()
            if progress:
                progress(TrainEvent("checkpoint", t.step))

    def _quality_due(self, last: bool) -> bool:
        # Measured every quality_every steps, but never more often than keeps its cost under QUALITY_OVERHEAD.
        t = self.trainer
        if self.quality is None or not (t.step % t.config.quality_every == 0 or last):
            return False
        return last or t.elapsed - self._quality_elapsed >= self.quality.min_interval_seconds(QUALITY_OVERHEAD)
