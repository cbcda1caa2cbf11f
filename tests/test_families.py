"""LAPGAN, SRGAN and colourisation: the pyramid is exact, the sub-pixel shapes, the content-term
registry (VGG weights read from a file), hints act where they are placed, tiny runs of each
resume bit-identically, and bad inputs exit 2 with one line."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import TINY_TRAIN as TRAIN
from PIL import Image
from safetensors.torch import load_file
from torch import nn

from gankit import api, config, content, laplacian, nets
from gankit.cli import main
from gankit.config import DataConfig
from gankit.data.photos import grey
from gankit.errors import BadInput
from gankit.metrics.colour import colourfulness, lab_l1
from gankit.metrics.evaluator import Classifier

DIGITS = {"name": "digits", "size": 28}
RECIPES = {
    "lapgan": {
        "data": DIGITS,
        "nets": {"g": "lapgan", "d": "lapgan", "z_dim": 12}
        | {"g_options": {"width": 8}, "d_options": {"width": 8}},
    },
    "srgan": {
        "data": DIGITS,
        "nets": {"g": "srresnet", "d": "srresnet"}
        | {"g_options": {"width": 8, "blocks": 1}, "d_options": {"width": 4}},
    },
    "colourise": {
        "recipe_options": {"hints": 5},
        "data": {"name": "colourise", "size": 16, "options": {"source": "sample-photos"}},
        "nets": {"g": "unet", "d": "patchgan"}
        | {"g_options": {"width": 8}, "d_options": {"width": 4, "depth": 2}},
    },
}


def tiny(recipe: str, raw: dict | None = None, **train) -> config.Config:
    return config.from_dict(
        {"recipe": recipe} | RECIPES[recipe] | (raw or {}) | {"train": TRAIN | train}
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """One tiny trained run of each recipe, shared by the tests that only read them."""
    root = tmp_path_factory.mktemp("families")
    return {name: api.train(tiny(name), root / name)["run"] for name in RECIPES}


def fails_with_one_line(argv: list[str], capsys, *words: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and all(w in err for w in words), err


# -- LAPGAN -------------------------------------------------------------------------------------
def test_pyramid_collapses_back_to_the_image_exactly():
    x = torch.rand(3, 2, 28, 28, dtype=torch.float64) * 2 - 1
    bands = laplacian.pyramid(x, 3)
    assert [b.shape[-1] for b in bands] == [28, 14, 7]
    assert torch.equal(bands[-1], F.avg_pool2d(F.avg_pool2d(x, 2), 2))  # the coarsest image
    assert torch.allclose(laplacian.collapse(bands), x, atol=1e-12, rtol=0)
    # each residual is what the upsampled coarser image misses, nothing more
    assert torch.allclose(bands[0] + laplacian.up(F.avg_pool2d(x, 2)), x, atol=1e-12, rtol=0)


def test_pyramid_generator_adds_each_level_to_the_one_below():
    g = nets.build("lapgan", "g", (1, 28, 28), 12, width=4)
    z = torch.randn(2, 12)
    coarse, middle, fine = g.levels_of(z)
    chunks = g.latents(z)
    assert [x.shape[-1] for x in (coarse, middle, fine)] == [7, 14, 28]
    u = laplacian.up(middle)
    assert torch.allclose(fine, u + g.residual(0, chunks[0], u))
    assert torch.equal(g(z), fine.clamp(-1, 1))


def test_lapgan_samples_and_report_show_every_level(runs, tmp_path):
    arrays = api.sample(runs["lapgan"], 5, seed=1)
    assert arrays["level_7px"].shape == (5, 1, 7, 7) and arrays["level_14px"].shape == (
        5,
        1,
        14,
        14,
    )
    assert arrays["images"].shape == (5, 1, 28, 28)
    assert (runs["lapgan"] / "samples" / "levels-step-00000004.png").is_file()
    assert "Pyramid levels" in (runs["lapgan"] / "report.html").read_text()


def test_lapgan_refuses_a_side_the_pyramid_cannot_halve(tmp_path):
    raw = {"nets": RECIPES["lapgan"]["nets"] | {"g_options": {"levels": 4}}}
    with pytest.raises(BadInput, match="divisible by 8"):
        api.train(tiny("lapgan", raw), tmp_path / "run")


# -- SRGAN --------------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [2, 4])
def test_subpixel_generator_multiplies_any_side_by_the_scale(scale):
    g = nets.build("srresnet", "g", (3, 32, 32), 0, scale=scale, width=8, blocks=1)
    assert g(torch.randn(2, 3, 32 // scale, 32 // scale)).shape == (2, 3, 32, 32)
    assert g(torch.randn(1, 3, 5, 9)).shape == (1, 3, 5 * scale, 9 * scale)  # fully convolutional
    stage = g.up[0]
    assert stage(torch.randn(1, 8, 5, 6)).shape == (1, 8, 10, 12)  # 4x channels -> 2x side
    d = nets.build("srresnet", "d", (3, 32, 32), 0, width=4)
    assert d(torch.randn(2, 3, 32, 32)).shape == (2, 1)


def test_untrained_residual_generator_is_bicubic_and_the_paper_one_is_not():
    from gankit.recipes.srgan import bicubic

    x = torch.rand(2, 3, 8, 8) * 2 - 1
    g = nets.build("srresnet", "g", (3, 32, 32), 0, scale=4, width=8, blocks=1)
    assert torch.equal(g(x), bicubic(x, 4))  # skip: bicubic, the default
    paper = nets.build("srresnet", "g", (3, 32, 32), 0, scale=4, width=8, blocks=1, skip="none")
    assert not torch.allclose(paper(x), bicubic(x, 4), atol=0.1)
    assert paper(x).abs().max() < 1  # tanh out
    with pytest.raises(BadInput, match='skip "nearest": use bicubic'):
        nets.build("srresnet", "g", (3, 32, 32), 0, skip="nearest")


def test_residual_blocks_have_batch_norm_only_when_asked():
    def norms(**options) -> int:
        g = nets.build("srresnet", "g", (3, 32, 32), 0, width=8, blocks=2, **options)
        return sum(isinstance(m, torch.nn.BatchNorm2d) for m in g.modules())

    assert norms() == 0  # EDSR's blocks
    assert norms(norm="batch") == 2 * 2 + 1  # the paper's: two a block, one after the blocks
    with pytest.raises(BadInput, match='norm "layer": use batch'):
        nets.build("srresnet", "g", (3, 32, 32), 0, norm="layer")


def test_pixel_terms_are_torch_l1_and_mse():
    a, b = torch.randn(2, 3, 8, 8), torch.randn(2, 3, 8, 8)
    data = DataConfig()
    assert torch.equal(content.build("pixel-l1", data, 3, {})(a, b), F.l1_loss(a, b))
    assert torch.equal(content.build("pixel-l2", data, 3, {})(a, b), F.mse_loss(a, b))
    with pytest.raises(BadInput, match="Known: evaluator, pixel-l1, pixel-l2, vgg"):
        content.build("pixel-l3", data, 3, {})
    with pytest.raises(BadInput, match='no option "weight"'):
        content.build("pixel-l1", data, 3, {"weight": 1})


def test_evaluator_term_compares_the_classifier_conv_maps():
    net = Classifier(1, 10).eval()
    term = content.Features(content.conv_maps(net))
    a, b = torch.randn(2, 1, 28, 28, requires_grad=True), torch.randn(2, 1, 28, 28)
    maps = lambda x: net.body[:-6](x)  # noqa: E731  up to the pooling: 128 maps at 7x7
    assert maps(b).shape == (2, 128, 7, 7)
    loss = term(a, b)
    assert torch.allclose(loss, F.mse_loss(maps(a), maps(b)))
    loss.backward()
    assert a.grad.abs().sum() > 0 and all(p.grad is None for p in net.parameters())


class SmallVGG(nn.Module):
    """A network with torchvision's VGG layout (`features.N`), small enough to save in a test."""

    PLAN = [4, "M", 8, 8, "M"]

    def __init__(self) -> None:
        super().__init__()
        from torchvision.models.vgg import make_layers

        self.features = make_layers(self.PLAN)
        self.classifier = nn.Linear(8, 2)  # like vgg19's head: present in the file, not used


def test_vgg_features_load_from_a_saved_state_dict(tmp_path):
    saved = SmallVGG().eval()
    path = tmp_path / "vgg.pth"
    torch.save(saved.state_dict(), path)
    loaded = content.load_vgg_features(path, SmallVGG.PLAN)
    x = torch.randn(2, 3, 16, 16)
    assert torch.equal(loaded(x), saved.features(x))
    term = content.Features(loaded, content.imagenet_input)
    grey_in = torch.rand(2, 1, 16, 16) * 2 - 1  # grey images are shown to VGG as three channels
    expected = F.mse_loss(*(saved.features(content.imagenet_input(v)) for v in (grey_in, -grey_in)))
    assert torch.allclose(term(grey_in, -grey_in), expected)


def test_vgg_term_names_each_bad_weights_file(tmp_path):
    data = DataConfig()
    with pytest.raises(BadInput, match="needs content_options.weights"):
        content.build("vgg", data, 3, {"weights": str(tmp_path / "missing.pth")})
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(BadInput, match="not a readable torch state dict"):
        content.build("vgg", data, 3, {"weights": str(junk)})
    other = tmp_path / "other.pth"
    torch.save(SmallVGG().state_dict(), other)  # VGG layout, but not vgg19's layers
    with pytest.raises(BadInput, match="does not hold vgg19 features"):
        content.build("vgg", data, 3, {"weights": str(other)})
    with pytest.raises(BadInput, match="use one of vgg22, vgg54"):
        content.build("vgg", data, 3, {"weights": str(other), "layer": "vgg99"})


class Exploit:
    """Unpickling this runs code: the loader must refuse it before that happens."""

    def __init__(self, marker) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_vgg_weights_are_never_unpickled(tmp_path):
    marker, path = tmp_path / "ran", tmp_path / "vgg.pth"
    torch.save({"features.0.weight": Exploit(marker)}, path)
    with pytest.raises(BadInput, match="not a readable torch state dict"):
        content.load_vgg_features(path)
    assert not marker.exists()


def test_srresnet_baseline_never_moves_d(tmp_path):
    raw = {"recipe_options": {"adversarial": False}}
    run = api.train(tiny("srgan", raw), tmp_path / "run")["run"]
    first = load_file(run / "checkpoints" / "step-00000002" / "weights.safetensors")
    last = load_file(run / "checkpoints" / "step-00000004" / "weights.safetensors")
    d_keys = [k for k in first if k.startswith("module.d.") and "running" not in k]
    g_keys = [k for k in first if k.startswith("module.g.") and "weight" in k]
    assert d_keys and all(torch.equal(first[k], last[k]) for k in d_keys)
    assert any(not torch.equal(first[k], last[k]) for k in g_keys)


def test_tiled_upscale_matches_the_whole_image(runs):
    recipe = api.load(runs["srgan"]).recipe
    x = torch.rand(1, 1, 21, 30) * 2 - 1
    whole, tiled = recipe.upscale(x, tile=1000), recipe.upscale(x, tile=8)
    assert whole.shape == (1, 1, 84, 120)
    assert torch.allclose(whole, tiled, atol=1e-5)


def test_upscale_command_writes_images_and_npz(runs, tmp_path, capsys):
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (9, 13), np.uint8)).save(
        tmp_path / "small.png"
    )
    np.savez(tmp_path / "x.npz", images=np.zeros((3, 1, 7, 7), np.uint8))
    assert main(["upscale", str(runs["srgan"]), "--input", str(tmp_path / "small.png"),
                 "--out", str(tmp_path / "up")]) == 0  # fmt: skip
    assert Image.open(tmp_path / "up" / "small.png").size == (52, 36)
    assert main(["upscale", str(runs["srgan"]), "--input", str(tmp_path / "x.npz"),
                 "--out", str(tmp_path / "up")]) == 0  # fmt: skip
    assert np.load(tmp_path / "up" / "upscaled.npz")["images"].shape == (3, 1, 28, 28)


def test_images_smaller_than_the_scale_factor_exit_2(runs, tmp_path, capsys, write_config):
    Image.fromarray(np.zeros((3, 3), np.uint8)).save(tmp_path / "tiny.png")
    argv = ["upscale", str(runs["srgan"]), "--input", str(tmp_path / "tiny.png"), "--out", "x"]
    fails_with_one_line(argv, capsys, "tiny.png is 3x3 pixels", "scale factor 4")
    raw = {"recipe": "srgan"} | RECIPES["srgan"] | {"data": {"name": "digits", "size": 2}}
    path = write_config(raw | {"train": TRAIN})
    argv = ["train", str(path), "--out", str(tmp_path / "run")]
    fails_with_one_line(argv, capsys, "smaller than the scale factor 4")


# -- colourisation ------------------------------------------------------------------------------
def test_colourfulness_is_the_paper_formula():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (2, 3, 6, 5)).astype(np.float64)
    for i, (r, g, b) in enumerate(image):
        rg, yb = r - g, 0.5 * (r + g) - b
        expected = np.sqrt(rg.std() ** 2 + yb.std() ** 2) + 0.3 * np.sqrt(
            rg.mean() ** 2 + yb.mean() ** 2
        )
        assert colourfulness(torch.from_numpy(image))[i].item() == pytest.approx(expected)
    assert float(colourfulness(grey(torch.from_numpy(image).to(torch.uint8))).abs().max()) == 0


def test_lab_l1_of_black_against_white_is_a_third_of_100():
    black, white = torch.zeros(1, 3, 4, 4, dtype=torch.uint8), torch.full((1, 3, 4, 4), 255)
    # L: 0 against 100; a and b of sRGB white under D65 are zero up to ~0.005
    assert lab_l1(black, white.to(torch.uint8)) == pytest.approx(100 / 3, abs=0.01)
    assert lab_l1(black, black) == 0


def colour_folder(path, n: int = 6, colour: bool = True):
    path.mkdir()
    rng = np.random.default_rng(1)
    for i in range(n):
        pixels = rng.integers(0, 256, (20, 20, 3 if colour else 1), np.uint8)
        Image.fromarray(pixels if colour else pixels[:, :, 0]).save(path / f"{i}.png")
    return path


def test_colourise_data_pairs_luma_with_the_colour_image(tmp_path):
    from gankit import data

    cfg = DataConfig("colourise", 16, None, str(colour_folder(tmp_path / "c")))
    ds = data.build(cfg)
    assert ds.x.shape == (6, 6, 16, 16)
    a, b = ds.x[:, :3], ds.x[:, 3:]
    assert torch.equal(a[:, 0], a[:, 1]) and torch.equal(a[:, 0], a[:, 2])
    luma = (b.double() * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1).round()
    assert torch.equal(a[:, 0].double(), luma)
    grey_cfg = DataConfig("colourise", 16, None, str(colour_folder(tmp_path / "g", colour=False)))
    with pytest.raises(BadInput, match="grey already"):
        data.build(grey_cfg)
    photos = DataConfig("colourise", 32, None, None, options={"source": "sample-photos"})
    train, test = data.build(photos, "train"), data.build(photos, "test")
    assert len(train) > 4 * len(test) > 0  # 80% / 20% of each photo's width


def test_hints_change_the_output_where_they_are_placed(runs):
    recipe = api.load(runs["colourise"]).recipe
    x = grey(torch.full((1, 3, 16, 16), 128, dtype=torch.uint8)).float() / 127.5 - 1
    plain = recipe.translate(x)
    hinted = recipe.translate(x, hints=[(3, 12, (255, 0, 0))])
    change = (hinted - plain).abs().sum(1)[0]  # (16, 16)
    near = change[10:15, 1:6].mean()
    far = change[0:5, 10:15].mean()  # the opposite corner
    assert change.max() > 0 and near > 3 * far


def test_translate_refuses_colour_inputs_and_hints_off_the_image(runs, tmp_path, capsys):
    run = str(runs["colourise"])
    Image.fromarray(np.zeros((20, 30), np.uint8)).save(tmp_path / "grey.png")
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (20, 30, 3), np.uint8)).save(
        tmp_path / "colour.png"
    )
    out = str(tmp_path / "out")
    argv = ["translate", run, "--input", str(tmp_path / "grey.png"), "--out", out]
    assert main([*argv, "--hints", "5,5,#ff0000", "--hints", "20,15,#0000ff"]) == 0
    assert Image.open(tmp_path / "out" / "grey.png").size == (16, 16)
    fails_with_one_line([*argv, "--hints", "30,5,#ff0000"], capsys, "outside grey.png", "30x20")
    fails_with_one_line([*argv, "--hints", "27,5,#ff0000"], capsys, "centre crop cuts off")
    fails_with_one_line([*argv, "--hints", "5,5"], capsys, "X,Y,#RRGGBB")
    argv[3] = str(tmp_path / "colour.png")
    fails_with_one_line(argv, capsys, "colour.png is in colour already")


def test_hints_need_a_run_trained_with_them(tmp_path, capsys):
    run = api.train(tiny("colourise", {"recipe_options": {"hints": 0}}, steps=2), tmp_path / "r")
    capsys.readouterr()  # the training's own lines; the one line asked of translate follows
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(tmp_path / "grey.png")
    argv = ["translate", str(run["run"]), "--input", str(tmp_path / "grey.png"), "--out", "o"]
    fails_with_one_line([*argv, "--hints", "1,1,#ffffff"], capsys, "trained without hints")


# -- every new recipe ---------------------------------------------------------------------------
@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_resume_is_bit_identical(recipe, tmp_path):
    whole = api.train(tiny(recipe, steps=6, checkpoint_every=3), tmp_path / "whole")["run"]
    half = api.train(tiny(recipe, steps=3, checkpoint_every=3), tmp_path / "half")["run"]
    api.resume(half, ["train.steps=6"])
    a, b = (
        load_file(r / "checkpoints" / "step-00000006" / "weights.safetensors")
        for r in (whole, half)
    )
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
