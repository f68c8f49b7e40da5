"""The disturbance test (Heusel et al. 2017) for every extractor: prints one markdown table per (dataset, extractor).

    python scripts/disturbance_check.py                       # fashion-mnist, digits, emoji; all their extractors
    python scripts/disturbance_check.py --datasets digits --n 500

Real images are split into a reference half and an evaluated half (disjoint, seeded); the evaluated half is
disturbed with Gaussian noise, box blur, salt and pepper, black images and (labelled data) one class, and scored
against the reference. Each FD/KID must rise with each disturbance's strength; the caption says how much a blur
moves FD/KID compared with Gaussian noise of the same visual damage (1 = alike), on the pixel-RMS and SSIM scales.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from ganlab.data import open_dataset  # noqa: E402
from ganlab.metrics import extractor_by_name, list_extractors, retired_extractors  # noqa: E402
from ganlab.metrics.validate import balance_line, disturbance_table, markdown, non_monotonic, seeded_halves  # noqa: E402

# dataset -> (open_dataset arguments, extractors to test when available)
DATASETS = {
    "fashion-mnist": ({"size": 28, "subset": "test"}, ("fashion-mnist", "fashion-mnist-layers", "random-conv-v1")),
    "digits": ({"size": 32}, ("digits", "digits-layers", "random-conv-v1")),
    "emoji": ({"size": 32}, ("inception-v3", "random-conv-v1")),
}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def check(dataset: str, n: int, extractors: list[str] | None = None) -> list[str]:
    """Print the tables of one dataset; return the non-monotonic findings."""
    kwargs, names = DATASETS[dataset]
    data = open_dataset(dataset, **kwargs)
    reference, evaluated = seeded_halves(data.images, n)
    one_class = None
    if data.labels is not None:
        _, eval_labels = seeded_halves(data.labels[:, None, None, None], n)
        one_class = evaluated[eval_labels.view(-1) == 1]
    problems = []
    for name in names:
        if extractors and name not in extractors:
            continue
        if name not in list_extractors() and name not in retired_extractors():  # retired: still shown, as why
            print(f"({name}: not available on this machine, skipped)\n", flush=True)
            continue
        extractor = extractor_by_name(name, data.channels, data.size)
        t0 = time.perf_counter()
        rows = disturbance_table(extractor, reference, evaluated, one_class)
        title = (f"{dataset} ({data.size} px, {reference.shape[0]} reference vs {evaluated.shape[0]} evaluated "
                 f"images), extractor {name}")
        print(markdown(rows, title) + "\n\n" + balance_line(rows), flush=True)
        bad = non_monotonic(rows)
        print(("not monotonic: " + "; ".join(bad)) if bad else "FD and KID rise monotonically along every disturbance.",
              f"({time.perf_counter() - t0:.0f} s)\n", flush=True)
        problems += [f"{dataset}/{name}: {b}" for b in bad]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--extractors", nargs="*", default=None, help="only these extractor names")
    parser.add_argument("--n", type=int, default=2000, help="images in each half (fewer when the set is small)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    args = parser.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    print(f"CPU: {cpu_model()}, torch {torch.__version__}, {torch.get_num_threads()} threads\n", flush=True)
    problems = []
    for dataset in args.datasets:
        problems += check(dataset, args.n, args.extractors)
    print("all monotonic" if not problems else f"{len(problems)} non-monotonic rows", flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
