"""Adaptive discriminator augmentation: the transforms against hand results, p = 0 the identity,
p's update by the paper's rule, a short run on 16 images, the config's checks, the doctor's
"D overfits" event, and an exact resume."""

import json
import math
from pathlib import Path

import pytest
import torch
from conftest import tiny_digits, tiny_ring, whole_and_resumed
from PIL import Image
from test_train import generator_weights, logged

from gankit import ada, api, config, data
from gankit.config import DataConfig
from gankit.diagnostics import doctor as dr
from gankit.errors import BadInput
from gankit.losses import LOSSES
from gankit.train.trainer import build_recipe

ONES, ZEROS = torch.ones(1), torch.zeros(1)
SQUARE = torch.arange(9.0).view(1, 1, 3, 3)  # [[0, 1, 2], [3, 4, 5], [6, 7, 8]]


def images(n: int = 8, channels: int = 3, side: int = 12, requires_grad: bool = False):
    x = torch.rand(n, channels, side, side, generator=torch.Generator().manual_seed(0)) * 2 - 1
    return x.requires_grad_(requires_grad)


def augmented(x, p: float, seed: int = 0):
    return ada.augment(x, torch.tensor(p, dtype=torch.float64), torch.Generator().manual_seed(seed))


# -- the transforms ------------------------------------------------------------------------------
@pytest.mark.parametrize("channels", [1, 3])
def test_p_zero_returns_the_images_bit_for_bit(channels):
    x = images(channels=channels)
    assert torch.equal(augmented(x, 0.0), x)


@pytest.mark.parametrize("channels", [1, 3])
def test_p_one_changes_every_image_and_g_learns_through_it(channels):
    x = images(channels=channels, requires_grad=True)
    out = augmented(x, 1.0)
    assert out.shape == x.shape
    assert ((out - x).flatten(1).abs().amax(1) > 1e-3).all()
    (grad,) = torch.autograd.grad(out.square().sum(), x)
    assert (grad.flatten(1).abs().sum(1) > 0).all()  # a gradient reaches every input image


def test_the_same_seed_gives_the_same_augmentation():
    x = images()
    assert torch.equal(augmented(x, 0.5, seed=3), augmented(x, 0.5, seed=3))
    assert not torch.equal(augmented(x, 0.5, seed=3), augmented(x, 0.5, seed=4))


def test_blitting_flips_turns_and_shifts_whole_pixels():
    flip = ada.scale(-ONES, ONES)  # the maps read output -> input: a flip is its own inverse
    assert ada.blit(SQUARE, flip)[0, 0].tolist() == [[2, 1, 0], [5, 4, 3], [8, 7, 6]]
    quarter = ada.rotate(ONES * math.pi / 2)  # a quarter turn anticlockwise, as torch.rot90
    assert ada.blit(SQUARE, quarter)[0, 0].tolist() == [[2, 5, 8], [1, 4, 7], [0, 3, 6]]
    right = ada.translate(-ONES, ZEROS)  # one pixel right: the left column reflected in
    assert ada.blit(SQUARE, right)[0, 0].tolist() == [[0, 0, 1], [3, 3, 4], [6, 6, 7]]
    up = ada.translate(ZEROS, ONES)
    assert ada.blit(SQUARE, up)[0, 0].tolist() == [[3, 4, 5], [6, 7, 8], [6, 7, 8]]
    x = images(n=4, side=6)  # composed as the pipeline composes them: flip first, then turns
    for k in range(4):
        both = flip @ ada.rotate(ONES * k * math.pi / 2)
        assert torch.equal(ada.blit(x, both.expand(4, 3, 3)), torch.rot90(x.flip(3), k, (2, 3)))


def test_warping_interpolates_bilinearly_with_reflection():
    half = ada.translate(-ONES / 2, ZEROS)  # half a pixel right: each pixel and its left one
    expected = torch.tensor([[0, 0.5, 1.5], [3, 3.5, 4.5], [6, 6.5, 7.5]])
    assert torch.allclose(ada.warp(SQUARE, half)[0, 0], expected, atol=1e-5)
    quarter = ada.rotate(ONES * math.pi / 2)  # on pixel centres: the exact turn
    assert torch.allclose(ada.warp(SQUARE, quarter), ada.blit(SQUARE, quarter), atol=1e-5)
    twice = ada.scale(ONES / 2, ONES / 2)  # 2x zoom: the centre pixel fills the middle
    assert ada.warp(SQUARE, twice)[0, 0, 1, 1] == 4


def test_colour_matrices_against_their_definitions():
    rgb = images(n=2, channels=3, side=4)
    mean = rgb.mean(1, keepdim=True)
    third = torch.full((2,), 2 * math.pi / 3)  # a third of a turn about grey: R -> G -> B -> R
    turned = ada.recolour(rgb, ada.hue_rotation(third), torch.zeros(2))
    assert torch.allclose(turned, rgb[:, [2, 0, 1]], atol=1e-6)
    grey = ada.recolour(rgb, ada.saturate(torch.zeros(2)), torch.zeros(2))
    assert torch.allclose(grey, mean.expand_as(rgb), atol=1e-6)
    flipped = ada.recolour(rgb, ada.luma_flip(torch.ones(2)), torch.zeros(2))
    assert torch.allclose(flipped, rgb - 2 * mean, atol=1e-6)  # the grey part negated
    one = images(n=2, channels=1, side=4)
    contrast = ada.luma_flip(torch.ones(2)) * 2  # on grey: (x + b) * 2, negated
    brightness = torch.tensor([0.1, -0.2])
    out = ada.recolour(one, contrast, brightness)
    assert torch.allclose(out, -(one + brightness.view(2, 1, 1, 1)) * 2, atol=1e-6)


# -- p, adapted -----------------------------------------------------------------------------------
def test_p_moves_by_batch_times_interval_over_speed_img_towards_the_target():
    state = ada.AdaptiveAugment(target=0.6, speed_img=256.0, interval=4, p_init=0.5)
    step = 8 * 4 / 256  # batch * interval / speed_img

    def feed(logits: torch.Tensor, times: int = 4) -> list[float]:
        return [float(state.observe(logits)["ada_p"]) for _ in range(times)]

    assert feed(torch.full((8,), 3.0)) == [0.5, 0.5, 0.5, 0.5 + step]  # D sure of every real
    assert float(state.rt) == 1.0
    assert feed(torch.full((8, 1), -0.1)) == [0.5 + step] * 3 + [0.5]  # r_t = -1 < target
    at_target = torch.tensor([1.0] * 8 + [-1.0] * 2)  # r_t = 0.6: p stays
    assert feed(at_target) == [0.5] * 4
    for _ in range(8):
        feed(torch.full((8,), -1.0))
    assert float(state.p) == 0.0  # clamped at 0


# -- a run ----------------------------------------------------------------------------------------
def sixteen_digits(tmp_path) -> dict:
    """A folder of 16 digit images (what D can memorise) as the data of a tiny DCGAN run."""
    folder = tmp_path / "sixteen"
    folder.mkdir()
    ds = data.build(DataConfig(name="digits", size=16))
    for i in range(16):
        Image.fromarray(ds.x[i, 0].numpy()).save(folder / f"{i}.png")
    raw = tiny_digits(160)
    raw["data"] = {"name": "image-folder", "root": str(folder), "size": 16, "channels": 1}
    raw["train"].update(log_every=20, sample_every=1000, checkpoint_every=1000)
    return raw


def test_p_rises_while_d_memorises_sixteen_images(tmp_path):
    raw = sixteen_digits(tmp_path)
    raw["stabilisers"] = {"ada": {"speed_img": 3200, "interval": 4}}
    run = api.train(config.from_dict(raw), tmp_path / "run")["run"]
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    p = [r["ada_p"] for r in records if "ada_p" in r]
    step = 16 * 4 / 3200
    assert len(p) == 8 and p[-1] >= 0.2 and p[-1] > p[0]
    assert all(abs(v / step - round(v / step)) < 1e-4 for v in p)  # whole steps of the rule
    assert all(-1 <= r["ada_rt"] <= 1 for r in records if "ada_rt" in r)


def test_a_relativistic_ds_r_t_reads_its_pairs_not_its_drifting_zero():
    raw = tiny_digits(1)
    raw["loss"] = {"name": "rpgan", "penalty": "none"}
    raw["stabilisers"] = {"ada": {"interval": 1}}
    cfg = config.from_dict(raw)
    recipe = build_recipe(cfg, data.build(cfg.data).spec, torch.device("cpu"))
    x = torch.zeros(4, 1, 28, 28)
    # a D sure of every real against its fake, all its outputs below zero: r_t is 1, not -1
    recipe.D = lambda images: -10 + (images.flatten(1).mean(1, keepdim=True) == 0).float()
    _, stats = recipe.d_loss((x, None), torch.ones_like(x))
    assert stats["ada_rt"] == 1


def test_resume_with_ada_is_bit_identical(tmp_path):
    raw = tiny_digits(6)
    raw["train"].update(log_every=1, checkpoint_every=3, sample_every=6)
    raw["stabilisers"] = {"ada": {"speed_img": 64, "interval": 1}}
    whole, half = whole_and_resumed(raw, tmp_path, at=3)
    a, b = generator_weights(whole), generator_weights(half)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert logged(whole) == logged(half)
    assert len({r["ada_p"] for r in logged(whole)}) > 1  # p moved, and moved alike


# -- config ---------------------------------------------------------------------------------------
def test_any_key_turns_ada_on_with_the_defaults_for_the_rest():
    s = config.StabilisersConfig(ada={"target": 0.5})
    assert s.ada == {"target": 0.5, "speed_img": 500_000.0, "interval": 4, "p_init": 0.0}
    assert config.StabilisersConfig(ada=None).ada == config.StabilisersConfig().ada == {}


@pytest.mark.parametrize(
    "ada_keys, message",
    [
        ({"taget": 0.6}, r'key "stabilisers.ada.taget"\. Did you mean "stabilisers.ada.target"'),
        ({"target": 1.5}, r"stabilisers.ada.target = 1.5 is out of range.*\[0, 1\)"),
        ({"target": "nan"}, "stabilisers.ada.target = nan is out of range"),
        ({"speed_img": 0}, "stabilisers.ada.speed_img = 0 is out of range"),
        ({"interval": 0}, "stabilisers.ada.interval = 0 is out of range"),
        ({"interval": 2.5}, "stabilisers.ada.interval = 2.5 has the wrong type: expected int"),
        ({"p_init": -0.1}, r"p_init = -0.1 is out of range.*\[0, 1\]"),
    ],
)
def test_bad_ada_keys_are_named_in_one_line(ada_keys, message):
    raw = tiny_digits() | {"stabilisers": {"ada": ada_keys}}
    with pytest.raises(BadInput, match=message) as e:
        config.from_dict(raw)
    assert "\n" not in str(e.value)


def test_ada_refuses_data_that_are_not_images(tmp_path):
    raw = tiny_ring(4) | {"stabilisers": {"ada": {"target": 0.6}}}
    with pytest.raises(BadInput, match="square images with 1 or 3 channels.*2"):
        api.train(config.from_dict(raw), tmp_path / "run")


# -- the doctor -----------------------------------------------------------------------------------
class Stub:
    """What the rule reads of a Doctor: the config, the game, the kind of data."""

    def __init__(self, loss="non-saturating", recipe="unconditional", kind="image", **ada):
        raw = tiny_digits(1000) | {"loss": {"name": loss}, "recipe": recipe}
        raw["stabilisers"] = {"ada": ada}
        self.cfg = config.from_dict(raw)
        self.game = LOSSES.get(loss)()
        self.ds = type("Data", (), {"kind": kind})


def records(**series) -> list[dict]:
    n = len(next(iter(series.values())))
    return [{"step": 100 * (i + 3)} | {k: v[i] for k, v in series.items()} for i in range(n)]


def test_the_doctor_reads_overfitting_from_adas_r_t():
    stub = Stub(target=0.6)
    high = records(ada_rt=[0.95, 0.92, 0.97], ada_p=[0.6, 0.7, 0.8], d_real=[0.7] * 3)
    event = dr.discriminator_overfits(high, 500, stub)
    assert event.check == "d-overfits" and "p at 0.80" in event.why
    assert any("speed_img" in f for f in event.fixes)
    dipped = records(ada_rt=[0.95, 0.6, 0.97], d_real=[0.7] * 3)
    assert dr.discriminator_overfits(dipped, 500, stub) is None
    assert dr.discriminator_overfits(high, 100, stub) is None  # within the warm-up


def test_without_ada_the_doctor_bounds_r_t_by_d_real_and_names_ada():
    sure = records(d_real=[0.99, 0.98, 0.99])  # r_t >= 4 * 0.98 - 3 = 0.92
    event = dr.discriminator_overfits(sure, 500, Stub())
    assert "r_t = E[sign D(x)] >= 0.96" in event.why
    assert any("stabilisers.ada" in f for f in event.fixes)
    assert dr.discriminator_overfits(records(d_real=[0.97] * 3), 500, Stub()) is None  # 0.88
    assert dr.discriminator_overfits(sure, 500, Stub("wgan-gp")) is None  # a score, not P(real)
    assert dr.discriminator_overfits(sure, 500, Stub(kind="points")) is None
    cgan = dr.discriminator_overfits(sure, 500, Stub(recipe="cgan"))
    assert not any("stabilisers" in f for f in cgan.fixes)  # cgan reads no stabilisers: section


def test_resume_refuses_switching_ada_and_allows_changing_its_settings():
    from gankit.train import resume_policy

    def cfg(ada):
        return config.from_dict(tiny_digits() | {"stabilisers": {"ada": ada}})

    on, faster, off = cfg({"target": 0.6}), cfg({"target": 0.7}), cfg({})
    assert resume_policy.changes(on, faster)
    resume_policy.plan(Path("unused"), on, faster)  # a setting of ADA: free
    for before, after in ((on, off), (off, on)):
        with pytest.raises(BadInput, match="stabilisers.ada"):
            resume_policy.plan(Path("unused"), before, after)
