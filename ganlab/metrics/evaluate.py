"""Score a saved generator (run checkpoint, run id or shipped model) in one call: the code behind
`python -m ganlab evaluate` and the app's evaluation."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ganlab.data import DataRequest, FolderStream
from ganlab.explore import load_generator
from ganlab.metrics.cache import cached_real_stats
from ganlab.metrics.extractors import choose_extractor
from ganlab.metrics.quality import evaluate_generator
from ganlab.metrics.real import dataset_real_stats, evaluation_images

MAX_REAL = 10_000  # real images whose statistics are compared against (cached on disk after the first time)


def evaluate_checkpoint(
    checkpoint: str | Path,
    *,
    extractor: str | None = None,
    samples: int = 5000,
    dataset: str | None = None,
    data_path: str | None = None,
    which: str = "latest",
    seed: int = 0,
    use_ema: bool = True,
    device: str = "cpu",
) -> dict[str, Any]:
    """FD, KID, precision/recall, density/coverage (and class shares) of a generator, as one plain dict.

    The dataset (and folder) default to those the run trained on; `extractor` names one explicitly (else the
    dataset's own, else the best generic one; "extractor_note" says what was passed over and why).
    """
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 10:
        raise ValueError(f"samples={samples!r}: give at least 10 generated samples")
    t0 = time.perf_counter()
    loaded = load_generator(checkpoint, use_ema=use_ema, device=device, which=which)
    mc, tc = loaded.model_config, loaded.train_config
    name = dataset or str(tc.get("dataset") or loaded.card.get("dataset") or "")
    if not name:
        raise ValueError(f"{loaded.source} does not say which dataset it was trained on: pass a dataset name")
    request = DataRequest(name=name, size=mc.img_size, channels=mc.img_channels,
                          path=data_path if data_path is not None else str(tc.get("data_path") or ""),
                          subset=str(tc.get("data_subset") or "") if dataset in (None, tc.get("dataset")) else "",
                          fit=str(tc.get("fit") or "crop"))
    choice = choose_extractor(name, mc.img_channels, mc.img_size, name=extractor)
    if choice is None:
        raise ValueError(f"no feature extractor can score {mc.img_channels}-channel {mc.img_size} px images")
    ext = choice.extractor.to(device)
    real, split = evaluation_images(request)
    if isinstance(real, FolderStream):  # a folder too big for memory: a bounded decoded sample
        stats = dataset_real_stats(ext, real, max_count=MAX_REAL, seed=seed, split=split)
    else:
        stats = cached_real_stats(ext, real, split, max_count=MAX_REAL, seed=seed)
    result = evaluate_generator(loaded.generator, ext, stats, n=samples, seed=seed)
    result.update(
        checkpoint=loaded.source,
        step=loaded.step,
        dataset=name,
        used_ema=loaded.used_ema,
        extractor_note=choice.note,
        seconds=round(time.perf_counter() - t0, 3),
    )
    return result
