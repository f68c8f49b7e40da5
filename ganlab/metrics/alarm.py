"""The collapse alarm: watches the live records' diversity numbers and says, in words, when G stops covering the data.

A record raises the alarm when
- diversity (k-NN coverage, else recall) fell below DROP_SHARE of its best value so far, after it had reached
  DROP_FROM (a run that had covered the data lost it);
- diversity stays below NEAR_ZERO for STAY measures in a row, or the samples look alike (their features spread
  less than SPREAD_MIN of the real images') for STAY measures in a row. One low measure is not enough: an
  untrained G (BatchNorm statistics still at their start values) also makes near-identical images;
- (classifiers) a class share leaves the band [LOW/K, HIGH/K] while the samples look real (precision >= REAL_ENOUGH).
The Playground uses `mode_alarm` with its own mode count.
"""

from __future__ import annotations

from typing import Any

SPREAD_MIN = 0.1
DROP_FROM, DROP_SHARE = 0.3, 0.5
NEAR_ZERO = 0.05
STAY = 3  # consecutive measures
REAL_ENOUGH = 0.5
LOW, HIGH = 0.25, 3.0  # class band, in multiples of the fair share 1/K
ADVICE = ("Try lower learning rates (lr_g, lr_d) or more D steps, the hinge or wgan-gp loss, EMA of G, "
          "or continue from checkpoints/best.pt.")


def _alarm(message: str) -> dict[str, str]:
    return {"kind": "collapse", "message": message, "try": ADVICE}


class CollapseWatch:
    """Keeps the best diversity seen and checks each new live record (state_dict() for exact resume)."""

    def __init__(self, num_classes: int = 0) -> None:
        self.num_classes = num_classes
        self.best = 0.0
        self.best_step = 0
        self.low = 0  # consecutive measures with diversity below NEAR_ZERO
        self.alike = 0  # consecutive measures with spread below SPREAD_MIN

    def check(self, record: dict[str, Any], step: int = 0) -> dict[str, str] | None:
        """An alarm dict {"kind", "message", "try"} for this record, or None; then remembers its diversity."""
        name, diversity = _diversity(record)
        precision = record.get("precision")
        looks_real = precision is not None and precision >= REAL_ENOUGH
        messages = []
        spread = record.get("spread")
        self.alike = self.alike + 1 if spread is not None and spread < SPREAD_MIN else 0
        if self.alike >= STAY:
            messages.append(f"the samples look alike (their features vary {spread:.0%} as much as real images')")
        if diversity is not None:
            self.low = self.low + 1 if diversity < NEAR_ZERO else 0
            if self.best >= DROP_FROM and diversity < DROP_SHARE * self.best:
                messages.append(f"{name} fell from {self.best:.2f} (step {self.best_step}) to {diversity:.2f}")
            elif self.low >= STAY:
                messages.append(f"{name} has stayed below {NEAR_ZERO} for {self.low} measures ({diversity:.2f} now)")
            if diversity > self.best:
                self.best, self.best_step = diversity, step
        shares = record.get("coverage")
        if shares and self.num_classes > 0 and looks_real:
            k = len(shares)
            out = [i for i, s in enumerate(shares) if not LOW / k <= s <= HIGH / k]
            if out:
                worst = max(out, key=lambda i: abs(shares[i] - 1 / k))
                messages.append(f"class {worst} makes up {shares[worst]:.0%} of the samples (fair share {1 / k:.0%})")
        if not messages:
            return None
        return _alarm("Mode collapse? " + "; ".join(messages) + ".")

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_step": self.best_step, "low": self.low, "alike": self.alike}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = float(state.get("best", 0.0))
        self.best_step = int(state.get("best_step", 0))
        self.low, self.alike = int(state.get("low", 0)), int(state.get("alike", 0))


def _diversity(record: dict[str, Any]) -> tuple[str, float | None]:
    if record.get("knn_coverage") is not None:
        return "coverage", float(record["knn_coverage"])
    if record.get("recall") is not None:
        return "recall", float(record["recall"])
    return "", None


def mode_alarm(covered: int, total: int, min_share: float = 0.5) -> dict[str, str] | None:
    """For data with known modes (the Playground's ring and grid): alarm when G covers under min_share of them."""
    if total <= 0 or covered >= min_share * total:
        return None
    return _alarm(f"Mode collapse? G covers {covered} of the {total} modes.")
