"""Labels inside the networks: G(z, y) gets y's embedding, each D head does its maths."""

import pytest
import torch

from gankit import nets
from gankit.errors import BadInput
from gankit.nets.conditioning import LabelledDiscriminator, LabelledGenerator

SHAPE, Z, K = (1, 28, 28), 8, 4
SMALL = {"mlp": {"hidden": 16}, "dcgan": {"width": 4, "norm": "none"}}


def build(name: str, role: str, num_classes: int = K, **options):
    torch.manual_seed(0)
    return nets.build(name, role, SHAPE, Z, num_classes, **(SMALL[name] | options)).eval()


@pytest.mark.parametrize("name", ["mlp", "dcgan"])
def test_generator_asked_for_class_k_gets_ks_embedding(name):
    g = build(name, "g")
    assert isinstance(g, LabelledGenerator)
    z = torch.randn(3, Z)
    k = torch.full((3,), 2)
    with torch.no_grad():
        g.embed.weight.copy_(torch.arange(K * K, dtype=torch.float).view(K, K))
        expected = g.body(torch.cat([z, g.embed.weight[2].expand(3, -1)], 1))
        assert torch.equal(g(z, k), expected)
        g.embed.weight[1] += 5.0  # another class's row: no effect on class 2
        assert torch.equal(g(z, k), expected)
        g.embed.weight[2] += 5.0  # its own row: the output moves
        assert not torch.allclose(g(z, k), expected)


@pytest.mark.parametrize("name", ["mlp", "dcgan"])
def test_concat_discriminator_sees_the_label(name):
    d = build(name, "d", conditioning="concat")
    x = torch.randn(5, *SHAPE)
    with torch.no_grad():
        by_class = torch.stack([d(x, torch.full((5,), c)) for c in range(K)])
    assert by_class.shape == (K, 5)
    assert not torch.allclose(by_class[0], by_class[1])
    with pytest.raises(ValueError, match="needs labels"):
        d(x)


@pytest.mark.parametrize("name", ["mlp", "dcgan"])
def test_projection_is_psi_plus_inner_product_with_the_class_row(name):
    d = build(name, "d", conditioning="projection")
    x, y = torch.randn(5, *SHAPE), torch.tensor([0, 1, 2, 3, 1])
    with torch.no_grad():
        h = d.phi(x)
        expected = d.head(h).flatten() + (d.embed.weight[y] * h).sum(1)
        assert torch.allclose(d(x, y), expected, atol=1e-6)


@pytest.mark.parametrize("name", ["mlp", "dcgan"])
def test_class_heads(name):
    x = torch.randn(5, *SHAPE)
    aux = build(name, "d", conditioning="aux")
    logit, classes = aux.heads(x)
    assert logit.shape == (5,) and classes.shape == (5, K)
    sgan = build(name, "d", conditioning="classes")
    with torch.no_grad():
        # The K+1-way D's real/fake logit is the logsumexp of its K class logits.
        assert torch.allclose(sgan(x), sgan.classify(x).logsumexp(1))
    with pytest.raises(ValueError, match="no class head"):
        build(name, "d", conditioning="concat").classify(x)


@pytest.mark.parametrize("name", ["mlp", "dcgan"])
def test_unconditional_networks_stay_plain(name):
    g, d = build(name, "g", 0), build(name, "d", 0)
    assert not isinstance(g, LabelledGenerator) and not isinstance(d, LabelledDiscriminator)
    assert d(torch.randn(2, *SHAPE)).shape == (2,)


def test_unknown_conditioning_is_bad_input():
    with pytest.raises(BadInput, match="conditioning 'projecton'"):
        nets.build("mlp", "d", SHAPE, Z, K, conditioning="projecton")


def test_mlp_d_noise_acts_in_training_only_and_only_on_a_labelled_d():
    d = nets.build("mlp", "d", (1, 8, 8), 16, 10, hidden=[32], conditioning="classes", noise=0.5)
    x = torch.randn(4, 1, 8, 8)
    d.eval()
    assert torch.equal(d.classify(x), d.classify(x))  # no noise when scoring
    d.train()
    assert not torch.equal(d.classify(x), d.classify(x))
    for role, classes in (("g", 10), ("d", 0)):
        with pytest.raises(BadInput, match="noise"):
            nets.build("mlp", role, (1, 8, 8), 16, classes, noise=0.3)
