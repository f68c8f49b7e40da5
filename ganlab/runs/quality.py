"""Reading the quality numbers a run logged: the series (against steps and training time), its best and final
value, and which numbers compare (the same feature extractor and sample count only)."""

from __future__ import annotations

import bisect
import math
from typing import Any

METRIC = "fid"  # Fréchet distance in the record's extractor's feature space (FID proper only for inception-v3)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def kind(record: dict[str, Any]) -> tuple[str, Any]:
    """(extractor, samples): numbers compare only when both are equal."""
    return str(record.get("extractor") or "?"), record.get("n_fake")


def metric_name(record: dict[str, Any]) -> str:
    """'FID' for Inception features (the number papers report), 'FD' (Fréchet distance) in any other space."""
    return "FID" if kind(record)[0] == "inception-v3" else "FD"


def quality_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records with a finite quality number, each with "elapsed" (training seconds) filled in from the loss
    record of the same or the nearest earlier step when the quality record has none (older runs)."""
    clock = [(int(r["step"]), float(r["elapsed"])) for r in records
             if "loss_d" in r and _finite(r.get("elapsed")) and _finite(r.get("step"))]
    clock.sort()
    steps = [s for s, _ in clock]
    out = []
    for record in records:
        if not _finite(record.get(METRIC)):
            continue
        if not _finite(record.get("elapsed")) and clock:
            i = bisect.bisect_right(steps, int(record.get("step", 0))) - 1
            record = {**record, "elapsed": clock[max(i, 0)][1]}
        out.append(record)
    return out


def final_quality(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest record with a finite quality number (where the run's budget ended)."""
    found = quality_records(records)
    return found[-1] if found else None


def best_quality(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The record with the lowest quality number (what best.pt holds), the earliest on ties."""
    found = quality_records(records)
    return min(found, key=lambda r: r[METRIC]) if found else None


def quality_text(records: list[dict[str, Any]]) -> str:
    """'FD 12.3 · step 4,000 · fashion-mnist' for the newest quality record ('—' when none): a number always
    says where and with what it was measured, since numbers from different extractors do not compare."""
    record = final_quality(records)
    if record is None:
        return "—"
    return f"{metric_name(record)} {record[METRIC]:.2f} · step {int(record.get('step', 0)):,} · {kind(record)[0]}"


def latest_alarm(records: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The collapse alarm of the newest quality record ({"kind", "message", "try"}), None when it is quiet."""
    record = final_quality(records)
    alarm = record.get("alarm") if record else None
    return alarm if isinstance(alarm, dict) and alarm.get("message") else None
