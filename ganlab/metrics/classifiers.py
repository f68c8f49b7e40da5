"""The shipped small CNN classifiers (digits, Fashion-MNIST) as extractors, read two ways.

`<name>`: the 128-d penultimate layer, as the shipped generators' cards were measured with.
`<name>-layers` (the default for its dataset): per-channel mean and std of every conv block's output plus the
penultimate layer, each of the four depths scaled to a quarter of the total variance of the training split
(scales in the card). The penultimate layer alone reacts to pixel noise about three times as much as to a blur
of the same visual damage (docs/metrics.md); the early blocks see edges and fine texture, so the mix weighs both
about alike. Same weights, no retraining.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ganlab.metrics.extractors import (
    FeatureExtractor,
    as_float_images,
    register_extractor,
    resize_square,
    to_grey,
)
from ganlab.paths import shipped_dir

READS = ("penultimate", "layers")
_BLOCK_OUTPUTS = (2, 6, 10)  # indices in SmallCNN.body of the three conv blocks' ReLU outputs


class SmallCNN(FeatureExtractor):
    """Greyscale classifier whose hidden layers are the feature space (the shipped extractors).

    Any input is turned into grey and resized to `native_size` first, so 32 or 64 px generators can be scored.
    read="layers" needs `layer_scales` (4 numbers, see module docstring); "penultimate" reads the last layer only.
    """

    def __init__(
        self,
        num_classes: int = 10,
        native_size: int = 28,
        width: int = 32,
        num_features: int = 128,
        dropout: float = 0.3,
        name: str = "small-cnn",
        class_names: Sequence[str] = (),
        read: str = "penultimate",
        layer_scales: Sequence[float] = (),
    ) -> None:
        super().__init__()
        if read not in READS:
            raise ValueError(f"read={read!r}: choose {' or '.join(READS)}")
        if read == "layers" and len(layer_scales) != 4:
            raise ValueError(f"layer_scales={tuple(layer_scales)!r}: read='layers' needs 4 scales")
        self.name = name
        self.num_classes = num_classes
        self.native_size = native_size
        self.read = read
        self.layer_scales = tuple(float(s) for s in layer_scales)
        self.class_names = tuple(class_names) or tuple(str(i) for i in range(num_classes))
        w = width
        # mean + std of each block's channels (w, 2w, 4w), then the penultimate layer
        self.num_features = num_features + 2 * 7 * w if read == "layers" else num_features

        def block(c_in: int, c_out: int) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]

        self.body = nn.Sequential(
            *block(1, w), nn.MaxPool2d(2),  # (N, w, s/2, s/2)
            *block(w, 2 * w), nn.MaxPool2d(2),  # (N, 2w, s/4, s/4)
            *block(2 * w, 4 * w), nn.AdaptiveAvgPool2d(3),  # (N, 4w, 3, 3): keeps coarse layout, unlike a 1x1 pool
            nn.Flatten(),  # (N, 36w)
            nn.Linear(36 * w, num_features), nn.ReLU(inplace=True),  # (N, F) = the penultimate features
        )  # fmt: skip
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(num_features, num_classes))

    def preprocess(self, images: Tensor) -> Tensor:
        """Any (N, C, H, W) uint8/float[-1, 1] -> (N, 1, native, native) float[-1, 1]."""
        return resize_square(to_grey(as_float_images(images)), self.native_size)

    def depth_features(self, images: Tensor) -> tuple[list[Tensor], Tensor]:
        """([block1 (N, 2w), block2 (N, 4w), block3 (N, 8w) mean+std pooled, penultimate (N, F)], penultimate)."""
        h = self.preprocess(images.to(self._device()))
        groups = []
        for i, module in enumerate(self.body):
            h = module(h)
            if i in _BLOCK_OUTPUTS:  # (N, c, h, w) -> per-channel mean and std (N, 2c)
                groups.append(torch.cat([h.mean(dim=(2, 3)), h.std(dim=(2, 3), correction=0)], dim=1))
        groups.append(h)
        return groups, h

    def features_and_logits(self, images: Tensor) -> tuple[Tensor, Tensor | None]:
        if self.read == "penultimate":
            feats = self.body(self.preprocess(images.to(self._device())))
            return feats, self.head(feats)
        groups, last = self.depth_features(images)
        feats = torch.cat([g / s for g, s in zip(groups, self.layer_scales, strict=True)], dim=1)
        return feats, self.head(last)

    def describe_features(self) -> str:
        return f"{self.read}|{self.layer_scales}"

    def _device(self) -> torch.device:
        return next(self.parameters()).device


@torch.no_grad()
def layer_scales(model: SmallCNN, images: Tensor, batch: int = 1000) -> list[float]:
    """Scales giving each of the 4 depths a quarter of the features' total variance (mean variance 1 per feature).

    Computed on the classifier's training split by scripts/train_extractors.py --layer-scales and kept in the card.
    """
    model.eval()
    parts = [model.depth_features(images[i : i + batch])[0] for i in range(0, len(images), batch)]
    groups = [torch.cat([p[k] for p in parts]).double() for k in range(4)]
    total_dims = sum(g.shape[1] for g in groups)
    # group / s has total variance V / s^2; setting it to total_dims / 4 gives each depth an equal share.
    return [round(float((g.var(dim=0).sum() / (total_dims / 4)).sqrt()), 6) for g in groups]


# --------------------------------------------------------------------------- shipped weights


def extractors_dir() -> Path:
    """Folder with <name>.safetensors + <name>.json (model card) for each shipped extractor."""
    return shipped_dir() / "extractors"  # part of the package: not moved by GANLAB_PRETRAINED


def read_card(name: str) -> dict[str, Any]:
    """The JSON card of a shipped extractor (architecture args, test accuracy, command)."""
    path = extractors_dir() / f"{name}.json"
    if not path.is_file():
        raise ValueError(f"no shipped extractor named {name!r} (looked for {path})")
    return json.loads(path.read_text())


@functools.lru_cache(maxsize=8)
def _load_state(name: str) -> dict[str, Tensor]:
    # Weights are read once per process; every get_extractor() call still gets its own module.
    from safetensors.torch import load_file

    return load_file(str(extractors_dir() / f"{name}.safetensors"))


def load_small_cnn(name: str, read: str = "penultimate") -> SmallCNN:
    """Rebuild a shipped classifier from its card and load its safetensors weights (no pickle), in eval mode."""
    card = read_card(name)
    scales = card.get("layer_scales", ()) if read == "layers" else ()
    model = SmallCNN(name=name if read == "penultimate" else f"{name}-layers", read=read, layer_scales=scales,
                     **card["arch"])
    model.load_state_dict(_load_state(name), strict=True)
    return model.eval().requires_grad_(False)


def shipped_available(name: str, read: str = "penultimate") -> bool:
    d = extractors_dir()
    if not ((d / f"{name}.json").is_file() and (d / f"{name}.safetensors").is_file()):
        return False
    return read == "penultimate" or len(read_card(name).get("layer_scales", ())) == 4


def _missing(name: str) -> str:
    return (f"needs {extractors_dir() / name}.safetensors and a card with layer_scales "
            f"(python scripts/train_extractors.py --layer-scales)")


_FASHION_NAMES = ("fashion-mnist", "fashion_mnist", "fashion", "fashionmnist")

# The "-layers" reading is registered first: it is what get_extractor gives these datasets.
register_extractor("digits-layers", datasets=("digits",), available=lambda: shipped_available("digits", "layers"),
                   why_missing=lambda: _missing("digits"))(lambda c, s: load_small_cnn("digits", "layers"))
register_extractor("fashion-mnist-layers", datasets=_FASHION_NAMES,
                   available=lambda: shipped_available("fashion-mnist", "layers"),
                   why_missing=lambda: _missing("fashion-mnist"))(lambda c, s: load_small_cnn("fashion-mnist", "layers"))
# The digits classifier's last layer does not see strong pixel noise (Gaussian, sigma 4 of 16: FD 3.415 clean,
# 3.387 noisy; docs/metrics.md), so it fails the disturbance test that every offered extractor passes.
register_extractor("digits", available=lambda: shipped_available("digits"), why_missing=lambda: _missing("digits"),
                   retired="its last layer is blind to strong pixel noise; digits-layers reads every depth and is "
                   "not")(lambda c, s: load_small_cnn("digits"))
register_extractor("fashion-mnist", datasets=_FASHION_NAMES, available=lambda: shipped_available("fashion-mnist"),
                   why_missing=lambda: _missing("fashion-mnist"))(lambda c, s: load_small_cnn("fashion-mnist"))
