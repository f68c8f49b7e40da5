"""The classic recipes for your own folder (96-128 px, WGAN-GP, conditional with a centre crop) and the crop itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganlab.config import PRESETS, build_config
from ganlab.data import open_dataset
from ganlab.explore import load_generator
from ganlab.runs import create_run
from ganlab.train.trainer import Trainer

FOLDER_PRESETS = ["folder-dcgan-128", "folder-dcgan-96", "folder-wgan-gp-96", "folder-cdcgan-48"]


def _write_images(folder: Path, count: int, size: int, seed: int) -> None:
    """Colour PNGs: noise with a bright square whose place depends on the seed (a class for subfolders)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        pixels = rng.integers(0, 80, (size, size, 3), dtype=np.uint8)
        top = (seed * size // 4) % (size // 2)
        pixels[top : top + size // 4, size // 4 : size // 2] = (230, 200, 40)
        Image.fromarray(pixels).save(folder / f"{i:03d}.png")


def _folder_for(preset: str, root: Path) -> tuple[Path, int]:
    """(folder, source image side): what each recipe was made for; class subfolders for the conditional one."""
    values = PRESETS[preset].values
    source_side = round(values["img_size"] / values.get("centre_crop", 1.0))  # 96 for the 96 -> 48 crop
    if values.get("conditional"):
        for k in range(2):
            _write_images(root / f"class{k}", 4, source_side, seed=k)
    else:
        _write_images(root, 8, source_side, seed=0)
    return root, source_side


@pytest.mark.parametrize("preset", FOLDER_PRESETS)
def test_folder_preset_runs_on_a_folder_at_its_size_with_samples_and_a_checkpoint(preset: str, tmp_path: Path) -> None:
    folder, _ = _folder_for(preset, tmp_path / "images")
    # Narrow networks keep the test fast; size, objective, steps, rates and crop are the recipe's own.
    config = build_config({"data_path": str(folder), "batch_size": 8, "max_steps": 2, "sample_every": 2,
                           "checkpoint_every": 2, "num_samples": 4, "quality_every": 0, "device": "cpu",
                           "precision": "fp32", "threads": 1, "g_channels": 8, "d_channels": 8}, preset=preset)
    assert config.dataset == "folder" and PRESETS[preset].description
    run = create_run(config)
    trainer = Trainer(config, run)
    trainer.run()
    size = config.img_size
    assert trainer.num_images == 8 and trainer.model_config.img_channels == 3
    assert trainer.sample().shape == (4, 3, size, size)
    assert [step for step, _ in run.sample_paths()] == [2]
    with Image.open(run.sample_paths()[-1][1]) as grid:
        assert min(grid.size) >= 2 * size  # a 2 x 2 grid of size-px images
    loaded = load_generator(run.latest_checkpoint)
    images = loaded.generate(torch.randn(3, config.z_dim))
    assert images.shape == (3, 3, size, size) and images.dtype == torch.uint8


def test_classic_recipes_carry_their_published_settings() -> None:
    dcgan128 = build_config({}, preset="folder-dcgan-128")
    assert (dcgan128.img_size, dcgan128.lr_g, dcgan128.lr_d) == (128, 4e-5, 4e-4)
    gp = build_config({}, preset="folder-wgan-gp-96")
    assert (gp.img_size, gp.loss, gp.gp_lambda, gp.beta1, gp.beta2, gp.d_steps) == (96, "wgan-gp", 10.0, 0.0, 0.9, 5)
    cond = build_config({}, preset="folder-cdcgan-48")
    assert (cond.conditional, cond.g_steps, cond.d_steps, cond.img_size, cond.centre_crop) == (True, 2, 1, 48, 0.5)


def _framed(size: int) -> Image.Image:
    """A black frame around a white centre half: the centre crop must keep only the white."""
    pixels = np.zeros((size, size, 3), dtype=np.uint8)
    pixels[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = 255
    return Image.fromarray(pixels)


def test_centre_crop_keeps_the_middle_of_folder_images_before_resizing(tmp_path: Path) -> None:
    for i in range(2):
        _framed(96).save(tmp_path / f"{i}.png")
    whole = open_dataset("folder", size=48, path=str(tmp_path)).images
    middle = open_dataset("folder", size=48, path=str(tmp_path), crop=0.5).images
    assert whole.shape == middle.shape == (2, 3, 48, 48)
    assert whole.min() == 0 and middle.min() >= 250  # the frame is gone; only the white centre is left
    streamed = open_dataset("folder", size=48, path=str(tmp_path), crop=0.5, memory_budget=1)  # decoded on the fly
    assert streamed.crop == 0.5


def test_centre_crop_of_a_built_in_dataset_is_its_middle_at_the_asked_size() -> None:
    whole = open_dataset("digits", size=32).images.float()
    middle = open_dataset("digits", size=16, crop=0.5).images.float()
    assert middle.shape[-2:] == (16, 16)
    assert torch.allclose(middle, whole[:, :, 8:24, 8:24], atol=1.0)  # the centre of the 32 px images


def test_centre_crop_is_validated_with_the_range_named() -> None:
    from ganlab.config import ConfigError, TrainConfig

    with pytest.raises(ConfigError, match="centre_crop=0 must be a number from 0.05 to 1.0"):
        TrainConfig(centre_crop=0)
    with pytest.raises(ValueError, match="crop=1.5: give the centre fraction to keep, from 0.05 to 1"):
        open_dataset("digits", size=16, crop=1.5)
