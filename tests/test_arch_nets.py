"""Networks beyond DCGAN: shapes for every size, ProGAN's fade-in arithmetic, style mixing."""

import pytest
import torch
import torch.nn.functional as F

from gankit.errors import BadInput
from gankit.nets import build
from gankit.nets.layers import MinibatchDiscrimination, MinibatchStd, PixelNorm, equalize
from gankit.recipes.progressive import phase, real_at

SHAPES = [(1, 28, 28), (3, 32, 32), (1, 64, 64)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("g_name,d_name", [("resnet", "resnet"), ("began", "began")])
def test_shapes_and_range(shape, g_name, d_name):
    g = build(g_name, "g", shape, 8, width=8)
    d = build(d_name, "d", shape, 8, width=8)
    x = g(torch.randn(3, 8) * 10)
    assert x.shape == (3, *shape) and x.abs().max() <= 1
    expected = (3, *shape) if d_name == "began" else (3,)  # BEGAN's D reconstructs its input
    assert d(x).shape == expected


@pytest.mark.parametrize("shape", SHAPES)
def test_progressive_shapes_at_every_level(shape):
    g = build("progressive", "g", shape, 8, width=8)
    d = build("progressive", "d", shape, 8, width=8)
    for level in range(g.levels):
        for alpha in (0.3, 1.0):
            g.set_phase(level, alpha)
            d.set_phase(level, alpha)
            x = g(torch.randn(4, 8))  # training mode: the current resolution
            assert x.shape == (4, shape[0], g.side(level), g.side(level))
            assert d(x).shape == (4,)
            g.eval()
            assert g(torch.randn(4, 8)).shape == (4, *shape)  # eval: upsampled to full size
            g.train()
    assert g.side(g.levels - 1) == shape[1]


@pytest.mark.parametrize("shape", SHAPES)
def test_style_generator_shapes(shape):
    g = build("style", "g", shape, 8, width=8, w_dim=16)
    x = g(torch.randn(3, 8))
    assert x.shape == (3, *shape) and x.abs().max() <= 1
    assert g.num_styles == 2 * (g.num_styles // 2)  # two layers per resolution


def test_labels_and_roles_are_refused_clearly():
    with pytest.raises(BadInput, match="no labels"):
        build("resnet", "g", (1, 28, 28), 8, num_classes=10)
    with pytest.raises(BadInput, match="generator only"):
        build("style", "d", (1, 28, 28), 8)


def test_fade_in_schedule_arithmetic():
    # levels 3, fade 10, stable 20: level 0 for 20 steps, then fade 10 + stable 20 per level
    assert phase(0, 3, 10, 20) == (0, 1.0)
    assert phase(19, 3, 10, 20) == (0, 1.0)
    assert phase(20, 3, 10, 20) == (1, 0.0)
    assert phase(25, 3, 10, 20) == (1, 0.5)
    assert phase(30, 3, 10, 20) == (1, 1.0)
    assert phase(49, 3, 10, 20) == (1, 1.0)
    assert phase(50, 3, 10, 20) == (2, 0.0)
    assert phase(57, 3, 10, 20) == (2, 0.7)
    assert phase(10**6, 3, 10, 20) == (2, 1.0)


def test_generator_fade_blends_the_two_resolutions():
    g = build("progressive", "g", (1, 28, 28), 8, width=8)
    z = torch.randn(2, 8)
    g.set_phase(0, 1.0)
    low = torch.atanh(g(z).clamp(-0.999999, 0.999999))  # pre-tanh rgb at 7x7
    g.set_phase(1, 1.0)
    high = torch.atanh(g(z).clamp(-0.999999, 0.999999))  # pre-tanh rgb at 14x14
    g.set_phase(1, 0.25)
    blended = torch.atanh(g(z).clamp(-0.999999, 0.999999))
    expected = 0.75 * F.interpolate(low, scale_factor=2) + 0.25 * high
    assert torch.allclose(blended, expected, atol=1e-4)
    g.set_phase(1, 0.0)
    assert torch.allclose(g(z), F.interpolate(torch.tanh(low), scale_factor=2), atol=1e-5)


def test_discriminator_at_alpha_zero_ignores_the_new_block():
    d = build("progressive", "d", (1, 28, 28), 8, width=8)
    x = torch.randn(4, 1, 14, 14)
    d.set_phase(1, 0.0)
    out = d(x)
    d.set_phase(0, 1.0)
    assert torch.allclose(out, d(F.avg_pool2d(x, 2)), atol=1e-5)


def test_real_images_are_downsampled_and_blended():
    x = torch.randn(2, 1, 28, 28)
    assert torch.allclose(real_at(x, 7, 1.0), F.avg_pool2d(x, 4), atol=1e-6)
    half = real_at(x, 14, 0.5)
    at14 = F.avg_pool2d(x, 2)
    assert torch.allclose(half, 0.5 * at14 + 0.5 * F.interpolate(F.avg_pool2d(at14, 2), None, 2))


def test_equalized_learning_rate_scales_at_run_time():
    layer = equalize(torch.nn.Linear(50, 20))
    raw = layer.parametrizations.weight.original
    assert abs(raw.std().item() - 1) < 0.1  # stored N(0, 1)
    assert torch.allclose(layer.weight, raw * (2**0.5 / 50**0.5))  # He constant applied


def test_pixel_norm_and_minibatch_std():
    x = torch.randn(8, 16, 4, 4) * 5
    assert torch.allclose(PixelNorm()(x).pow(2).mean(1), torch.ones(8, 4, 4), atol=1e-4)
    same = torch.randn(1, 3, 4, 4).repeat(8, 1, 1, 1)
    out = MinibatchStd(4)(same)
    assert out.shape == (8, 4, 4, 4) and out[:, 3].abs().max() < 1e-3  # no spread: std ~ 0
    assert MinibatchStd(4)(x)[:, 16].min() > 1  # spread batch: large std feature


def test_minibatch_discrimination_sees_a_collapsed_batch():
    layer = MinibatchDiscrimination(16, kernels=4, kernel_dim=3)
    diverse = layer(torch.randn(8, 16) * 3)
    collapsed = layer(torch.randn(1, 16).repeat(8, 1))
    assert torch.allclose(collapsed, torch.full_like(collapsed, 7.0))  # 7 identical neighbours
    assert diverse.mean() < collapsed.mean()


def test_style_mixing_takes_coarse_styles_from_one_latent_and_fine_from_another():
    g = build("style", "g", (1, 28, 28), 8, width=8, w_dim=16).eval()
    z1, z2 = torch.randn(4, 8), torch.randn(4, 8)
    assert torch.equal(g.mix(z1, z2, g.num_styles), g(z1))  # no cut: all z1
    mixed = g.mix(z1, z2, 2)
    assert not torch.allclose(mixed, g(z1)) and not torch.allclose(mixed, g.mix(z2, z2, 6))
    w1, w2 = g.mapping(z1), g.mapping(z2)
    ws = g.mixed(w1, w2, torch.tensor([0, 2, 3, 6]))
    assert torch.equal(ws[1, :2], w1[1:2].expand(2, -1)) and torch.equal(
        ws[1, 2:], w2[1:2].expand(4, -1)
    )
    assert torch.equal(ws[0], w2[0:1].expand(6, -1)) and torch.equal(ws[3], w1[3:4].expand(6, -1))


def test_style_training_mixes_and_tracks_the_mean_style():
    g = build("style", "g", (1, 28, 28), 8, width=8, w_dim=16, mixing=1.0)
    z = torch.randn(16, 8)
    g(z)
    assert g.w_avg.abs().sum() > 0  # updated in training mode
    g.eval()
    plain = g(z)
    g.truncation = 0.0  # every style collapses to the mean style
    collapsed = g(z)
    assert collapsed.std(0).mean() < 0.5 * plain.std(0).mean()


def test_style_generator_is_a_function_of_z():
    g = build("style", "g", (1, 28, 28), 8, width=8).eval()
    z = torch.randn(4, 8)
    assert torch.equal(g(z), g(z))
    assert not torch.allclose(g(z[:1]), g(z[1:2]))
