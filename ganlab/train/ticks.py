"""What happens after each iteration, on its own cadence: metric records, sample grids, live quality (with the
collapse alarm and checkpoints/best.pt), checkpoints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ganlab.data import Dataset
from ganlab.train.events import ProgressFn, TrainEvent

if TYPE_CHECKING:
    from ganlab.metrics import LiveQuality
    from ganlab.train.trainer import Trainer

QUALITY_OVERHEAD = 0.05  # the live quality metric may cost at most this share of training time
BEST_KEY = "fid"  # best.pt keeps the generator with the lowest live Fréchet distance
LIVE_REAL = 2000  # training images the live metric compares with (once per dataset: then read from the disk cache)


class Ticks:
    """Decides when to log, sample, measure and checkpoint a trainer, and does it."""

    def __init__(self, trainer: "Trainer", dataset: Dataset) -> None:
        self.trainer = trainer
        self.quality: LiveQuality | None = None  # when quality_every > 0 (every image dataset has an extractor)
        self.quality_note = ""  # why there is no live metric
        self.extractor_note = ""  # which better extractor was passed over, and why
        self.best: dict[str, Any] | None = None  # {"fid", "step", "extractor"} of checkpoints/best.pt
        self._quality_elapsed = 0.0
        if trainer.config.quality_every > 0:
            self._attach_quality(dataset)

    def _attach_quality(self, dataset: Dataset) -> None:
        from ganlab.metrics import LiveQuality, choose_extractor, dataset_real_stats

        t = self.trainer
        choice = choose_extractor(t.config.dataset, t.model_config.img_channels, t.config.img_size)
        if choice is None:
            self.quality_note = f"no quality metric for {t.config.dataset!r}: no feature extractor for it"
            return
        extractor = choice.extractor.to(t.device)
        try:  # statistics of the training images: from the disk cache after the first run on this data
            real = dataset_real_stats(extractor, dataset, max_count=LIVE_REAL, seed=t.config.seed)
        except ValueError as exc:
            self.quality_note = f"no quality metric: {exc}"
            return
        self.quality = LiveQuality(extractor, real, seed=t.config.seed)
        self.extractor_note = choice.note

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
            self._measure(progress)
        if checkpoint_due:
            t.save()
            if progress:
                progress(TrainEvent("checkpoint", t.step))

    def _measure(self, progress: ProgressFn | None) -> None:
        t = self.trainer
        assert self.quality is not None
        self._quality_elapsed = t.elapsed
        t.calibrate_ema()
        record = {"step": t.step, "elapsed": round(t.elapsed, 2), **self.quality.measure(t.G_ema or t.G, step=t.step)}
        improved = self.best is None or record[BEST_KEY] < self.best[BEST_KEY]
        if improved:
            self.best = {BEST_KEY: record[BEST_KEY], "step": t.step, "extractor": record["extractor"]}
            record["best"] = True
        if t.run_dir:
            t.run_dir.append_metrics([record])
            if improved:
                t.save_best()
        if progress:
            progress(TrainEvent("log", t.step, record=record))

    def _quality_due(self, last: bool) -> bool:
        # Measured every quality_every steps, but never more often than keeps its cost under QUALITY_OVERHEAD.
        t = self.trainer
        if self.quality is None or not (t.step % t.config.quality_every == 0 or last):
            return False
        return last or t.elapsed - self._quality_elapsed >= self.quality.min_interval_seconds(QUALITY_OVERHEAD)

    def state_dict(self) -> dict[str, Any]:
        """The best live value so far and the collapse watch: what exact resume needs besides the networks."""
        return {"best": dict(self.best) if self.best else None,
                "watch": self.quality.watch.state_dict() if self.quality else None}

    def load_state_dict(self, state: dict[str, Any] | None) -> None:
        if not state or self.quality is None:
            return
        best = state.get("best")
        # A best value measured with another extractor (e.g. Inception weights appeared since) is not comparable.
        if best and best.get("extractor") == self.quality.extractor.name:
            self.best = dict(best)
            if state.get("watch"):
                self.quality.watch.load_state_dict(state["watch"])
