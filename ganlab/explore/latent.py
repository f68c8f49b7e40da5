"""Latent space maths: seeds -> z, seed lists, lerp/slerp, keyframe paths, GANSpace PCA directions, slider points."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import torch
from torch import Tensor

MAX_SEED = 2**63 - 1  # torch.Generator.manual_seed accepts any int64
_RANGE = re.compile(r"^(\d+)\s*-\s*(\d+)$")
_PARALLEL_EPS = 1e-4  # |sin(angle)| below this counts as (anti)parallel: the slerp weights would blow up


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed={seed!r}: seeds are whole numbers from 0 to {MAX_SEED}")
    return seed


def _check_truncation(truncation: float) -> float:
    if not isinstance(truncation, (int, float)) or not 0.0 <= float(truncation) <= 1.0:
        raise ValueError(f"truncation={truncation!r}: choose a number from 0 (the mean image) to 1 (no truncation)")
    return float(truncation)


def z_from_seed(seed: int, z_dim: int, *, device: str | torch.device = "cpu", truncation: float = 1.0) -> Tensor:
    """Standard-normal z (z_dim,) from a local torch.Generator: the same for a seed on every device and run.

    Truncation scales z toward the origin (z * truncation). Unlike resampling |z| > t, scaling moves the
    image continuously as a slider is dragged and never changes which values were drawn.
    """
    if isinstance(z_dim, bool) or not isinstance(z_dim, int) or z_dim < 1:
        raise ValueError(f"z_dim={z_dim!r}: give a positive latent size")
    gen = torch.Generator(device="cpu").manual_seed(_check_seed(seed))
    # Drawn on the CPU then moved, because CUDA/MPS generators give other numbers for the same seed.
    z = torch.randn(z_dim, generator=gen) * _check_truncation(truncation)
    return z.to(device)


def z_batch(
    seeds: Sequence[int], z_dim: int, device: str | torch.device = "cpu", truncation: float = 1.0
) -> Tensor:
    """Stack of z_from_seed for each seed, (N, z_dim); row i depends on seeds[i] only."""
    if len(seeds) == 0:
        raise ValueError("seeds is empty: give at least one seed")
    return torch.stack([z_from_seed(s, z_dim, truncation=truncation) for s in seeds]).to(device)


def parse_seeds(text: str, *, max_count: int = 10_000, noun: str = "seed") -> list[int]:
    """'0,3,7-9' -> [0, 3, 7, 8, 9] in the order typed (duplicates kept); ValueError names the bad token."""
    if not isinstance(text, str):
        raise ValueError(f"{noun}s {text!r}: give text like '0,3,7-9'")
    seeds: list[int] = []
    for raw in text.split(","):
        token = raw.strip()
        if not token:  # tolerate "1, 2," and "1,,2"
            continue
        if token.isdigit():
            lo = hi = int(token)
        elif m := _RANGE.match(token):
            lo, hi = int(m.group(1)), int(m.group(2))
            if hi < lo:
                raise ValueError(f"{noun} range {token!r} runs backwards; write it as {hi}-{lo}")
        elif re.fullmatch(r"-\s*\d+(\s*-\s*\d+)?", token):
            raise ValueError(f"{noun} {token!r} is negative; {noun}s are whole numbers from 0 to {MAX_SEED}")
        else:
            raise ValueError(f"{noun} {token!r} is not a number or a range like 7-9")
        if hi > MAX_SEED:
            raise ValueError(f"{noun} {token!r} is too large; {noun}s go up to {MAX_SEED}")
        if len(seeds) + (hi - lo + 1) > max_count:  # checked before expanding, so '0-999999999999' is cheap
            raise ValueError(f"{noun}s {text.strip()!r} give more than {max_count} {noun}s; ask for fewer")
        seeds.extend(range(lo, hi + 1))
    if not seeds:
        raise ValueError(f"{noun}s {text!r} contains no {noun}s; give text like '0,3,7-9'")
    return seeds


def keyframes(seeds: Sequence[int], z_dim: int, *, truncation: float = 1.0,
              start: Sequence[float] | None = None) -> Tensor:
    """Keyframe latents (K, z_dim) for seeds, optionally preceded by a given point (the explorer's sliders)."""
    keys = z_batch(seeds, z_dim, truncation=truncation)
    if start is not None:
        keys = torch.cat([torch.tensor([list(start)], dtype=keys.dtype), keys])
    return keys


def _ts(t: float | Sequence[float] | Tensor, like: Tensor) -> Tensor:
    """t as a float tensor shaped to broadcast over `like`: a scalar, or (T, 1, ..., 1) for a 1-D t."""
    tt = torch.as_tensor(t, dtype=like.dtype, device=like.device)
    if tt.dim() == 0:
        return tt
    if tt.dim() != 1:
        raise ValueError(f"t has shape {tuple(tt.shape)}: give a number or a 1-D list of numbers")
    return tt.reshape(-1, *([1] * like.dim()))


def lerp(a: Tensor, b: Tensor, t: float | Sequence[float] | Tensor) -> Tensor:
    """a + (b - a) t; a 1-D t of T values gives a stack (T, *a.shape)."""
    if a.shape != b.shape:
        raise ValueError(f"lerp needs equal shapes, got {tuple(a.shape)} and {tuple(b.shape)}")
    tt = _ts(t, a)
    return a + (b - a) * tt


def _perpendicular(u: Tensor) -> Tensor:
    """A unit vector orthogonal to unit u (..., D): Gram-Schmidt on the basis axis least aligned with u."""
    axis = torch.zeros_like(u).scatter_(-1, u.abs().argmin(dim=-1, keepdim=True), 1.0)
    p = axis - (axis * u).sum(-1, keepdim=True) * u
    return p / p.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def slerp(a: Tensor, b: Tensor, t: float | Sequence[float] | Tensor) -> Tensor:
    """Spherical interpolation along the last axis: the direction turns on the great circle, the norm is lerped.

    So |slerp(a, b, t)| = (1 - t)|a| + t|b| (equal-norm inputs keep their norm, the reason to prefer slerp for
    Gaussian z). Near-parallel inputs and zero vectors fall back to lerp; antiparallel inputs (no unique great
    circle) turn through a fixed perpendicular direction instead of collapsing through zero. t = 0 and t = 1
    return a and b exactly.
    """
    if a.shape != b.shape or a.dim() == 0:
        raise ValueError(f"slerp needs equal non-scalar shapes, got {tuple(a.shape)} and {tuple(b.shape)}")
    tt = _ts(t, a)
    na, nb = a.norm(dim=-1, keepdim=True), b.norm(dim=-1, keepdim=True)
    ua, ub = a / na.clamp_min(1e-12), b / nb.clamp_min(1e-12)
    cos = (ua * ub).sum(-1, keepdim=True).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    sin = torch.sin(omega)
    general = sin.abs() > _PARALLEL_EPS
    safe_sin = torch.where(general, sin, torch.ones_like(sin))
    direction = (torch.sin((1 - tt) * omega) * ua + torch.sin(tt * omega) * ub) / safe_sin
    # Antiparallel: rotate by pi through a perpendicular; lerp would pass through (near) zero norm.
    if a.shape[-1] > 1:
        turn = math.pi * tt
        flipped = torch.cos(turn) * ua + torch.sin(turn) * _perpendicular(ua)
    else:
        flipped = lerp(ua, ub, t)  # 1-D: there is no perpendicular; lerp is the only option
    antiparallel = (~general) & (cos < 0)
    direction = torch.where(antiparallel, flipped, direction)
    out = direction * lerp(na, nb, t)
    degenerate = (~general & ~antiparallel) | (na <= 1e-12) | (nb <= 1e-12)
    out = torch.where(degenerate, lerp(a, b, t), out)
    # Exact endpoints, so keyframes show up bit-identical in paths and GIFs.
    out = torch.where(tt == 0, a.expand_as(out), out)
    return torch.where(tt == 1, b.expand_as(out), out)


def keyframe_path(
    keys: Tensor, frames: int, *, mode: str = "slerp", loop: bool = False, pingpong: bool = False
) -> Tensor:
    """(frames, D) path through keys (K, D), every keyframe hit exactly once the frame budget allows.

    Open path: frames spread over K-1 segments, first frame keys[0], last frame keys[-1].
    loop: K segments (the last returns to keys[0]); the frame before keys[0] is the last one, so a looping
    GIF does not show keys[0] twice. pingpong: keys[0] -> ... -> keys[-1] -> ... -> keys[1], looping.
    """
    if mode not in ("slerp", "lerp"):
        raise ValueError(f"mode={mode!r}: choose 'slerp' or 'lerp'")
    if keys.dim() != 2 or keys.shape[0] < 1:
        raise ValueError(f"keys shape {tuple(keys.shape)}: give (K, z_dim) with K >= 1 keyframes")
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1:
        raise ValueError(f"frames={frames!r}: give a positive number of frames")
    if pingpong and keys.shape[0] > 2:
        keys = torch.cat([keys, keys.flip(0)[1:-1]])  # k0..kK-1, kK-2..k1 then loop back to k0
    closed = (loop or pingpong) and keys.shape[0] > 1
    if keys.shape[0] == 1 or frames == 1:
        return keys[:1].expand(frames, -1).clone()
    segments = keys.shape[0] if closed else keys.shape[0] - 1
    starts = keys
    ends = torch.roll(keys, -1, dims=0) if closed else keys[1:]
    slots = frames if closed else frames - 1  # open paths reserve the last frame for keys[-1]
    if slots >= segments:
        # Split the frames as evenly as possible; each segment starts exactly on its keyframe.
        counts = [slots // segments + (1 if i < slots % segments else 0) for i in range(segments)]
        seg = torch.cat([torch.full((c,), i) for i, c in enumerate(counts)])
        local = torch.cat([torch.arange(c, dtype=keys.dtype) / c for c in counts])
    else:
        # Fewer frames than segments: sample the path uniformly (some keyframes are skipped).
        pos = torch.arange(slots, dtype=keys.dtype) * (segments / max(slots, 1))
        seg = pos.floor().long().clamp_max(segments - 1)
        local = pos - seg
    interp = slerp if mode == "slerp" else lerp
    path = [interp(starts[s], ends[s], float(u)) for s, u in zip(seg.tolist(), local.tolist())]
    if not closed:
        path.append(keys[-1].clone())
    return torch.stack(path) if path else keys[:0]


@torch.no_grad()
def pca_directions(
    generator: torch.nn.Module,
    *,
    num_samples: int = 2048,
    num_components: int = 10,
    seed: int = 0,
    labels: Tensor | int | None = None,
) -> tuple[Tensor, Tensor]:
    """GANSpace (Härkönen et al. 2020): principal directions of G's first-stage features, mapped back to z.

    Samples z, takes `generator.features(z, labels)` (N, F), runs PCA, then solves the least-squares
    regression z ~ C W from the component coefficients C (N, k) to z, so row k of W is the z-direction that
    moves the features along component k. Returns unit directions (k, z_dim) and stds (k,): the z-space length
    of a one-standard-deviation move along each component, so `z + s * stds[k] * directions[k]` is "s sigmas".
    """
    z_dim = int(generator.z_dim)
    if num_samples < 2 or num_components < 1:
        raise ValueError(f"num_samples={num_samples}, num_components={num_components}: need >= 2 samples, >= 1 component")
    device = next(generator.parameters()).device
    z = torch.randn(num_samples, z_dim, generator=torch.Generator().manual_seed(_check_seed(seed))).to(device)
    if isinstance(labels, int):
        labels = torch.full((num_samples,), labels, dtype=torch.long, device=device)
    was_training = generator.training
    generator.eval()  # BatchNorm running stats, as at sampling time
    try:
        feats = generator.features(z, labels).double().flatten(1)  # (N, F)
    finally:
        generator.train(was_training)
    k = min(num_components, feats.shape[1], num_samples - 1)
    centered = feats - feats.mean(0)
    if min(centered.shape) <= 512:
        _, _, vh = torch.linalg.svd(centered, full_matrices=False)
        components = vh[:k].T  # (F, k)
    else:
        # Randomised PCA on a local RNG: deterministic for the seed, and the trainer's global RNG is untouched.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            _, _, components = torch.pca_lowrank(centered, q=min(k + 10, *centered.shape), center=False, niter=6)
        components = components[:, :k]
    coeffs = centered @ components  # (N, k)
    zc = z.double() - z.double().mean(0)
    w = torch.linalg.lstsq(coeffs, zc).solution  # (k, z_dim): z ~ coeffs @ w
    lengths = w.norm(dim=1).clamp_min(1e-12)
    directions = w / lengths[:, None]
    stds = coeffs.std(0) * lengths
    # Fix the sign (SVD's is arbitrary): each direction's largest |entry| is positive.
    signs = torch.sign(directions.gather(1, directions.abs().argmax(1, keepdim=True))).squeeze(1)
    directions = directions * signs[:, None]
    return directions.float().to(device), stds.float().to(device)


def latent_point(
    seed: int,
    z_dim: int,
    truncation: float = 1.0,
    dim_offsets: Sequence[float] = (),
    pc_sigmas: Sequence[float] = (),
    directions: torch.Tensor | None = None,
    stds: torch.Tensor | None = None,
) -> torch.Tensor:
    """z (z_dim,) = truncated seed z + offsets on its first dims + sigma-scaled moves along PCA directions."""
    z = z_from_seed(seed, z_dim, truncation=truncation)
    if len(dim_offsets) > z_dim:
        raise ValueError(f"{len(dim_offsets)} dimension offsets for a {z_dim}-dimensional latent")
    if len(dim_offsets):
        z[: len(dim_offsets)] += torch.tensor(list(dim_offsets), dtype=z.dtype)
    if len(pc_sigmas):
        if directions is None or stds is None or len(pc_sigmas) > directions.shape[0]:
            raise ValueError(f"{len(pc_sigmas)} direction sliders need as many principal directions")
        k = len(pc_sigmas)
        weights = torch.tensor(list(pc_sigmas), dtype=z.dtype) * stds[:k].cpu()
        z = z + weights @ directions[:k].cpu()  # (k,) @ (k, z_dim) -> (z_dim,)
    return z
