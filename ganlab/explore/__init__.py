"""Exploring a trained generator: latent maths, loading a generator from a file, generating images, animations."""

from ganlab.explore.animation import (
    MAX_KEYFRAMES,
    check_frames,
    export_bundle,
    interpolation_frames,
)
from ganlab.explore.generator import MAX_GRID, LoadedGenerator, load_generator
from ganlab.explore.latent import (
    keyframe_path,
    keyframes,
    latent_point,
    lerp,
    parse_seeds,
    pca_directions,
    slerp,
    z_batch,
    z_from_seed,
)
from ganlab.explore.sweep import sweep_grid, sweep_latents, unit_directions

__all__ = [
    "MAX_GRID", "MAX_KEYFRAMES", "LoadedGenerator", "check_frames", "export_bundle", "interpolation_frames",
    "keyframe_path", "keyframes", "latent_point", "lerp", "load_generator", "parse_seeds", "pca_directions", "slerp", "z_batch",
    "sweep_grid", "sweep_latents", "unit_directions", "z_from_seed",
]
