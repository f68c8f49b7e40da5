"""InceptionV3 (torchvision ImageNet weights) as a generic RGB extractor, offered only when the weights are cached.

Nothing is ever downloaded: the extractor is registered as available only if the file torchvision would
download already sits in torch's hub cache (online users who ran torchvision once have it). Its FID uses
torchvision's weights, not the TF-Inception of published papers, so values are comparable within this app only.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganlab.metrics.extractors import (
    FeatureExtractor,
    as_float_images,
    register_extractor,
)

WEIGHTS_FILE = "inception_v3_google-0cc3c7bd.pth"  # basename of Inception_V3_Weights.IMAGENET1K_V1.url


def inception_weights_path() -> Path:
    """Where torchvision caches the Inception weights ($TORCH_HOME/hub/checkpoints/...)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE


def inception_available() -> bool:
    return inception_weights_path().is_file()


class InceptionExtractor(FeatureExtractor):
    """2048-d pool features of InceptionV3 at 299 px; classify() gives the 1000 ImageNet logits."""

    name = "inception-v3"
    num_features = 2048
    num_classes = 0  # ImageNet classes say nothing about a GAN dataset's classes: no coverage from this one

    def __init__(self, weights: Path | None = None) -> None:
        super().__init__()
        from torchvision.models import inception_v3

        # transform_input=False: the Google weights expect inputs in [-1, 1], which is what G produces.
        self.net = inception_v3(weights=None, aux_logits=True, init_weights=False, transform_input=False)
        state = torch.load(weights or inception_weights_path(), map_location="cpu", weights_only=True)
        self.net.load_state_dict(state)
        self.fc = self.net.fc
        self.net.fc = nn.Identity()  # the network now returns the (N, 2048) pooled features
        self.eval().requires_grad_(False)

    def features_and_logits(self, images: Tensor) -> tuple[Tensor, Tensor | None]:
        x = as_float_images(images).to(self.fc.weight.device)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = x[:, :3]
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)  # (N, 3, 299, 299)
        self.net.eval()
        feats = self.net(x)  # (N, 2048); eval mode returns plain tensors, not InceptionOutputs
        return feats, None

    def classify(self, images: Tensor) -> Tensor:
        """ImageNet logits (N, 1000)."""
        return self.fc(self.features_and_logits(images)[0])


@register_extractor("inception-v3", datasets=None, channels=(3,), available=inception_available, priority=10,
                    why_missing=lambda: f"no cached weights at {inception_weights_path()}; nothing is downloaded")
def _inception(channels: int, img_size: int) -> FeatureExtractor:
    return InceptionExtractor()
