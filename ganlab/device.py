"""Device, precision and CPU-thread choices: `auto` picks the fastest safe path on this machine."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from ganlab.config import ConfigError, parse_device


@dataclass(frozen=True)
class Hardware:
    """The resolved execution target of a run."""

    device: torch.device
    precision: str  # fp32 | bf16 | fp16
    channels_last: bool

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.precision)

    def autocast(self) -> contextlib.AbstractContextManager:
        """Mixed-precision context for forward passes (a no-op in fp32)."""
        dtype = self.autocast_dtype
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=dtype)


def cuda_device_count() -> int:
    """CUDA devices this process can use (0 without CUDA); tests replace it to fake a multi-GPU machine."""
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def available_devices() -> list[str]:
    """Devices usable on this machine, best first (for the UI's device picker): cuda means any free GPU,
    and with several GPUs each one is also offered by number (cuda:0, cuda:1...)."""
    found = []
    gpus = cuda_device_count()
    if gpus:
        found.append("cuda")
        if gpus > 1:
            found += [f"cuda:{k}" for k in range(gpus)]
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        found.append("mps")
    found.append("cpu")
    return found


def check_available(name: str) -> tuple[str, int | None]:
    """(kind, GPU number or None) of a device choice this machine has (auto resolved); ConfigError naming the
    available ones otherwise."""
    kind, index = parse_device(name)
    available = available_devices()
    if kind == "auto":
        kind = available[0]
    if kind not in available or (index is not None and index >= cuda_device_count()):
        raise ConfigError(f"device={name!r} is not available on this machine; available: {', '.join(available)}")
    return kind, index


def resolve_device(name: str) -> torch.device:
    """auto = cuda > mps > cpu; cuda = the current GPU (the job queue pins cuda:K instead); a choice this machine
    does not have is a user error."""
    kind, index = check_available(name)
    if kind == "cuda":  # with its index, so status and sidebar show which GPU, also for a plain "cuda"
        return torch.device("cuda", torch.cuda.current_device() if index is None else index)
    return torch.device(kind)


def pick_device(requested: str, busy: set[str] | frozenset[str]) -> str | None:
    """The device a queued job may be pinned to now, or None while it must wait: one job per GPU (cuda and auto
    take any free one, cuda:K waits for GPU K) and one job on the CPU (or MPS) at a time."""
    kind, index = parse_device(requested)
    gpus = cuda_device_count()
    if kind == "auto":
        kind = "cuda" if gpus else available_devices()[0]
    if kind == "cuda":
        candidates = [f"cuda:{index}"] if index is not None else [f"cuda:{k}" for k in range(gpus)]
    else:
        candidates = [kind]
    return next((c for c in candidates if c not in busy), None)


@functools.lru_cache(maxsize=1)
def cpu_has_fast_bf16() -> bool:
    """True on CPUs with AMX-BF16 or AVX512-BF16, where bf16 autocast beats fp32 by ~2x."""
    flags = ""
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = line
                    break
    if flags:
        return " amx_bf16" in flags or " avx512_bf16" in flags
    return False


def supported_precisions(device: torch.device) -> list[str]:
    """Precisions that run on this device (fp32 always)."""
    if device.type == "cuda":
        out = ["fp32", "fp16"]
        if torch.cuda.is_bf16_supported():
            out.insert(1, "bf16")
        return out
    if device.type == "mps":
        return ["fp32", "fp16"]
    return ["fp32", "bf16"]


def resolve_precision(name: str, device: torch.device) -> str:
    """auto = bf16 on CUDA/fast-bf16 CPUs, fp16 on CUDA without bf16, else fp32."""
    if name == "auto":
        if device.type == "cuda":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        if device.type == "cpu" and cpu_has_fast_bf16():
            return "bf16"
        return "fp32"
    if name not in supported_precisions(device):
        raise ConfigError(
            f"precision={name!r} is not supported on {device.type}; "
            f"choose one of: {', '.join(supported_precisions(device))}"
        )
    return name


def resolve_hardware(device: str, precision: str) -> Hardware:
    dev = resolve_device(device)
    prec = resolve_precision(precision, dev)
    # channels_last pays off with conv kernels in reduced precision (oneDNN / tensor cores).
    return Hardware(device=dev, precision=prec, channels_last=prec != "fp32" or dev.type == "cuda")


def usable_cpus() -> int:
    """CPUs this process may run on: affinity mask, then cgroup quota, never more than os.cpu_count()."""
    count = os.cpu_count() or 1
    with contextlib.suppress(AttributeError, OSError):
        count = len(os.sched_getaffinity(0))
    with contextlib.suppress(OSError, ValueError):
        with open("/sys/fs/cgroup/cpu.max", encoding="utf-8") as fh:
            quota, period = fh.read().split()[:2]
            if quota != "max":
                count = max(1, min(count, int(int(quota) // int(period))))
    return max(1, count)


def set_threads(requested: int = 0) -> int:
    """Set torch's intra-op threads to the request (0 = all usable CPUs); returns the count."""
    threads = requested if requested > 0 else usable_cpus()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one intra-op thread for the block, then restore the previous count.

    Small work (the Playground's nets, the metrics' float64 eigh/matmuls) runs fastest single-threaded: on a busy
    CPU OpenMP's fan-out spins (measured: a toy iteration 41 ms vs 5 ms; eigh of 624 x 624, 1.4 s on 2 threads vs
    0.19 s on 1). With the OpenMP backend the count is per OS thread, so a job training in another thread keeps
    its own setting.
    """
    before = torch.get_num_threads()
    if before != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if before != 1:
            torch.set_num_threads(before)
