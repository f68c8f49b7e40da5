"""`evaluate`: FD, KID, precision/recall and density/coverage of a checkpoint, printed as one JSON object."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any


def _plain(value: Any) -> Any:
    """JSON-safe: NaN/inf become null (json.dumps would write invalid JSON for them)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def cmd_evaluate(args: argparse.Namespace) -> int:
    import sys

    from ganlab.metrics import evaluate_checkpoint, retired_extractors

    why = retired_extractors().get(args.extractor or "")
    if why:  # still measured, so an older record can be compared like for like
        print(f"note: extractor {args.extractor!r} is retired ({why})", file=sys.stderr)
    result = evaluate_checkpoint(args.checkpoint, extractor=args.extractor, samples=args.samples,
                                 dataset=args.dataset, data_path=args.data_path, which=args.which, seed=args.seed,
                                 use_ema=not args.no_ema, device=args.device)
    print(json.dumps(_plain(result), allow_nan=False))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="print FD/KID/precision/recall/density/coverage of a checkpoint as JSON")
    p.add_argument("checkpoint", help="run checkpoint (.pt), run folder or run id, or a pretrained .safetensors")
    p.add_argument("--which", choices=("latest", "best"), default="latest",
                   help="for a run folder or id: checkpoints/latest.pt or checkpoints/best.pt")
    p.add_argument("--extractor", default=None, help="feature extractor name (default: the dataset's own or generic)")
    p.add_argument("--samples", type=int, default=5000, help="generated samples to score")
    p.add_argument("--dataset", default=None, help="real data to compare with (default: the run's dataset)")
    p.add_argument("--data-path", default=None, help="folder or zip for folder/zip datasets (default: the run's)")
    p.add_argument("--seed", type=int, default=0, help="seed of the latent vectors and the real subset")
    p.add_argument("--no-ema", action="store_true", help="score the raw G weights even when EMA exists")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.set_defaults(func=cmd_evaluate)
