"""Image-to-image translation parts: networks, data, history pool, coupled layers."""

import numpy as np
import pytest
import torch
from PIL import Image

from gankit import data, nets
from gankit.config import DataConfig
from gankit.data.translation import blurred as blurred_of
from gankit.data.translation import edges, split, stack_unpaired
from gankit.errors import BadInput
from gankit.losses import PatchNCE, l1_loss, mind, structure_loss
from gankit.nets.patchgan import receptive_field
from gankit.recipes.cogan import Coupled, shared_paths
from gankit.recipes.cyclegan import HistoryPool


@pytest.mark.parametrize("side", [28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_translators_keep_the_image_shape(side, channels):
    x = torch.randn(2, channels, side, side)
    for name, options in [("unet", {}), ("resnet-translator", {"blocks": 1})]:
        g = nets.build(name, "g", (channels, side, side), 8, width=4, **options)
        assert g(x).shape == x.shape
        labelled = nets.build(name, "g", (channels, side, side), 8, 3, width=4, **options)
        assert labelled(x, torch.tensor([0, 2])).shape == x.shape


@pytest.mark.parametrize("norm", ["instance", "batch", "none"])
def test_translator_output_depends_on_the_target_domain(norm):
    # One input, two domains, opposite targets: only a G that sees the domain can fit both.
    # Instance norm alone would subtract the one-hot planes' constant and erase the domain.
    torch.manual_seed(0)
    g = nets.build("resnet-translator", "g", (1, 16, 16), 0, 2, width=8, blocks=1, norm=norm)
    x = torch.rand(4, 1, 16, 16).repeat(2, 1, 1, 1)
    c = torch.tensor([0] * 4 + [1] * 4)
    target = torch.cat([torch.full((4, 1, 16, 16), 0.5), torch.full((4, 1, 16, 16), -0.5)])
    opt = torch.optim.Adam(g.parameters(), 1e-2)
    for _ in range(60):
        loss = (g(x, c) - target).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.1  # a domain-blind G cannot get below 0.5


def test_translator_encoder_taps_match_their_channels():
    g = nets.build("resnet-translator", "g", (1, 28, 28), 0, 3, width=4, blocks=2, downsample=2)
    features = g.encode(torch.randn(2, 1, 28, 28), torch.tensor([0, 2]))
    assert [f.shape[1:] for f in features] == [(4, 28, 28), (8, 14, 14), (16, 7, 7), (16, 7, 7)]
    assert [f.shape[1] for f in features] == g.tap_channels


def test_patch_nce_rewards_an_output_that_keeps_the_input_in_place():
    # Same features at the same places: the diagonal wins. The same image shifted by half its
    # width: each place now holds another place's content, and the loss must be higher.
    torch.manual_seed(0)
    g = nets.build("resnet-translator", "g", (1, 16, 16), 0, 2, width=8, blocks=1)
    nce = PatchNCE(g.tap_channels, patches=32)
    x, c = torch.rand(4, 1, 16, 16), torch.tensor([0, 1, 0, 1])
    keys = g.encode(x, c)
    kept = nce(g.encode(x, c), keys, torch.Generator().manual_seed(1))
    moved = nce(g.encode(x.roll(8, dims=3), c), keys, torch.Generator().manual_seed(1))
    assert kept < moved
    kept.backward()  # the heads learn from G's side of the comparison
    assert all(p.grad is not None for p in nce.parameters())


def test_mind_ignores_inversion_and_sees_texture_and_moves():
    # Heinrich et al.'s descriptor: the same under x -> -x (so the structure term lets StarGAN
    # invert), different for a texture on a flat background or an item moved.
    torch.manual_seed(0)
    item = torch.full((2, 1, 16, 16), -1.0)
    item[:, :, 4:12, 5:11] = torch.rand(2, 1, 8, 6)
    assert torch.allclose(mind(item), mind(-item))
    assert mind(item).shape == (2, 4, 16, 16) and mind(item).amax() <= 1
    assert structure_loss(-item, item) < 1e-6
    textured = item + 0.5 * (torch.arange(16) % 2).float()  # stripes over the background too
    moved = item.roll(5, dims=3)
    assert structure_loss(textured, item) > 0.05 and structure_loss(moved, item) > 0.05
    out = item.clone().requires_grad_(True)
    structure_loss(out + 0.1 * torch.randn_like(item), item).backward()
    assert out.grad.abs().sum() > 0


def test_unet_skips_join_every_level():
    g = nets.build("unet", "g", (1, 32, 32), 8, width=4)
    assert len(g.downs) == len(g.ups) == 5  # 32 -> 1
    # each decoder level after the innermost takes its own output and the skip: twice the width
    assert [u[1].in_channels for u in g.ups] == [32, 64, 32, 16, 8]  # widths 4, 8, 16, 32, 32


@pytest.mark.parametrize("depth,patches", [(1, 12), (2, 5), (3, 1)])
def test_patchgan_gives_one_logit_per_patch(depth, patches):
    d = nets.build("patchgan", "d", (2, 28, 28), 8, width=4, depth=depth)
    assert d(torch.randn(3, 2, 28, 28)).shape == (3, 1, patches, patches)
    assert [receptive_field(k) for k in (1, 2, 3)] == [16, 34, 70]


def test_patchgan_taps_are_its_hidden_activations():
    d = nets.build("patchgan", "d", (2, 28, 28), 8, width=4, depth=2)
    x = torch.randn(3, 2, 28, 28)
    logits, taps = d(x, taps=True)
    assert torch.equal(logits, d(x))  # the same logits, with the activations beside them
    assert [t.shape[1:] for t in taps] == [(4, 14, 14), (8, 7, 7), (16, 6, 6)]


def test_patchgan_domain_head_and_clear_errors():
    d = nets.build("patchgan", "d", (1, 28, 28), 8, 4, width=4, depth=2, norm="none")
    src, cls = d(torch.randn(2, 1, 28, 28))
    assert src.shape == (2, 1, 5, 5) and cls.shape == (2, 4)
    with pytest.raises(BadInput, match="too deep for 28-pixel"):
        nets.build("patchgan", "d", (1, 28, 28), 8, depth=4)
    with pytest.raises(BadInput, match="divisible by 2"):
        nets.build("unet", "g", (1, 28, 28), 8, depth=3)


def test_history_pool_fills_then_swaps_half():
    g = torch.Generator().manual_seed(0)
    pool = HistoryPool(4, (1, 2, 2))
    first = torch.arange(4.0).view(4, 1, 1, 1).expand(4, 1, 2, 2)
    assert torch.equal(pool.query(first, g), first)  # filling: every fake passes through
    assert int(pool.count) == 4 and torch.equal(pool.images, first)
    new = (10 + torch.arange(200.0)).view(200, 1, 1, 1).expand(200, 1, 2, 2)
    out = pool.query(new, g)
    swapped = out[:, 0, 0, 0] != new[:, 0, 0, 0]
    assert 0.35 < swapped.float().mean() < 0.65  # about half are swapped for stored fakes
    # a swapped fake is an older one: from the first batch or earlier in this one
    assert all(v < 10 + i for v, i in zip(out[swapped, 0, 0, 0].tolist(), swapped.nonzero()))
    assert set(pool.images[:, 0, 0, 0].tolist()) <= set(new[:, 0, 0, 0].tolist()) | {0, 1, 2, 3}
    assert torch.equal(HistoryPool(0, (1, 2, 2)).query(new, g), new)


def test_history_pool_is_deterministic_given_the_stream():
    runs = []
    for _ in range(2):
        g, pool = torch.Generator().manual_seed(3), HistoryPool(3, (1,))
        runs.append([pool.query(torch.randn(4, 1, generator=g), g) for _ in range(4)])
    assert all(torch.equal(a, b) for a, b in zip(*runs))


def test_losses():
    a, b = torch.zeros(2, 1, 2, 2), torch.full((2, 1, 2, 2), 0.5)
    assert l1_loss(a, b).item() == pytest.approx(0.5)
    assert l1_loss(b, a).item() == pytest.approx(0.5)
    assert l1_loss(a, a).item() == 0


def test_coupled_networks_share_the_same_tensors():
    a = nets.build("dcgan", "g", (1, 28, 28), 8, width=4)
    b = nets.build("dcgan", "g", (1, 28, 28), 8, width=4)
    g = Coupled(a, b, shared_paths(a, 1, "last"))
    assert a.net[0].weight is b.net[0].weight  # the first layers are one module
    assert a.net[-2].weight is not b.net[-2].weight  # the last conv is each domain's own
    state = g.state_dict()
    assert not any(k.startswith("b.net.0.") for k in state)  # saved once
    fresh_a = nets.build("dcgan", "g", (1, 28, 28), 8, width=4)
    fresh_b = nets.build("dcgan", "g", (1, 28, 28), 8, width=4)
    fresh = Coupled(fresh_a, fresh_b, shared_paths(fresh_a, 1, "last"))
    fresh.load_state_dict(state)
    z = torch.randn(3, 8)
    g.eval(), fresh.eval()
    assert all(torch.equal(x, y) for x, y in zip(g(z, z), fresh(z, z)))
    d_a = nets.build("dcgan", "d", (1, 28, 28), 8, width=4)
    d = Coupled(
        d_a, nets.build("dcgan", "d", (1, 28, 28), 8, width=4), shared_paths(d_a, 1, "first")
    )
    assert d.a.head.weight is d.b.head.weight and d.a.features[0] is not d.b.features[0]


def test_edges_are_binary_and_deterministic():
    ds = data.build(DataConfig("edges2items", options={"base": "digits"}))
    again = data.build(DataConfig("edges2items", options={"base": "digits"}))
    assert ds.x.shape == (1437, 2, 28, 28) and torch.equal(ds.x, again.x)
    a, b = split(ds.x)
    assert set(a.unique().tolist()) <= {0, 255} and torch.equal(a, edges(b))


def test_unpaired_tasks_use_disjoint_items():
    ds = data.build(DataConfig("items2inverted", options={"base": "digits"}), "test")
    base = data.build(DataConfig("digits"), "test")
    a, b = split(ds.x)
    assert torch.equal(a, base.x[0::2]) and torch.equal(ds.y, base.y[0::2])
    # B holds inverted *odd* items, each exactly once
    odd = {bytes((255 - x).numpy()) for x in base.x[1::2]}
    assert {bytes(x.numpy()) for x in b} == odd


def test_item_domains_label_the_domain():
    ds = data.build(DataConfig("item-domains", options={"base": "digits"}), "test")
    base = data.build(DataConfig("digits"), "test")
    assert ds.class_names == ["plain", "inverted", "edges"]
    assert torch.equal(ds.x[0], base.x[0]) and torch.equal(ds.x[1], 255 - base.x[1])
    assert ds.y[:4].tolist() == [0, 1, 2, 0]


def test_blurred_domain_keeps_brightness_and_softens_edges():
    base = data.build(DataConfig("digits"), "test").x[:50]
    ds = data.build(
        DataConfig("item-domains", options={"base": "digits", "domains": ["plain", "blurred"]}),
        "test",
    )
    blurred = ds.x[1:50:2]
    assert blurred.dtype == torch.uint8 and torch.equal(blurred, blurred_of(base[1:50:2]))
    sharp = base[1:50:2].float()
    assert abs(blurred.float().mean() - sharp.mean()) < 2  # a blur moves ink, it adds none
    step = lambda v: v.diff(dim=3).abs().mean()  # noqa: E731
    assert step(blurred.float()) < 0.9 * step(sharp)  # digits are upscaled, already soft


def test_stack_unpaired_repeats_the_smaller_domain():
    a, b = torch.zeros(5, 1, 2, 2, dtype=torch.uint8), torch.ones(2, 1, 2, 2, dtype=torch.uint8)
    x = stack_unpaired(a, b, 0)
    assert x.shape == (5, 2, 2, 2) and x[:, 1].eq(1).all()


def save(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_aligned_folder_splits_each_image(tmp_path):
    pair = np.zeros((16, 32, 3), np.uint8)
    pair[:, 16:] = 200  # B is the bright right half
    for i in range(3):
        save(tmp_path / "train" / f"{i}.png", pair)
    ds = data.build(DataConfig("aligned-folder", size=8, root=str(tmp_path)))
    assert ds.x.shape == (3, 6, 8, 8)
    assert ds.x[:, :3].max() == 0 and ds.x[:, 3:].min() == 200
    flipped = DataConfig(
        "aligned-folder", size=8, root=str(tmp_path), options={"direction": "BtoA"}
    )
    assert data.build(flipped).x[:, :3].min() == 200


def test_aligned_folder_rejects_unpaired_or_mismatched_images(tmp_path):
    save(tmp_path / "square" / "train" / "0.png", np.zeros((16, 16), np.uint8))
    with pytest.raises(BadInput, match="twice as wide"):
        data.build(DataConfig("aligned-folder", root=str(tmp_path / "square")))
    save(tmp_path / "cyc" / "trainA" / "0.png", np.zeros((16, 16), np.uint8))
    with pytest.raises(BadInput, match="unpaired domains"):
        data.build(DataConfig("aligned-folder", root=str(tmp_path / "cyc")))


def test_unpaired_folder_reads_the_cyclegan_layout(tmp_path):
    for i in range(3):
        save(tmp_path / "trainA" / f"{i}.png", np.zeros((20, 20, 3), np.uint8))
    save(tmp_path / "trainB" / "0.jpg", np.full((30, 40, 3), 255, np.uint8))
    ds = data.build(DataConfig("unpaired-folder", size=16, root=str(tmp_path)))
    assert ds.x.shape == (3, 6, 16, 16) and ds.x[:, 3:].min() > 250
    with pytest.raises(BadInput, match="testA or testB"):
        data.build(DataConfig("unpaired-folder", root=str(tmp_path)), "test")
