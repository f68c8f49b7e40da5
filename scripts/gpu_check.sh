#!/usr/bin/env bash
# GPU check in one command from a fresh checkout: scripts/gpu_check.sh [--skip-bench ...]
#
# Makes a virtual environment (.venv-gpu, or $GANLAB_GPU_VENV) with the Python 3.10+ it finds ($PYTHON, else
# python3), installs requirements.txt into it from PyPI (PyPI's Linux torch wheels bundle CUDA and cuDNN: only
# the NVIDIA driver must be on the machine), then runs scripts/gpu_check.py with the arguments given.
# GANLAB_GPU_PYTHON=/path/to/python skips the install and uses that interpreter (one whose torch has CUDA,
# e.g. on a machine without PyPI access). Exit status: that of gpu_check.py (1 when CUDA is missing or any part
# fell back to the CPU).
set -euo pipefail
cd "$(dirname "$0")/.."

python="${GANLAB_GPU_PYTHON:-}"
if [[ -z "$python" ]]; then
  venv="${GANLAB_GPU_VENV:-.venv-gpu}"
  if [[ ! -x "$venv/bin/python" ]]; then
    echo "== making $venv with ${PYTHON:-python3} ($("${PYTHON:-python3}" --version 2>&1))"
    "${PYTHON:-python3}" -m venv "$venv"
  fi
  echo "== pip install -r requirements.txt into $venv (torch with CUDA from PyPI: a few GB the first time)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
  python="$venv/bin/python"
fi
exec "$python" scripts/gpu_check.py "$@"
