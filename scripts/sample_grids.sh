#!/usr/bin/env bash
# The README's sample grids (docs/samples/NAME.png) from the shipped generators: fixed seeds, EMA weights.
# Conditional models get one class per column. Run from the repository root: bash scripts/sample_grids.sh
set -euo pipefail
for name in digits-dcgan fashion-dcgan fashion-wgangp fashion-mlp fashion-cdcgan; do
  python -m ganlab sample "pretrained/$name.safetensors" --seeds 0-39 --nrow 10 --upscale 2 --out "docs/samples/$name.png"
done
python -m ganlab sample pretrained/emoji-dcgan.safetensors --seeds 0-19 --nrow 10 --upscale 1 --out docs/samples/emoji-dcgan.png
