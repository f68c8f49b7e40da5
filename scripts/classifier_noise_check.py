"""Which class does the Fashion-MNIST classifier (the FID/coverage extractor) assign to noisy real images?

Run: python scripts/classifier_noise_check.py   (prints the class shares of 5,000 test images, clean and
with Gaussian pixel noise; the README quotes it to explain fashion-mlp's Shirt share)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from ganlab.data import open_dataset  # noqa: E402
from ganlab.metrics import extract, get_extractor  # noqa: E402


def main() -> int:
    extractor = get_extractor("fashion-mnist", 1, 28)
    data = open_dataset("fashion-mnist", size=28, subset="test")
    images = data.images[:5000].float()
    print("noise sigma (of 255) | " + " | ".join(data.class_names))
    for sigma in (0, 10, 20, 40):
        noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(0)) * sigma
        noisy = (images + noise).round().clamp(0, 255).to(torch.uint8)
        _, logits = extract(extractor, noisy)
        share = torch.bincount(logits.argmax(1), minlength=len(data.class_names)).float() / len(noisy)
        print(f"{sigma:>20} | " + " | ".join(f"{float(s):.1%}" for s in share))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
