"""Training statistics summed on the device and read back once per logging tick (one host sync)."""

from __future__ import annotations

import math
import time

import torch

from ganlab.train.events import DivergedError


class Meter:
    """Running sums of detached 0-dim tensors; read() returns their means and the iteration rate since the last read."""

    def __init__(self, step: int = 0) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}
        self.restart(step)

    def restart(self, step: int) -> None:
        """Measure the rate from now and from `step` on (after a resume or a pause)."""
        self.tick_time = time.perf_counter()
        self.tick_step = step

    def add(self, stats: dict[str, torch.Tensor]) -> None:
        # Sums stay on the device: reading them (a host sync) happens only at logging ticks.
        for key, value in stats.items():
            value = value.detach().float()
            self.sums[key] = self.sums[key] + value if key in self.sums else value
            self.counts[key] = self.counts.get(key, 0) + 1

    def __bool__(self) -> bool:
        return bool(self.sums)

    def read(self, step: int, last_good_step: int) -> tuple[dict[str, float], float]:
        """(means since the last read, iterations per second); DivergedError when a mean is NaN or infinite."""
        keys = list(self.sums)
        values = torch.stack([self.sums[k] for k in keys]).tolist()
        means = {k: v / self.counts[k] for k, v in zip(keys, values)}
        self.sums.clear()
        self.counts.clear()
        if not all(math.isfinite(v) for v in means.values()):
            bad = ", ".join(k for k, v in means.items() if not math.isfinite(v))
            raise DivergedError(
                f"diverged at step {step}: {bad} became NaN/inf (last good checkpoint: step {last_good_step}). "
                "Try a lower learning rate, another loss, or fp32 precision."
            )
        now = time.perf_counter()
        rate = (step - self.tick_step) / max(now - self.tick_time, 1e-9)
        self.tick_time, self.tick_step = now, step
        return means, rate
