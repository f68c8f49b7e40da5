"""GPU check: does GAN Lab train on this machine's CUDA GPU(s), how fast, and did anything fall back to the CPU?

From a fresh checkout, one command (makes .venv-gpu, installs requirements.txt, runs this file):
    scripts/gpu_check.sh
With an environment whose torch already has CUDA:
    python scripts/gpu_check.py
A CPU rehearsal of every step with small sizes (what the tests run; the output has the same sections):
    python scripts/gpu_check.py --dry-run

It prints torch/CUDA versions and the cards; `python -m ganlab bench` on the GPU (GAN Lab's trainer against the
plain fp32 pytorch/examples loops on the same card, three configs, plus explorer latency); a two-minute
Fashion-MNIST run and its FID (5,000 samples against the test set, the shipped classifier's features); explorer
latency from that run's checkpoint; one job of the app's queue pinned to a GPU; with two or more GPUs, one run on
two GPUs through torchrun (DDP, NCCL, SyncBatchNorm); peak GPU memory of each part. Exit status 1 when CUDA is
missing or any part ran on the CPU instead of the GPU; about 6 minutes on one H100 (plus the install).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402


class Checks:
    """PASS/FAIL lines as they happen; the exit status says whether any failed."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def require(self, ok: bool, what: str) -> bool:
        print(f"  {'PASS' if ok else 'FAIL'}: {what}", flush=True)
        if not ok:
            self.failed.append(what)
        return ok


STARTED = time.perf_counter()  # reset by main()


def section(title: str) -> None:
    print(f"\n== {title}   [+{time.perf_counter() - STARTED:.0f} s]", flush=True)


def peak_memory(device: torch.device) -> str:
    """Peak GPU memory since the last reset (then reset), or '' on the CPU."""
    if device.type != "cuda":
        return ""
    peak = torch.cuda.max_memory_allocated(device) / 2**20
    torch.cuda.reset_peak_memory_stats(device)
    return f"peak GPU memory {peak:,.0f} MiB"


def versions(device: torch.device, checks: Checks) -> bool:
    section("versions and cards")
    print(f"  python {platform.python_version()} on {platform.platform()}")
    print(f"  torch {torch.__version__}, built with CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}")
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    for k in range(count):
        props = torch.cuda.get_device_properties(k)
        print(f"  cuda:{k}: {props.name}, {props.total_memory / 2**30:.1f} GiB, compute capability "
              f"{props.major}.{props.minor}, bf16 {'yes' if torch.cuda.is_bf16_supported() else 'no'}")
    if device.type == "cpu":
        print("  dry run: every step on the CPU with small sizes")
        return True
    return checks.require(count > 0, "CUDA is available (torch.cuda.is_available(); if not: a CPU-only torch wheel, "
                                     "no driver, or CUDA_VISIBLE_DEVICES hides the cards)")


def bench(device: torch.device, args: argparse.Namespace, checks: Checks) -> None:
    from ganlab.bench import run_bench
    from ganlab.bench.throughput import FellBackError

    section(f"python -m ganlab bench --device {device.type} (trainer vs the plain fp32 loop on the same device)")
    try:
        run_bench(seconds=args.bench_seconds, repeats=args.bench_repeats, poll_seconds=args.poll_seconds,
                  quick=args.dry_run, emit=lambda line: print(f"  {line}", flush=True), device=str(device))
        checks.require(True, f"every benchmark part ran on {device.type}")
    except FellBackError as exc:
        checks.require(False, f"benchmark: {exc}")
    peak_memory(device)


def fashion_run(device: torch.device, args: argparse.Namespace, runs: Path, checks: Checks) -> Path | None:
    """Train for args.train_seconds on Fashion-MNIST (digits in a dry run without it); FID at the end."""
    from ganlab.config import TrainConfig
    from ganlab.data import open_dataset
    from ganlab.metrics import evaluate_generator, get_extractor, real_feature_stats
    from ganlab.runs import RunRecorder, RunState
    from ganlab.train import Trainer

    name = "fashion-mnist"
    try:
        train, test = open_dataset(name, size=28), open_dataset(name, size=28, subset="test")
    except ValueError as exc:
        if not args.dry_run:
            checks.require(False, f"Fashion-MNIST: {exc}")
            return None
        name, train, test = "digits", open_dataset("digits", size=28), open_dataset("digits", size=28)
    section(f"{name}: {args.train_seconds:.0f} s of training on {device.type}, then FID")
    small = dict(g_channels=8, d_channels=8, z_dim=16, batch_size=32) if args.dry_run else {}
    config = TrainConfig(dataset=name, img_size=28, batch_size=128, ema=0.999, device=str(device), precision="auto",
                         max_steps=10**9, log_every=100, sample_every=10**9, checkpoint_every=10**9,
                         quality_every=0, seed=0, name="gpu-check").replace(**small)
    recorder = RunRecorder.create(config, runs, kind="script")
    try:
        trainer = Trainer(config, recorder.run, dataset=train)
        images = getattr(trainer.sampler, "_images", None)
        checks.require(trainer.device.type == device.type, f"the trainer runs on {trainer.device} "
                       f"({trainer.hardware.precision}, channels_last {trainer.hardware.channels_last})")
        checks.require(all(p.device.type == device.type for p in trainer.G.parameters()), "G's weights are there")
        checks.require(images is not None and images.device.type == device.type,
                       f"the dataset is held there ({tuple(train.images.shape)} uint8)")
        recorder.record(RunState.RUNNING, hardware=f"{trainer.device} · {trainer.hardware.precision}")
        started = time.perf_counter()
        while time.perf_counter() - started < args.train_seconds:
            trainer.train_step()
        record = trainer.log_record()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - started
        trainer.save()
        recorder.record(RunState.FINISHED, step=trainer.step, elapsed=trainer.elapsed, last=record or {})
    finally:
        recorder.release()
    rate = trainer.step * config.batch_size / seconds
    print(f"  {trainer.step:,} steps of batch {config.batch_size} in {seconds:.0f} s: {rate:,.0f} img/s, "
          f"{trainer.step * config.batch_size / len(train):.1f} epochs; {peak_memory(device)}", flush=True)
    extractor = get_extractor(name, 1, 28)
    if extractor is None:
        checks.require(False, f"a feature extractor for {name} (pretrained/extractors)")
        return recorder.run.latest_checkpoint
    extractor = extractor.to(device)
    checks.require(next(extractor.parameters()).device.type == device.type, "the FID classifier runs there too")
    t0 = time.perf_counter()
    stats = real_feature_stats(extractor, test.images, max_count=2_000 if args.dry_run else 10_000)
    trainer.calibrate_ema()
    result = evaluate_generator(trainer.G_ema or trainer.G, extractor, stats, n=args.fid_samples, seed=0)
    coverage = result["coverage"] or [0.0]
    print(f"  FID {result['fid']:.2f}, KID {result['kid']:.4f} ({args.fid_samples:,} samples of the EMA generator vs "
          f"{stats.count:,} test images; classes {min(coverage):.1%}-{max(coverage):.1%}) in "
          f"{time.perf_counter() - t0:.1f} s; {peak_memory(device)}", flush=True)
    return recorder.run.latest_checkpoint


def explorer(checkpoint: Path, device: torch.device, checks: Checks) -> None:
    from ganlab.explore import load_generator, z_batch

    section(f"explorer latency on {device.type} (the run's checkpoint, LoadedGenerator.generate to uint8 on the host)")
    loaded = load_generator(checkpoint, device=device)
    checks.require(loaded.device.type == device.type, f"the explorer's generator is on {loaded.device}")
    for n in (1, 16):
        z = z_batch(list(range(n)), loaded.model_config.z_dim)
        loaded.generate(z)  # warm-up (kernel selection)
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            loaded.generate(z)
            times.append((time.perf_counter() - t0) * 1000)
        print(f"  {n:2d} image(s) at {loaded.model_config.img_size} px: {statistics.median(times):.2f} ms (median of 20)")
    print(f"  {peak_memory(device)}")


def queued_job(device: torch.device, checks: Checks) -> None:
    from ganlab.config import TrainConfig
    from ganlab.train import JobManager

    section("a job of the app's queue (worker process) pinned to a device")
    manager = JobManager()
    config = TrainConfig(dataset="digits", img_size=16, g_channels=8, d_channels=8, z_dim=16, batch_size=32,
                         max_steps=30, quality_every=0, device="cuda" if device.type == "cuda" else "cpu")
    try:
        job = manager.submit(config)
        snap = job.wait_for(lambda s: not s.active, timeout=300)
    finally:
        manager.shutdown()
    print(f"  {snap.run_id}: {snap.state} at step {snap.step}, pinned to {snap.device}, hardware {snap.hardware}")
    wanted = "cuda:" if device.type == "cuda" else "cpu"
    checks.require(snap.state == "finished" and snap.device.startswith(wanted) and snap.hardware.startswith(wanted),
                   f"the job trained on {snap.device or '?'} and its worker reported {snap.hardware or '?'}")


def torchrun_run(device: torch.device, runs: Path, checks: Checks) -> None:
    from ganlab.runs import list_runs, read_status

    section(f"one run in 2 processes through torchrun on {device.type} (DDP{', NCCL, SyncBatchNorm' if device.type == 'cuda' else ', gloo'})")
    folder = runs / "torchrun"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "ganlab",
               "train", "--dataset", "fashion-mnist" if device.type == "cuda" else "digits", "--device", device.type,
               "--max-steps", "300" if device.type == "cuda" else "20", "--img-size", "28", "--quality-every", "0",
               "--log-every", "50", "--runs-dir", str(folder)]
    t0 = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    found = list_runs(folder)
    status = read_status(found[0]) if found else {}
    last = status.get("last") or {}
    print(f"  exit {done.returncode} in {time.perf_counter() - t0:.0f} s; {status.get('hardware')}; step "
          f"{status.get('step')}, {last.get('img_s', 0):,.0f} img/s over both processes, loss_d {last.get('loss_d')}")
    if done.returncode != 0:
        print("  " + done.stderr[-2000:].replace("\n", "\n  "))
    checks.require(done.returncode == 0 and status.get("state") == "finished" and
                   f"· {device.type} ·" in str(status.get("hardware")),
                   "torchrun trained one run in 2 processes on the device and finished")


def isolated_home() -> Path:
    """A GANLAB_HOME of the check's own (its runs never join yours) that reads datasets from your data folder
    (Fashion-MNIST: GANLAB_HOME/data/fashion-mnist, Debian's /usr/share/datasets, or a torchvision download)."""
    yours = Path(os.environ.get("GANLAB_HOME") or Path.home() / ".ganlab").expanduser()
    (yours / "data").mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="ganlab-gpu-check-"))
    (home / "data").symlink_to(yours / "data", target_is_directory=True)
    os.environ["GANLAB_HOME"] = str(home)
    return home / "runs"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true", help="every step on the CPU with small sizes")
    parser.add_argument("--train-seconds", type=float, default=None, help="Fashion-MNIST training time (120; dry 3)")
    parser.add_argument("--fid-samples", type=int, default=None, help="generated samples for the FID (5000; dry 500)")
    parser.add_argument("--bench-seconds", type=float, default=3.0, help="seconds per loop and benchmark round")
    parser.add_argument("--bench-repeats", type=int, default=3)
    parser.add_argument("--poll-seconds", type=float, default=6.0, help="bench polling measurement (0 = skip)")
    parser.add_argument("--skip-bench", action="store_true")
    parser.add_argument("--torchrun", action="store_true", help="also the 2-process torchrun run in a dry run")
    args = parser.parse_args(argv)
    global STARTED
    STARTED = time.perf_counter()
    if args.dry_run:
        args.bench_seconds, args.bench_repeats, args.poll_seconds = 0.05, 1, 0.0
    args.train_seconds = args.train_seconds if args.train_seconds is not None else (3.0 if args.dry_run else 120.0)
    args.fid_samples = args.fid_samples or (500 if args.dry_run else 5000)
    device = torch.device("cpu" if args.dry_run else "cuda", None if args.dry_run else 0)
    checks = Checks()
    runs = isolated_home()
    if versions(device, checks):
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        if not args.skip_bench:
            bench(device, args, checks)
        checkpoint = fashion_run(device, args, runs, checks)
        if checkpoint is not None:
            explorer(checkpoint, device, checks)
        queued_job(device, checks)
        gpus = torch.cuda.device_count() if device.type == "cuda" else 0
        if gpus >= 2 or (args.dry_run and args.torchrun):
            torchrun_run(device, runs, checks)
        elif device.type == "cuda":
            print("\n== torchrun: skipped (one GPU; it needs two)")
    section("summary")
    print(f"  {time.perf_counter() - STARTED:.0f} s; the check's runs are in {runs}")
    print(json.dumps({"ok": not checks.failed, "failed": checks.failed}))
    return 1 if checks.failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
