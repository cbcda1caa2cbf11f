"""PacGAN packing (nets.d_options.pack): D judges groups of samples, all real or all fake."""

import pytest
import torch
from conftest import tiny_ring

from gankit import api, config
from gankit.errors import BadInput
from gankit.nets import build


def test_packed_d_sees_each_group_of_consecutive_samples_as_one_input():
    d = build("mlp", "d", (2,), 2, pack=3, hidden=[8])
    x = torch.randn(6, 2)
    assert d(x).shape == (2,)
    # The first group is samples 0-2 side by side: what the body alone gives for that row.
    assert torch.allclose(d(x)[0], d.body(x[:3].reshape(1, 6))[0])
    image_d = build("dcgan", "d", (1, 28, 28), 8, pack=2, width=4)
    first_conv = next(m for m in image_d.modules() if isinstance(m, torch.nn.Conv2d))
    assert first_conv.in_channels == 2  # the body is built for two stacked images
    assert image_d(torch.randn(4, 1, 28, 28)).shape == (2,)


def test_a_packed_group_changes_with_any_of_its_members():
    torch.manual_seed(0)
    d = build("mlp", "d", (2,), 2, pack=2, hidden=[16])
    x = torch.randn(2, 2)
    y = x.clone()
    y[1] += 1.0  # only the second member differs
    assert not torch.allclose(d(x), d(y))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"role": "g", "pack": 2}, "unlabelled discriminator"),
        ({"role": "d", "pack": 2, "num_classes": 10}, "unlabelled discriminator"),
        ({"role": "d", "pack": 0}, "pack >= 1"),
    ],
)
def test_packing_only_where_it_means_something(kwargs, message):
    role = kwargs.pop("role")
    with pytest.raises(BadInput, match=message):
        build("mlp", role, (2,), 2, hidden=[8], **kwargs)


def test_a_batch_that_does_not_fill_the_groups_is_named():
    d = build("mlp", "d", (2,), 2, pack=4, hidden=[8])
    with pytest.raises(BadInput, match="multiple of 4"):
        d(torch.randn(6, 2))


def test_a_packed_ring_run_trains_and_resumes_exactly(tmp_path):
    raw = tiny_ring(steps=60)
    raw["nets"]["d_options"]["pack"] = 2
    raw["train"].update(checkpoint_every=30, sample_every=60)
    whole = api.train(config.from_dict(raw), tmp_path / "whole")
    assert whole["step"] == 60
    half = dict(raw, train=dict(raw["train"], steps=30))
    api.train(config.from_dict(half), tmp_path / "half")
    resumed = api.resume(tmp_path / "half", ["train.steps=60"])
    a, b = api.load(tmp_path / "whole"), api.load(tmp_path / "half")
    for key, value in a.recipe.modules["d"].state_dict().items():
        assert torch.equal(value, b.recipe.modules["d"].state_dict()[key]), key
    assert resumed["step"] == 60


def test_gankit_list_names_the_network_switches():
    switches = api.list_parts()["network switches"]
    assert "PacGAN" in switches["nets.d_options.pack"]
    assert "nets.d_options.spectral_norm" in switches
