"""`python -m ganlab bench --quality`: FID/KID after fixed minutes of training, several recipes interleaved in one process.

Every recipe trains in this one process, taking turns in short time slices; each recipe's clock counts only its
own training time (the evaluation at a mark is not on any clock). A burst of load from elsewhere on the machine
then falls on every recipe alike, which separate runs one after the other cannot promise.
"""

from __future__ import annotations

import datetime
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from ganlab.config import PRESETS, ConfigError, TrainConfig, build_config
from ganlab.data import DataRequest, dataset_info, open_dataset
from ganlab.device import set_threads
from ganlab.metrics import evaluate_generator, extractor_by_name, get_extractor, real_feature_stats
from ganlab.runs.export import machine_description
from ganlab.train.events import DivergedError
from ganlab.train.trainer import Trainer

DEFAULT_MINUTES = (1.0, 2.0, 5.0, 10.0, 15.0)
# wall: seconds on the wall clock while the recipe trains; cpu: this process's CPU seconds while it trains (with
# --threads 1 the CPU-minutes one core spends, which time slices taken by other programs do not inflate).
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}
DEFAULT_RECIPES = ("baseline", "default")
GENERIC = "random-conv-v1"  # the dataset-agnostic extractor: a second opinion beside the dataset's classifier
# The yardstick of issue 16, frozen: what `python -m ganlab train --dataset fashion-mnist --img-size 28` built
# before the recipes were measured (28 px, batch 64, Adam 2e-4 (0.5, 0.999), widths 64, no EMA).
BASELINE: dict[str, Any] = dict(
    arch="dcgan", loss="bce", img_size=28, batch_size=64, lr_g=2e-4, lr_d=2e-4, beta1=0.5, beta2=0.999, d_steps=1,
    g_steps=1, g_channels=64, d_channels=64, z_dim=100, ema=0.0, ema_rampup=0.0, d_norm="auto", flip=False,
    conditional=False,
)
# What the bench turns off in every recipe: it measures training, not grids, checkpoints or the live gauge.
BENCH_FIELDS: dict[str, Any] = dict(max_steps=10**9, sample_every=10**9, checkpoint_every=10**9, quality_every=0,
                                    log_every=200)


def recipe_config(spec: str, dataset: str, *, threads: int = 0, seed: int = 0) -> TrainConfig:
    """The config a recipe spec names: `baseline`, `default` (what Start/`train` use for the dataset) or a
    preset, optionally followed by `+field=value` overrides, e.g. `default+ema=0`."""
    name, *overrides = spec.strip().split("+")
    extra: dict[str, Any] = {}
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"recipe {spec!r}: write overrides as +field=value (e.g. default+batch_size=128)")
        extra[key.strip()] = value.strip()
    choices: dict[str, Any] = {"dataset": dataset}
    if name not in ("baseline", "default", *PRESETS):
        raise ConfigError(f"recipe {name!r} is unknown; choose baseline, default or a preset: {', '.join(PRESETS)}")
    if name == "baseline":
        config = build_config({**choices, **BASELINE})
    elif name == "default":
        config = build_config(choices)
    else:
        config = build_config(choices, preset=name)
    values = {**config.to_dict(), **extra, **BENCH_FIELDS, "threads": threads, "seed": seed}
    return TrainConfig.from_dict(values)


@dataclass
class Contender:
    """One recipe in the race: its trainer, its own clock and its results at each mark."""

    name: str
    trainer: Trainer
    own: float = 0.0  # seconds of this recipe's own training
    results: list[dict[str, Any]] = field(default_factory=list)
    failed: str = ""

    def train_step(self) -> bool:
        """One iteration; False (and `failed` set) when the recipe diverged and cannot go on."""
        try:
            self.trainer.train_step()
        except DivergedError as exc:
            self.failed = str(exc)
            return False
        return True


def interleave(contenders: Sequence[Contender], marks_s: Sequence[float], slice_s: float,
               on_mark: Callable[[Contender, float], None], clock: Callable[[], float] = time.perf_counter) -> None:
    """Train the contenders in turn, slice_s of own time each, calling on_mark(c, mark) as each reaches a mark.

    Only train_step() is timed: on_mark (the evaluation) and the other contenders' turns are on no one's clock.
    """
    pending = {id(c): sorted(marks_s) for c in contenders}
    while any(pending.values()):
        for c in contenders:
            todo = pending[id(c)]
            if not todo:
                continue
            stop_at = min(c.own + slice_s, todo[0])
            while c.own < stop_at:
                t0 = clock()
                ok = c.train_step()
                c.own += clock() - t0
                if not ok:
                    todo.clear()
                    break
            while todo and c.own >= todo[0]:
                on_mark(c, todo.pop(0))


def evaluate(trainer: Trainer, extractor: Any, real: Any, samples: int) -> dict[str, Any]:
    """FID/KID of `samples` images from the generator the app would show (the EMA one when there is one)."""
    trainer.calibrate_ema()
    generator = trainer.G_ema if trainer.G_ema is not None else trainer.G
    return evaluate_generator(generator, extractor, real, n=samples, seed=0)


def _real_images(dataset: str, size: int, channels: int) -> tuple[torch.Tensor, str]:
    """The held-out split when the dataset has one, else its training images (said in the output)."""
    if "test" in dataset_info(dataset)["subsets"]:
        return open_dataset(DataRequest(dataset, size, channels, subset="test")).images, "test split"
    return open_dataset(DataRequest(dataset, size, channels)).images, "training images (no test split)"


def _fields_beside_baseline(config: TrainConfig) -> str:
    skip = set(BENCH_FIELDS) | {"threads", "seed", "dataset", "name"}
    base = TrainConfig.from_dict({**config.to_dict(), **BASELINE}).to_dict()
    changed = [f"{k}={v}" for k, v in config.to_dict().items() if k not in skip and base[k] != v]
    return ", ".join(changed) or "(the baseline itself)"


def run_quality_bench(recipes: Sequence[str] = DEFAULT_RECIPES, minutes: Sequence[float] = DEFAULT_MINUTES, *,
                      dataset: str = "fashion-mnist", samples: int = 10_000, slice_s: float = 5.0, threads: int = 0,
                      seed: int = 0, clock: str = "wall", emit: Callable[[str], None] | None = None) -> list[str]:
    """Race the recipes to each mark (minutes of own training time); return the markdown report's lines."""
    if not recipes or not minutes or min(minutes) <= 0:
        raise ValueError(f"recipes={list(recipes)!r}, minutes={list(minutes)!r}: give recipes and positive minutes")
    if clock not in CLOCKS:
        raise ValueError(f"clock={clock!r} is unknown; choose one of: {', '.join(CLOCKS)}")
    say = emit or (lambda line: None)
    started = time.perf_counter()
    set_threads(threads)
    configs = {name: recipe_config(name, dataset, threads=threads, seed=seed) for name in recipes}
    data_cache: dict[tuple[int, int], Any] = {}
    real_cache: dict[tuple[int, int], Any] = {}
    contenders, extractors, against = [], {}, ""
    for name, config in configs.items():
        req = DataRequest.of(config)
        key = (config.img_size, config.channels)
        if key not in data_cache:
            data_cache[key] = open_dataset(req)
        data = data_cache[key]
        trainer = Trainer(config, None, dataset=data)
        channels = trainer.model_config.img_channels
        extractor = get_extractor(dataset, channels, config.img_size)
        if extractor is None:
            raise ValueError(f"dataset={dataset!r} has no feature extractor, so no FID can be measured for it")
        generic = extractor_by_name(GENERIC, channels, config.img_size)
        if (config.img_size, channels) not in real_cache:
            images, against = _real_images(dataset, config.img_size, channels)
            real_cache[(config.img_size, channels)] = (real_feature_stats(extractor, images, max_count=10_000),
                                                       real_feature_stats(generic, images, max_count=10_000))
        own_real, generic_real = real_cache[(config.img_size, channels)]
        extractors[name] = (extractor, own_real, generic, generic_real)
        contenders.append(Contender(name, trainer))
    say(f"racing {', '.join(recipes)} to {', '.join(f'{m:g}' for m in minutes)} minutes of own training each "
        f"({slice_s:g} s turns)")

    def on_mark(c: Contender, mark_s: float) -> None:
        extractor, real, generic, generic_real = extractors[c.name]
        metrics = evaluate(c.trainer, extractor, real, samples)
        second = evaluate(c.trainer, generic, generic_real, samples)
        cfg = c.trainer.config
        images = c.trainer.step * cfg.batch_size * cfg.d_steps
        row = {"recipe": c.name, "minutes": mark_s / 60, "own_s": c.own, "steps": c.trainer.step,
               "img_s": images / max(c.own, 1e-9), "fid": metrics["fid"], "kid": metrics["kid"],
               "coverage": metrics["coverage"], "eval_s": metrics["seconds"] + second["seconds"],
               "extractor": extractor.name, "fd_generic": second["fid"], "kid_generic": second["kid"]}
        c.results.append(row)
        say(f"  {c.name} at {row['minutes']:g} min: step {row['steps']}, {row['img_s']:.0f} img/s, "
            f"FID {row['fid']:.2f}, KID {row['kid']:.4f}, FD {GENERIC} {row['fd_generic']:.3f} (evaluated in {row['eval_s']:.0f} s, off the clock)")

    interleave(contenders, [m * 60 for m in minutes], slice_s, on_mark, clock=CLOCKS[clock])
    lines = report(contenders, configs, minutes, dataset=dataset, samples=samples, slice_s=slice_s,
                   against=against, wall_s=time.perf_counter() - started, clock=clock, threads=set_threads(threads))
    for line in lines:
        say(line)
    return lines


_CLOCK_WORDS = {"wall": "wall-clock minutes", "cpu": "CPU minutes of this process"}


def _extractor_name(contenders: Sequence[Contender]) -> str:
    names = {r["extractor"] for c in contenders for r in c.results}
    return ", ".join(sorted(names)) or "none"


def _coverage_cell(coverage: list[float] | None) -> str:
    return f"{min(coverage) * 100:.1f}–{max(coverage) * 100:.1f}" if coverage else "n/a"


def report(contenders: Sequence[Contender], configs: dict[str, TrainConfig], minutes: Sequence[float], *, dataset: str,
           samples: int, slice_s: float, against: str, wall_s: float, clock: str = "wall", threads: int = 0) -> list[str]:
    """The markdown report: how it was measured, the recipes, FID by mark, then every figure per mark."""
    command = "python -m ganlab " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else ""
    lines = [
        f"**bench --quality** · {dataset} · {datetime.date.today().isoformat()} · {machine_description()}",
        "",
        f"FID and KID (shipped {dataset} classifier, extractor `{_extractor_name(contenders)}`) and the FD in "
        f"`{GENERIC}` features (the dataset-agnostic metric) of {samples:,} samples from the generator the app shows "
        f"(the EMA one where the recipe has one) against the {against}, after each recipe's own minutes of training "
        f"({_CLOCK_WORDS[clock]}, {threads} thread{'s' if threads != 1 else ''}). "
        f"All recipes trained in one process, taking turns in {slice_s:g} s slices; each recipe's clock counts only "
        "its own training time (evaluations excluded), so load from elsewhere on the machine falls on every recipe "
        f"alike. Whole run: {wall_s / 60:.0f} min of wall time.",
    ]
    if command:
        lines += ["", f"Command: `{command}`"]
    lines += ["", "| recipe | settings (beside the baseline) |", "|---|---|"]
    lines += [f"| {name} | {_fields_beside_baseline(cfg)} |" for name, cfg in configs.items()]
    marks = [f"{m:g} min" for m in minutes]
    lines += ["", "| FID ↓ | " + " | ".join(marks) + " |", "|---|" + "---:|" * len(marks)]
    for c in contenders:
        cells = [f"{r['fid']:.2f}" for r in c.results] + ["diverged"] * (len(marks) - len(c.results))
        lines.append(f"| {c.name} | " + " | ".join(cells) + " |")
    lines += ["", f"| FD {GENERIC} ↓ | " + " | ".join(marks) + " |", "|---|" + "---:|" * len(marks)]
    for c in contenders:
        cells = [f"{r['fd_generic']:.3f}" for r in c.results] + ["diverged"] * (len(marks) - len(c.results))
        lines.append(f"| {c.name} | " + " | ".join(cells) + " |")
    lines += ["", f"| recipe | minutes | steps | img/s | FID ↓ | KID ↓ | FD {GENERIC} ↓ | KID {GENERIC} ↓ "
                  "| classes (min–max %) |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for c in contenders:
        for r in c.results:
            lines.append(f"| {c.name} | {r['minutes']:g} | {r['steps']} | {r['img_s']:.0f} | {r['fid']:.2f} | "
                         f"{r['kid']:.4f} | {r['fd_generic']:.3f} | {r['kid_generic']:.5f} | "
                         f"{_coverage_cell(r['coverage'])} |")
        if c.failed:
            lines.append(f"| {c.name} | | | | diverged: {c.failed.split(':')[0]} | | | | |")
    return lines
