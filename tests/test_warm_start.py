"""Starting from a trained model (init_from), FreezeD, and shipped models that carry their discriminator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ganlab import paths
from ganlab.cli import build_parser
from ganlab.cli.training import config_from_args
from ganlab.config import ConfigError, TrainConfig
from ganlab.runs import CheckpointError, create_run, load_checkpoint
from ganlab.runs.export import export_generator
from ganlab.train.resume import resume_trainer
from ganlab.train.trainer import Trainer
from ganlab.train.warm_start import d_layers
from tests.helpers import blobs_dataset, tiny_config


def _trained_checkpoint(**changes) -> Path:
    config = tiny_config(max_steps=4, **changes)
    run = create_run(config)
    Trainer(config, run, dataset=blobs_dataset()).run()
    return run.latest_checkpoint


def _equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_init_from_a_checkpoint_loads_g_d_and_the_average() -> None:
    checkpoint = _trained_checkpoint(ema=0.9)
    source = load_checkpoint(checkpoint)
    fresh = Trainer(tiny_config(ema=0.9), None, dataset=blobs_dataset())
    assert not _equal(fresh.G.state_dict(), source["G"])
    started = Trainer(tiny_config(ema=0.9, init_from=str(checkpoint), lr_g=1e-4), None, dataset=blobs_dataset())
    assert _equal(started.G.state_dict(), source["G"]) and _equal(started.D.state_dict(), source["D"])
    assert _equal(started.G_ema.state_dict(), source["ema"])
    assert started.step == 0 and "G and D" in started.warm_note  # a new run: counters and optimisers start afresh


def test_init_from_refuses_other_networks_naming_the_layer_and_shapes() -> None:
    checkpoint = _trained_checkpoint()
    with pytest.raises(CheckpointError, match=r"generator layer 'project\.0\.weight' is \(16, 16, 4, 4\) there but "
                                              r"\(16, 8, 4, 4\) in this run"):
        Trainer(tiny_config(g_channels=4, init_from=str(checkpoint)), None, dataset=blobs_dataset())
    with pytest.raises(CheckpointError, match=r"generator layer 'label_embed\.weight' .* is missing there"):
        Trainer(tiny_config(conditional=True, init_from=str(checkpoint)), None, dataset=blobs_dataset())
    with pytest.raises(CheckpointError, match="init_from='no-such-model' is neither .* one of: .*fashion-dcgan"):
        Trainer(tiny_config(init_from="no-such-model"), None, dataset=blobs_dataset())


def test_init_from_a_shipped_model_loads_its_generator_and_keeps_a_fresh_d_when_it_ships_none() -> None:
    from safetensors.torch import load_file

    # fashion-wgangp ships no discriminator (its card names none); its generator is DCGAN 64/64 at 28 px
    config = tiny_config(img_size=28, g_channels=64, d_channels=64, z_dim=100, init_from="fashion-wgangp")
    fresh = Trainer(config.replace(init_from=""), None, dataset=blobs_dataset(size=28))
    started = Trainer(config, None, dataset=blobs_dataset(size=28))
    shipped = load_file(str(paths.pretrained_dir() / "fashion-wgangp.safetensors"))
    assert all(torch.equal(v.float(), shipped[k].float()) for k, v in started.G.state_dict().items())
    assert _equal(started.D.state_dict(), fresh.D.state_dict())  # same seed, nothing loaded into D
    assert "G only" in started.warm_note
    with pytest.raises(ConfigError, match="freeze_d=1: fashion-wgangp.safetensors has no discriminator"):
        Trainer(config.replace(freeze_d=1), None, dataset=blobs_dataset(size=28))


def test_init_from_a_shipped_model_that_ships_its_discriminator_loads_g_and_d() -> None:
    from safetensors.torch import load_file

    card = json.loads((paths.pretrained_dir() / "fashion-dcgan.json").read_text())
    assert card["discriminator"] == "fashion-dcgan.D.safetensors"
    model = card["model_config"]
    config = tiny_config(img_size=28, g_channels=model["g_channels"], d_channels=model["d_channels"],
                         z_dim=model["z_dim"], init_from="fashion-dcgan", freeze_d=1)
    started = Trainer(config, None, dataset=blobs_dataset(size=28))
    shipped_g = load_file(str(paths.pretrained_dir() / "fashion-dcgan.safetensors"))
    shipped_d = load_file(str(paths.pretrained_dir() / "fashion-dcgan.D.safetensors"))
    assert all(torch.equal(v.float(), shipped_g[k].float()) for k, v in started.G.state_dict().items())
    assert all(torch.equal(v.float(), shipped_d[k].float()) for k, v in started.D.state_dict().items()
               if v.is_floating_point())
    assert "G and D" in started.warm_note


def test_export_writes_the_discriminator_and_init_from_the_export_loads_it(tmp_path: Path) -> None:
    checkpoint = _trained_checkpoint()
    weights = export_generator(checkpoint, "tiny", out_dir=tmp_path)
    card = json.loads(weights.with_suffix(".json").read_text())
    assert card["discriminator"] == "tiny.D.safetensors" and (tmp_path / "tiny.D.safetensors").is_file()
    started = Trainer(tiny_config(init_from=str(weights)), None, dataset=blobs_dataset())
    source_d = load_checkpoint(checkpoint)["D"]
    for key, value in started.D.state_dict().items():  # stored as fp16: equal up to half-precision rounding
        assert torch.equal(value, source_d[key].half().to(value.dtype)) if value.is_floating_point() else \
            torch.equal(value, source_d[key])
    assert "G and D" in started.warm_note


def test_freeze_d_keeps_the_first_layers_fixed_while_the_rest_trains() -> None:
    checkpoint = _trained_checkpoint()
    trainer = Trainer(tiny_config(init_from=str(checkpoint), freeze_d=1, max_steps=3), None, dataset=blobs_dataset())
    layers = d_layers(trainer.D)  # 16 px: conv 1->8, then conv 8->16 with its BatchNorm; the head is not a layer
    assert [len(layer) for layer in layers] == [1, 3]
    frozen = [p.detach().clone() for p in layers[0]]
    trained = [p.detach().clone() for p in layers[1]] + [trainer.D.head.weight.detach().clone()]
    trainer.run()
    assert all(torch.equal(a, b) for a, b in zip(frozen, layers[0], strict=True))
    assert all(not torch.equal(a, b) for a, b in zip(trained, [*layers[1], trainer.D.head.weight], strict=True))
    with pytest.raises(ConfigError, match="freeze_d=9: this discriminator has 2 layers below its output layer"):
        Trainer(tiny_config(init_from=str(checkpoint), freeze_d=9), None, dataset=blobs_dataset())
    with pytest.raises(ConfigError, match="freeze_d=1: freezing D's first layers needs a trained D"):
        TrainConfig(freeze_d=1)


def test_resume_of_a_warm_started_run_does_not_read_the_source_again(tmp_path: Path) -> None:
    source = tmp_path / "source.pt"
    source.write_bytes(_trained_checkpoint().read_bytes())
    config = tiny_config(init_from=str(source), max_steps=6)
    run = create_run(config)
    first = Trainer(config, run, dataset=blobs_dataset())
    first.run(abort=lambda: first.step >= 4)
    source.unlink()  # the run's own checkpoint holds everything it needs
    resumed = resume_trainer(run, dataset=blobs_dataset())
    assert resumed.step == 4 and resumed.warm_note == ""
    resumed.run()
    assert resumed.step == 6


def test_cli_flags_init_from_and_freeze_d_reach_the_config() -> None:
    args = build_parser().parse_args(["train", "--init-from", "fashion-dcgan", "--freeze-d", "2",
                                      "--augment", "ada", "--centre-crop", "0.5"])
    config = config_from_args(args)
    assert (config.init_from, config.freeze_d, config.augment, config.centre_crop) == ("fashion-dcgan", 2, "ada", 0.5)
