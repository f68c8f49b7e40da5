"""Networks: shapes for every arch/size/channels, the DCGAN recipe, init, norms, conditioning, bf16 and channels_last."""

from __future__ import annotations

import copy
import re

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from ganlab.bench.reference import ExampleDiscriminator, ExampleGenerator
from ganlab.config import DCGAN_SIZES, ConfigError, ModelConfig
from ganlab.nets import (
    DCGANDiscriminator,
    DCGANGenerator,
    MLPDiscriminator,
    MLPGenerator,
    build_discriminator,
    build_generator,
    check_size,
    count_parameters,
    dcgan_layout,
    init_weights,
)
from ganlab.nets.dcgan import ProjectZ

ARCHS = ("mlp", "dcgan", "dcgan-upsample")
START = {16: 4, 28: 7, 32: 4, 48: 6, 64: 4, 96: 6, 128: 4}


def small(arch: str = "dcgan", size: int = 32, channels: int = 1, num_classes: int = 0, **kw) -> ModelConfig:
    base = dict(z_dim=16, g_channels=8, d_channels=8, mlp_hidden=(16, 32), dropout=0.0)
    base.update(kw)
    return ModelConfig(arch=arch, img_size=size, img_channels=channels, num_classes=num_classes, **base)


def leaves(module: nn.Module) -> list[nn.Module]:
    return [m for m in module.modules() if not list(m.children())]


# ----------------------------------------------------------------- shapes
@pytest.mark.parametrize("conditional", [False, True])
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("size", DCGAN_SIZES)
@pytest.mark.parametrize("arch", ARCHS)
def test_generator_and_discriminator_shapes(arch: str, size: int, channels: int, conditional: bool) -> None:
    mc = small(arch, size, channels, num_classes=5 if conditional else 0)
    g, d = build_generator(mc), build_discriminator(mc)
    z = torch.randn(3, mc.z_dim)
    labels = torch.tensor([0, 2, 4]) if conditional else None
    x = g(z, labels)
    assert x.shape == (3, channels, size, size)
    assert x.abs().max() <= 1.0  # tanh output
    scores = d(x, labels)
    assert scores.shape == (3,)
    assert g.z_dim == 16 and g.num_classes == d.num_classes == mc.num_classes
    assert g.img_shape == d.img_shape == (channels, size, size)
    feats = g.features(z, labels)
    assert feats.dim() == 2 and feats.shape[0] == 3


@pytest.mark.parametrize("size", DCGAN_SIZES)
@pytest.mark.parametrize("arch", ["dcgan", "dcgan-upsample"])
def test_dcgan_stage_resolutions_double_from_real_start(arch: str, size: int) -> None:
    g = build_generator(small(arch, size))
    s0 = START[size]
    assert dcgan_layout(size)[0] == s0
    z = torch.randn(2, 16)
    h = g.first_stage(z)
    assert h.shape[-2:] == (s0, s0) and tuple(h.shape[1:]) == g.first_stage_shape
    assert g.features(z).shape == (2, h[0].numel())
    resolutions = [h.shape[-1]]
    for stage in g.stages:
        h = stage(h)
        resolutions.append(h.shape[-1])
    assert resolutions == [s0 * 2**i for i in range(len(resolutions))]
    assert resolutions[-1] * 2 == size
    d = build_discriminator(small(arch, size))
    assert d.body(torch.randn(2, 1, size, size)).shape[-2:] == (s0, s0)


def test_28px_layout_is_7_14_28_and_96px_is_6_12_24_48_96() -> None:
    assert dcgan_layout(28) == (7, 2)
    assert dcgan_layout(96) == (6, 4)
    g = build_generator(small("dcgan", 28))
    assert g.features(torch.randn(1, 16)).shape[1] == g.first_stage_shape[0] * 7 * 7


@pytest.mark.parametrize("size", [30, 5, 200])
def test_dcgan_layout_rejects_sizes_without_a_small_start(size: int) -> None:
    with pytest.raises(ValueError, match=str(size)):
        dcgan_layout(size)


def test_widths_are_capped_at_eight_times_base() -> None:
    g = DCGANGenerator(100, 128, 3, base_channels=64)
    d = DCGANDiscriminator(128, 3, base_channels=64)
    assert g.first_stage_shape == (512, 4, 4)
    assert d.head.in_channels == 512


# ----------------------------------------------------------------- the pytorch/examples recipe
# The reference networks are the benchmark's copy of pytorch/examples dcgan/main.py (defined once).


def _copy_in_order(src: nn.Module, dst: nn.Module) -> None:
    src_sd, dst_sd = src.state_dict(), dst.state_dict()
    assert [v.shape for v in src_sd.values()] == [v.shape for v in dst_sd.values()]
    dst.load_state_dict(dict(zip(dst_sd.keys(), src_sd.values())))


def test_dcgan_64px_matches_pytorch_examples_parameter_counts_and_outputs() -> None:
    torch.manual_seed(0)
    mc = ModelConfig(arch="dcgan", img_size=64, img_channels=3, z_dim=100, g_channels=64, d_channels=64, d_norm="batch")
    g, d = build_generator(mc), build_discriminator(mc)
    ref_g, ref_d = ExampleGenerator(), ExampleDiscriminator()
    assert count_parameters(ref_g) == 3_576_704 and count_parameters(ref_d) == 2_765_568
    assert count_parameters(g) == 3_576_704 and count_parameters(d) == 2_765_568
    # Same layers in the same order: the reference weights load positionally and give the same outputs.
    _copy_in_order(ref_g, g)
    _copy_in_order(ref_d, d)
    g.eval(), d.eval(), ref_g.eval(), ref_d.eval()
    z = torch.randn(2, 100)
    with torch.no_grad():
        x = g(z)
        torch.testing.assert_close(x, ref_g(z.reshape(2, 100, 1, 1)))
        torch.testing.assert_close(torch.sigmoid(d(x)), ref_d(x).flatten())


def test_count_parameters_can_skip_frozen() -> None:
    m = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    m[0].requires_grad_(False)
    assert count_parameters(m) == 16 + 5 and count_parameters(m, trainable_only=True) == 5


# ----------------------------------------------------------------- init
def test_init_statistics_follow_dcgan_recipe() -> None:
    torch.manual_seed(0)
    mc = ModelConfig(arch="dcgan", img_size=64, img_channels=3)
    for net in (build_generator(mc), build_discriminator(mc)):
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                assert abs(m.weight.std().item() - 0.02) < 0.002
                assert abs(m.weight.mean().item()) < 0.002
            if isinstance(m, nn.BatchNorm2d):
                assert abs(m.weight.mean().item() - 1.0) < 0.01
                assert 0.01 < m.weight.std().item() < 0.03
                assert torch.count_nonzero(m.bias) == 0


def test_init_weights_selects_by_isinstance_not_class_name() -> None:
    class MyConv(nn.Conv2d):  # a subclass must still be initialised
        pass

    class ConvLookalike(nn.Module):  # a name containing "Conv" must not be
        def __init__(self) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.full((64, 64), 5.0))

    net = nn.Sequential(MyConv(32, 32, 3, bias=True), ConvLookalike(), nn.Linear(256, 256))
    with torch.no_grad():
        net[0].bias.fill_(3.0)
    init_weights(net)
    assert abs(net[0].weight.std().item() - 0.02) < 0.003 and torch.count_nonzero(net[0].bias) == 0
    assert torch.all(net[1].weight == 5.0)
    assert abs(net[2].weight.std().item() - 0.02) < 0.002


# ----------------------------------------------------------------- norms
@pytest.mark.parametrize("size", DCGAN_SIZES)
@pytest.mark.parametrize("arch", ["dcgan", "dcgan-upsample", "mlp"])
def test_no_batchnorm_on_discriminator_input_nor_generator_output(arch: str, size: int) -> None:
    mc = small(arch, size, d_norm="batch")
    d_leaves = leaves(build_discriminator(mc))
    assert isinstance(d_leaves[0], (nn.Conv2d, nn.Linear))
    assert isinstance(d_leaves[1], nn.LeakyReLU)  # straight to the activation: no norm on the input layer
    g_leaves = leaves(build_generator(mc))
    assert isinstance(g_leaves[-1], nn.Tanh)
    assert isinstance(g_leaves[-2], (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))  # no norm before tanh


@pytest.mark.parametrize("arch", ARCHS)
def test_layer_norm_discriminator_has_no_batchnorm_and_scores_are_per_sample(arch: str) -> None:
    torch.manual_seed(0)
    d = build_discriminator(small(arch, 32, 3, d_norm="layer"))
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in d.modules())
    d.train()
    x = torch.randn(4, 3, 32, 32)
    x2 = x.clone()
    x2[0] = torch.randn(3, 32, 32)
    s, s2 = d(x), d(x2)
    torch.testing.assert_close(s[1:], s2[1:])
    assert not torch.allclose(s[0], s2[0])


def test_batchnorm_discriminator_couples_samples_in_training() -> None:
    # The contrast that makes the per-sample test meaningful: BatchNorm mixes the batch.
    torch.manual_seed(0)
    d = build_discriminator(small("dcgan", 32, 3, d_norm="batch")).train()
    x = torch.randn(4, 3, 32, 32)
    x2 = x.clone()
    x2[0] = torch.randn(3, 32, 32)
    assert not torch.allclose(d(x)[1:], d(x2)[1:])


def test_none_norm_discriminator_uses_conv_biases_and_no_norm_layers() -> None:
    d = build_discriminator(small("dcgan", 32, d_norm="none"))
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert all(c.bias is not None for c in convs)
    assert not any(isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm)) for m in d.modules())


@pytest.mark.parametrize("arch", ARCHS)
def test_spectral_norm_discriminator_has_unit_spectral_norm_layers_and_no_other_norm(arch: str) -> None:
    torch.manual_seed(0)
    d = build_discriminator(small(arch, 32, 3, d_norm="spectral")).train()
    layers = [m for m in d.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert layers and all(parametrize.is_parametrized(m, "weight") for m in layers)
    assert not any(isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm)) for m in d.modules())
    x = torch.randn(4, 3, 32, 32)
    for _ in range(30):  # power iterations converge on the top singular value
        d(x)
    for m in layers:
        w = m.weight.detach().flatten(1)
        assert torch.linalg.matrix_norm(w, ord=2) == pytest.approx(1.0, abs=0.05)
    x2 = x.clone()
    x2[0] = torch.randn(3, 32, 32)
    d.eval()
    torch.testing.assert_close(d(x)[1:], d(x2)[1:])  # per-sample scores: the joint real+fake pass is valid


def test_upsample_generator_uses_transposed_conv_only_for_projection() -> None:
    g = build_generator(small("dcgan-upsample", 64))
    assert sum(isinstance(m, nn.ConvTranspose2d) for m in g.modules()) == 1
    assert sum(isinstance(m, nn.Upsample) for m in g.modules()) == dcgan_layout(64)[1]


# ----------------------------------------------------------------- conditioning
@pytest.mark.parametrize("arch", ARCHS)
def test_conditional_generator_output_depends_on_label(arch: str) -> None:
    torch.manual_seed(0)
    g = build_generator(small(arch, 28, num_classes=10)).eval()
    z = torch.randn(1, 16).expand(2, 16)
    with torch.no_grad():
        x = g(z, torch.tensor([0, 1]))
    assert (x[0] - x[1]).abs().max() > 1e-4


@pytest.mark.parametrize("arch", ARCHS)
def test_conditional_discriminator_score_depends_on_label(arch: str) -> None:
    torch.manual_seed(0)
    d = build_discriminator(small(arch, 28, num_classes=10)).eval()
    x = torch.randn(1, 1, 28, 28).expand(2, 1, 28, 28)
    with torch.no_grad():
        s = d(x, torch.tensor([3, 7]))
    assert (s[0] - s[1]).abs() > 1e-7


@pytest.mark.parametrize("arch", ARCHS)
def test_conditional_nets_reject_missing_or_bad_labels(arch: str) -> None:
    mc = small(arch, 16, num_classes=10)
    g, d = build_generator(mc), build_discriminator(mc)
    with pytest.raises(ValueError, match="conditional on 10 classes"):
        g(torch.randn(2, 16))
    with pytest.raises(ValueError, match="conditional on 10 classes"):
        d(torch.randn(2, 1, 16, 16))
    with pytest.raises(ValueError, match=r"\(2,\)"):
        g(torch.randn(2, 16), torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="integer class ids"):
        d(torch.randn(2, 1, 16, 16), torch.tensor([1.0, 2.0]))


@pytest.mark.parametrize("arch", ARCHS)
def test_unconditional_nets_ignore_labels(arch: str) -> None:
    mc = small(arch, 16)
    g, d = build_generator(mc).eval(), build_discriminator(mc).eval()
    z, y = torch.randn(2, 16), torch.tensor([1, 2])
    with torch.no_grad():
        torch.testing.assert_close(g(z, y), g(z))
        torch.testing.assert_close(d(g(z), y), d(g(z)))


@pytest.mark.parametrize("arch", ARCHS)
def test_nets_reject_wrong_input_shapes(arch: str) -> None:
    mc = small(arch, 16)
    with pytest.raises(ValueError, match=r"\(N, 16\)"):
        build_generator(mc)(torch.randn(2, 15))
    with pytest.raises(ValueError, match="1, 16, 16"):
        build_discriminator(mc)(torch.randn(2, 3, 16, 16))


# ----------------------------------------------------------------- precision and memory format
@pytest.mark.parametrize("d_norm", ["batch", "layer", "spectral"])
@pytest.mark.parametrize("conditional", [False, True])
@pytest.mark.parametrize("arch", ARCHS)
def test_nets_train_step_under_bf16_autocast_is_finite(arch: str, conditional: bool, d_norm: str) -> None:
    torch.manual_seed(0)
    mc = small(arch, 28, 3, num_classes=4 if conditional else 0, d_norm=d_norm)
    g, d = build_generator(mc), build_discriminator(mc)
    z, y = torch.randn(4, 16), (torch.tensor([0, 1, 2, 3]) if conditional else None)
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        x = g(z, y)
        s = d(x, y)
        feats = g.features(z, y)
    assert x.shape == (4, 3, 28, 28) and s.shape == (4,)
    s.float().mean().backward()
    assert torch.isfinite(s.float()).all() and torch.isfinite(feats.float()).all()
    assert all(torch.isfinite(p.grad).all() for p in g.parameters() if p.grad is not None)
    assert any(p.grad is not None for p in g.parameters())


@pytest.mark.parametrize("arch", ARCHS)
def test_nets_accept_channels_last(arch: str) -> None:
    torch.manual_seed(0)
    mc = small(arch, 32, 3, num_classes=3)
    g, d = build_generator(mc).eval(), build_discriminator(mc).eval()
    g_cl = copy.deepcopy(g).to(memory_format=torch.channels_last)
    d_cl = copy.deepcopy(d).to(memory_format=torch.channels_last)
    z, y = torch.randn(2, 16), torch.tensor([0, 2])
    x = torch.randn(2, 3, 32, 32)
    x_cl = x.contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(g_cl(z, y), g(z, y), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(d_cl(x_cl, y), d(x, y), atol=1e-5, rtol=1e-4)
    d_cl(g_cl(z, y).contiguous(memory_format=torch.channels_last), y).sum().backward()


# ----------------------------------------------------------------- MLP classes used directly (2-D playground)
def test_mlp_toy_2d_shapes_and_unbounded_output() -> None:
    g = MLPGenerator(2, (2,), (32, 32), out_activation="none")
    d = MLPDiscriminator((2,), (32, 32), dropout=0.0)
    pts = g(torch.randn(5, 2))
    assert pts.shape == (5, 2) and d(pts).shape == (5,)
    assert not any(isinstance(m, nn.Tanh) for m in g.modules())
    assert g.img_shape == (2,) and d.img_shape == (2,)
    assert g.features(torch.randn(5, 2)).shape == (5, 32)


def test_mlp_discriminator_layer_norm_variant_has_layernorm_after_first_layer() -> None:
    d = MLPDiscriminator((2,), (8, 8, 8), dropout=0.1, norm="layer")
    kinds = [type(m) for m in leaves(d)]
    assert kinds.count(nn.LayerNorm) == 2 and kinds.count(nn.Dropout) == 3
    assert kinds[:2] == [nn.Linear, nn.LeakyReLU]


def test_mlp_rejects_unknown_options() -> None:
    with pytest.raises(ValueError, match="out_activation='sigmoid'"):
        MLPGenerator(2, (2,), (8,), out_activation="sigmoid")
    with pytest.raises(ValueError, match="norm='spectral'"):
        MLPDiscriminator((2,), (8,), norm="spectral")
    with pytest.raises(ValueError, match="hidden"):
        MLPGenerator(2, (2,), ())
    with pytest.raises(ValueError, match="norm='instance'"):
        DCGANDiscriminator(32, 1, norm="instance")


def test_mlp_discriminator_uses_reversed_hidden_sizes() -> None:
    mc = ModelConfig(arch="mlp", img_size=28, img_channels=1, mlp_hidden=(256, 512, 1024), d_norm="none")
    d = build_discriminator(mc)
    sizes = [m.out_features for m in d.modules() if isinstance(m, nn.Linear)]
    assert sizes == [1024, 512, 256, 1]


def test_build_generator_deterministic_given_seed() -> None:
    mc = small("dcgan", 32, num_classes=3)
    torch.manual_seed(7)
    a = build_generator(mc)
    torch.manual_seed(7)
    b = build_generator(mc)
    for pa, pb in zip(a.state_dict().values(), b.state_dict().values()):
        assert torch.equal(pa, pb)


@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
def test_project_z_matmul_equals_transposed_conv_in_either_memory_format(memory_format: torch.memory_format) -> None:
    torch.manual_seed(0)
    proj = ProjectZ(10, 6, 4, 1, 0, bias=False).to(memory_format=memory_format)
    z = torch.randn(3, 10, 1, 1)
    out = proj(z)
    torch.testing.assert_close(out, nn.functional.conv_transpose2d(z, proj.weight), atol=1e-6, rtol=1e-5)
    assert out.shape == (3, 6, 4, 4) and out.is_contiguous(memory_format=memory_format)


@pytest.mark.parametrize(
    "changes, named",
    [(dict(arch="dcgan", img_size=128, g_channels=2048), "g_channels=2048"),
     (dict(arch="mlp", mlp_hidden=(10**7,)), "mlp_hidden=[10000000]")],
    ids=["dcgan-width", "mlp-hidden"],
)
def test_oversized_networks_are_refused_before_any_memory_is_allocated(changes: dict, named: str) -> None:
    mc = ModelConfig(**{"img_channels": 3, **changes})
    with pytest.raises(ConfigError, match=rf"{re.escape(named)}.*million parameters, over the limit of 200 million"):
        check_size(mc)
    with pytest.raises(ConfigError, match="over the limit"):
        build_generator(mc)  # would need tens of GB if it were built
