"""bench --quality: the interleaving scheduler (fake clock), recipe specs, and a seconds-long run end to end."""

from __future__ import annotations

import pytest

from ganlab.bench.quality import BASELINE, Contender, interleave, recipe_config, run_quality_bench
from ganlab.config import ConfigError


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeContender(Contender):
    """A contender whose every step costs `step_s` on the fake clock (no trainer)."""

    def __init__(self, name: str, clock: FakeClock, step_s: float, trace: list[str], fail_at: int = 0) -> None:
        super().__init__(name, trainer=None)  # type: ignore[arg-type]
        self.clock, self.step_s, self.trace, self.fail_at, self.steps = clock, step_s, trace, fail_at, 0

    def train_step(self) -> bool:
        self.clock.now += self.step_s
        self.steps += 1
        if not self.trace or self.trace[-1] != self.name:
            self.trace.append(self.name)
        if self.fail_at and self.steps >= self.fail_at:
            self.failed = "diverged"
            return False
        return True


def test_interleave_takes_turns_and_clocks_only_each_contenders_own_training() -> None:
    clock, trace, marks = FakeClock(), [], []
    fast = FakeContender("fast", clock, 0.1, trace)
    slow = FakeContender("slow", clock, 0.7, trace)

    def on_mark(c: Contender, mark: float) -> None:
        marks.append((c.name, mark, round(c.own, 6), c.steps))
        clock.now += 1000.0  # an evaluation: long, and on no one's clock

    interleave([fast, slow], [3.0, 6.0], 1.0, on_mark, clock=clock)
    by_name = {(name, mark): (own, steps) for name, mark, own, steps in marks}
    assert set(by_name) == {("fast", 3.0), ("fast", 6.0), ("slow", 3.0), ("slow", 6.0)}
    for (name, mark), (own, steps) in by_name.items():
        step_s = 0.1 if name == "fast" else 0.7
        assert mark <= own < mark + step_s + 1e-9  # the mark is taken on the first step past it
        assert steps == pytest.approx(own / step_s)  # own time is the steps' time, evaluations excluded
    assert trace[:4] == ["fast", "slow", "fast", "slow"]  # turns alternate
    assert len(trace) >= 8  # slices of 1 s: several turns each up to 6 s


def test_a_diverged_contender_drops_out_and_the_others_finish() -> None:
    clock, trace, marks = FakeClock(), [], []
    bad = FakeContender("bad", clock, 0.1, trace, fail_at=5)
    good = FakeContender("good", clock, 0.1, trace)
    interleave([bad, good], [1.0, 2.0], 0.5, lambda c, m: marks.append((c.name, m)), clock=clock)
    assert marks == [("good", 1.0), ("good", 2.0)] and bad.failed


def test_recipe_specs_name_the_frozen_baseline_the_default_presets_and_overrides() -> None:
    base = recipe_config("baseline", "fashion-mnist")
    assert {k: getattr(base, k) for k in BASELINE} == BASELINE
    assert (base.dataset, base.quality_every, base.sample_every) == ("fashion-mnist", 0, 10**9)
    tweaked = recipe_config("baseline+batch_size=128+lr_d=4e-4", "fashion-mnist", threads=1, seed=3)
    assert (tweaked.batch_size, tweaked.lr_d, tweaked.threads, tweaked.seed) == (128, 4e-4, 1, 3)
    assert recipe_config("default", "digits").dataset == "digits"
    with pytest.raises(ConfigError, match="unknown"):
        recipe_config("no-such-recipe", "digits")
    with pytest.raises(ConfigError, match=r"\+field=value"):
        recipe_config("default+batch_size", "digits")


def test_quality_bench_runs_recipes_to_each_mark_and_prints_markdown_tables() -> None:
    lines = run_quality_bench(["baseline+g_channels=8+d_channels=8", "default+g_channels=8+d_channels=8+ema=0.9"],
                              minutes=[0.003, 0.006], dataset="digits", samples=64, slice_s=0.05, threads=1)
    text = "\n".join(lines)
    assert "taking turns in 0.05 s slices" in text and "own training time" in text
    rows = [line for line in lines if line.startswith("| baseline") or line.startswith("| default")]
    per_mark = [r for r in rows if r.count("|") == 10]
    assert len(per_mark) == 4  # two recipes x two marks
    assert "FD random-conv-v1" in text  # the dataset-agnostic metric beside the classifier's FID
    assert all(float(r.split("|")[7]) >= 0 for r in per_mark)
    for recipe in ("baseline", "default"):
        steps = [int(r.split("|")[3]) for r in per_mark if r.startswith(f"| {recipe}")]
        assert len(steps) == 2 and 0 < steps[0] <= steps[1]
        fids = [float(r.split("|")[5]) for r in per_mark if r.startswith(f"| {recipe}")]
        assert all(f >= 0 for f in fids)
