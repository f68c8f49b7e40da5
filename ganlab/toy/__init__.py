"""2-D toy GANs for the playground: config and presets, a step-wise trainer, density-grid divergences."""

from ganlab.toy.config import (
    NOISES,
    OPTIMIZERS,
    TOY_LOSSES,
    TOY_PRESETS,
    ToyConfig,
    check_points,
    parse_points_csv,
)
from ganlab.toy.divergence import (
    collapse_alarm,
    density_grid,
    js_divergence,
    kl_divergence,
    known_modes,
    modes_covered,
)
from ganlab.toy.points import list_toy2d, load_toy2d, toy2d_descriptions
from ganlab.toy.trainer import ToyTrainer

__all__ = [
    "NOISES", "OPTIMIZERS", "TOY_LOSSES", "TOY_PRESETS", "ToyConfig", "ToyTrainer", "check_points", "collapse_alarm",
    "density_grid", "js_divergence", "kl_divergence", "known_modes", "list_toy2d", "load_toy2d", "modes_covered",
    "parse_points_csv", "toy2d_descriptions",
]
