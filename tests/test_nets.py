"""Every network: output shape and range for every supported size and channel count."""

import pytest
import torch

from gankit.errors import BadInput
from gankit.nets import NETS, build

IMAGE_SHAPES = [(1, 28, 28), (3, 28, 28), (1, 32, 32), (3, 32, 32), (1, 64, 64), (3, 64, 64)]


@pytest.mark.parametrize("shape", IMAGE_SHAPES)
@pytest.mark.parametrize("upsample", ["transpose", "nearest", "bilinear"])
def test_dcgan_shapes_and_range(shape, upsample):
    g = build("dcgan", "g", shape, 16, width=8, upsample=upsample)
    d = build("dcgan", "d", shape, 16, width=8)
    x = g(torch.randn(3, 16) * 10)
    assert x.shape == (3, *shape)
    assert x.min() >= -1 and x.max() <= 1  # Tanh: the data range
    assert d(x).shape == (3,)


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (2,), (1,)])
def test_mlp_shapes_and_range(shape):
    g = build("mlp", "g", shape, 8, hidden=[32, 32])
    d = build("mlp", "d", shape, 8)
    x = g(torch.randn(5, 8) * 100)
    assert x.shape == (5, *shape)
    if len(shape) == 3:
        assert x.abs().max() <= 1
    else:  # toy points are unbounded: G is linear at the end
        assert x.abs().max() > 1
    assert d(x).shape == (5,)


def test_mlp_default_is_the_classic_example():
    g, d = build("mlp", "g", (1, 28, 28), 100), build("mlp", "d", (1, 28, 28), 100)
    assert [m.out_features for m in g.net if isinstance(m, torch.nn.Linear)] == [128, 784]
    assert [m.out_features for m in d.net if isinstance(m, torch.nn.Linear)] == [128, 1]
    assert isinstance(g.net[-1], torch.nn.Tanh) and not isinstance(d.net[-1], torch.nn.Sigmoid)


def test_resize_convolution_has_no_transposed_convolution_upsampling():
    g = build("dcgan", "g", (1, 28, 28), 16, width=8, upsample="nearest")
    transposed = [m for m in g.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert len(transposed) == 1  # only the 1x1 -> 7x7 projection of z
    assert any(isinstance(m, torch.nn.Upsample) for m in g.modules())


def test_spectral_norm_switch_bounds_singular_values():
    d = build("dcgan", "d", (1, 28, 28), 16, width=8, norm="none", spectral_norm=True)
    for _ in range(20):  # power iterations converge as the network runs in train mode
        d(torch.randn(4, 1, 28, 28))
    d.eval()
    for m in d.modules():
        if isinstance(m, torch.nn.Conv2d):
            sigma = torch.linalg.matrix_norm(m.weight.flatten(1), ord=2)
            assert sigma < 1.05


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: build("dcgn", "g", (1, 28, 28), 8), 'Did you mean "dcgan"'),
        (lambda: build("dcgan", "g", (1, 30, 30), 8), "not 4 or 7 times a power of two"),
        (lambda: build("dcgan", "g", (1, 28, 28), 8, widht=3), 'Did you mean "width"'),
        (lambda: build("dcgan", "g", (1, 28, 28), 8, upsample="cubic"), "upsample"),
    ],
)
def test_bad_network_settings_name_the_problem(call, message):
    with pytest.raises(BadInput, match=message):
        call()


def test_registry_lists_both_families():
    assert {"mlp", "dcgan"} <= set(NETS.names())
