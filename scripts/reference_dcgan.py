"""Train the plain reference DCGAN (pytorch/examples recipe) for one epoch on Fashion-MNIST and compare FIDs.

Recipe: 64 px, fp32, batch 64, Adam(2e-4, beta1 0.5), BCELoss, DataLoader, .item() every step.
Writes pretrained/reference-dcgan-fashion.json (metrics only) and prints the table the README shows.
Run: python scripts/reference_dcgan.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from ganlab import paths  # noqa: E402
from ganlab.bench.reference import ExampleLoop, make_loader  # noqa: E402
from ganlab.data import open_dataset  # noqa: E402
from ganlab.data.licences import data_licence  # noqa: E402
from ganlab.metrics import evaluate_generator, get_extractor, real_feature_stats  # noqa: E402
from ganlab.runs.export import list_pretrained, machine_description  # noqa: E402


class FlatZ(nn.Module):
    """Adapts the example's G (z as N x nz x 1 x 1) to the metrics' G(z) call with z_dim."""

    def __init__(self, net: nn.Module, z_dim: int) -> None:
        super().__init__()
        self.net, self.z_dim, self.num_classes = net, z_dim, 0

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z[:, :, None, None])


def main() -> int:
    torch.manual_seed(0)
    train = open_dataset("fashion-mnist", size=64, channels=1).images
    loop = ExampleLoop(nc=1)
    started = time.time()
    for i, (real,) in enumerate(make_loader(train, 64)):
        losses = loop.step(real)
        if i % 100 == 0:
            print(f"reference: batch {i}/{len(train) // 64} loss_D {losses[0]:.3f} loss_G {losses[1]:.3f}", flush=True)
    seconds = time.time() - started
    extractor = get_extractor("fashion-mnist", 1, 64)
    test = open_dataset("fashion-mnist", size=64, channels=1, subset="test").images
    result = evaluate_generator(FlatZ(loop.net_g.eval(), 100), extractor, real_feature_stats(extractor, test,
                                max_count=len(test)), n=10_000, seed=0)
    record = {
        "name": "reference-dcgan-fashion",
        "licence": "MIT",
        **data_licence("fashion-mnist"),
        "recipe": "pytorch/examples dcgan: 64 px, fp32, batch 64, Adam 2e-4 beta1 0.5, 1 epoch on Fashion-MNIST",
        "train_seconds": round(seconds, 1),
        "machine": machine_description(),
        "metrics": {k: result[k] for k in ("fid", "kid", "kid_std", "coverage", "n_fake", "n_real", "extractor")},
        "command": "python scripts/reference_dcgan.py",
    }
    out = paths.pretrained_dir() / "reference-dcgan-fashion.json"
    out.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(f"\n| model | FID (test split, {extractor.name} features) | KID |\n|---|---|---|")
    print(f"| reference DCGAN, 1 epoch | {result['fid']:.2f} | {result['kid']:.4f} |")
    for card in list_pretrained():
        metrics = card.get("metrics") or {}
        if card["dataset"] == "fashion-mnist" and "fid" in metrics:
            print(f"| {card['name']} | {metrics['fid']:.2f} | {metrics['kid']:.4f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
