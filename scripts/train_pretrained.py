"""Train the shipped generators and export them to pretrained/ (run: python scripts/train_pretrained.py NAME).

Each recipe below is the full config; the model card records it, the machine, the wall-clock time
and this exact command. A recipe in CONTINUE then resumes the run with those overrides (resume is
exact, so this equals `python -m ganlab resume RUN --epochs ... --ema ...` by hand). Metrics are
added by scripts/evaluate_pretrained.py.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ganlab.config import TrainConfig  # noqa: E402
from ganlab.runs import RunRecorder, RunState  # noqa: E402
from ganlab.runs.export import export_generator, machine_description  # noqa: E402
from ganlab.train.resume import resume_trainer  # noqa: E402
from ganlab.train.trainer import Trainer  # noqa: E402

COMMON = dict(device="auto", precision="auto", log_every=50, sample_every=500, checkpoint_every=1000, seed=0,
              quality_every=0, threads=1)  # one thread each: two recipes train side by side on 2 cores
RECIPES: dict[str, dict] = {
    "digits-dcgan": dict(dataset="digits", img_size=32, arch="dcgan", loss="bce", batch_size=64, epochs=100,
                         g_channels=64, d_channels=64, z_dim=64, ema=0.999),
    # The Fashion-MNIST cards use the measured default (README, Time to a good generator): widths 32, batch 32 and,
    # for BCE, learning rates 4e-4; run longer (36 epochs) and averaged (EMA 0.999) for a shipped picture.
    "fashion-dcgan": dict(dataset="fashion-mnist", img_size=28, arch="dcgan", loss="bce", batch_size=32, epochs=36,
                          g_channels=32, d_channels=32, lr_g=4e-4, lr_d=4e-4, z_dim=100, ema=0.999),
    "fashion-wgangp": dict(dataset="fashion-mnist", img_size=28, arch="dcgan", loss="wgan-gp", batch_size=64,
                           epochs=30, d_steps=5, lr_g=2e-4, lr_d=2e-4, beta1=0.0, beta2=0.9, gp_lambda=10.0,
                           g_channels=64, d_channels=64, z_dim=100, ema=0.999),
    # Tried 2026-11-28: the same with widths 32 (the Fashion-MNIST default's) for the same 30 epochs scored worse by
    # every metric (FID 59.6 vs 47.0 fashion-mnist-layers, FD 0.015 vs 0.010 random-conv-v1) and looked blobbier.
    "fashion-mlp": dict(dataset="fashion-mnist", img_size=28, arch="mlp", loss="bce", batch_size=128, epochs=45,
                        mlp_hidden=(256, 512, 1024), dropout=0.3, z_dim=100, ema=0.999),
    "fashion-cdcgan": dict(dataset="fashion-mnist", img_size=28, arch="dcgan", loss="bce", conditional=True,
                           batch_size=32, epochs=36, g_channels=32, d_channels=32, lr_g=4e-4, lr_d=4e-4, z_dim=100,
                           ema=0.999),
    # Tried: the same recipe with augment="diffaugment" for the same 60 epochs drew blobbier glyphs (README).
    "emoji-dcgan": dict(dataset="emoji", data_subset="all", img_size=64, channels=3, arch="dcgan", loss="bce",
                        batch_size=64, epochs=60, g_channels=64, d_channels=64, z_dim=100, flip=True, ema=0.999),
}
# Second stages: fashion-mlp's Shirt share falls from 18.4% to 14.8% (FID 8.3 -> 5.9) when G is averaged
# over a longer window (EMA 0.9999; the warm-up keeps the window near a ninth of the steps so far) for
# 105 more epochs; with the 0.999 average it stays near 18%.
CONTINUE: dict[str, dict] = {
    "fashion-mlp": dict(epochs=150, ema=0.9999),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="+", choices=sorted(RECIPES))
    parser.add_argument("--out", default=None, help="folder for the exported files (default: pretrained/)")
    args = parser.parse_args()
    for name in args.names:
        config = TrainConfig(**{**COMMON, **RECIPES[name], "name": name})
        recorder = RunRecorder.create(config, kind="script")  # holds the run's lock; the one writer of its status
        run = recorder.run
        trainer = Trainer(config, run)
        recorder.record(RunState.RUNNING, total_steps=trainer.total_steps)
        started = time.time()
        last = [0.0]

        def progress(event, trainer=trainer, last=last, name=name):
            if event.kind == "log" and time.time() - last[0] > 30:
                last[0] = time.time()
                print(f"{name}: step {event.step}/{trainer.total_steps} {event.record}", flush=True)

        trainer.run(progress)
        if name in CONTINUE:
            trainer = resume_trainer(run, config_overrides=CONTINUE[name])
            trainer.run(lambda event, trainer=trainer, last=last: progress(event, trainer, last))
        recorder.record(RunState.FINISHED, step=trainer.step, total_steps=trainer.total_steps, elapsed=trainer.elapsed)
        wall = time.time() - started
        export_generator(run.latest_checkpoint, name, out_dir=Path(args.out) if args.out else None, overwrite=True, card_extra={
            "wall_clock_seconds": round(wall, 1),
            "machine": machine_description(),
            "precision": trainer.hardware.precision,
            "device": trainer.hardware.device.type,
            "command": f"python scripts/train_pretrained.py {name}",
            "run": run.id,
            "licence": "MIT",  # the weights, like the code (the card also names the data's licence)
        })
        recorder.release()
        print(f"{name}: exported after {wall:.0f} s ({trainer.step} steps)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
