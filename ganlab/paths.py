"""Where GAN Lab keeps its runs, data and caches (one root, overridable with GANLAB_HOME)."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """The app's data root: $GANLAB_HOME, else ~/.ganlab. Created on first use."""
    root = Path(os.environ.get("GANLAB_HOME") or Path.home() / ".ganlab").expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return root


def runs_dir() -> Path:
    """Folder that holds one sub-folder per training run."""
    path = home() / "runs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """Folder for user datasets (extracted zips, downloaded MNIST, ...)."""
    path = home() / "data"
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Folder for derived caches (preprocessed folder datasets, rendered emoji)."""
    path = home() / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def repo_root() -> Path:
    """The checkout this package lives in (scripts, docs); for an installed package, the folder above ganlab/."""
    return Path(__file__).resolve().parent.parent


def shipped_dir() -> Path:
    """The models and feature extractors that come with GAN Lab.

    An installed package carries them as package data in ganlab/pretrained/ (pyproject.toml maps the checkout's
    top-level pretrained/ folder there); a checkout uses pretrained/ itself.
    """
    installed = Path(__file__).resolve().parent / "pretrained"
    return installed if installed.is_dir() else repo_root() / "pretrained"


def pretrained_dir() -> Path:
    """Folder with the generators to list and to export into (<name>.safetensors + <name>.json).

    $GANLAB_PRETRAINED when set (e.g. a writable folder for an installed package), else the shipped models.
    """
    override = os.environ.get("GANLAB_PRETRAINED")
    return Path(override).expanduser() if override else shipped_dir()


def app_token() -> str:
    """The secret a browser must present when the app listens beyond loopback; made once, stored 0600."""
    path = home() / "token"
    try:
        token = path.read_text(encoding="utf-8").strip()
        if len(token) >= 32:
            return token
    except OSError:
        pass
    import secrets

    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # never readable by other users
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token)
    os.chmod(path, 0o600)
    return token
