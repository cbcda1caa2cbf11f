"""Tiny runs of the translation recipes: each trains, samples triplets, translates;
CycleGAN resumes bit-identically (its history pool included)."""

import json

import numpy as np
import pytest
import torch
from conftest import TINY_TRAIN as TRAIN
from PIL import Image
from safetensors.torch import load_file

from gankit import api, config
from gankit.cli import main
from gankit.errors import BadInput
from gankit.translate import translate_files

DIGITS = {"options": {"base": "digits"}}
TRANSLATOR = {"g": "resnet-translator", "g_options": {"width": 4, "blocks": 1}}
PATCHGAN = {"d": "patchgan", "d_options": {"width": 4, "depth": 2}}
STARGAN = {
    "data": {"name": "item-domains"} | DIGITS,
    "nets": TRANSLATOR | {"d": "patchgan", "d_options": {"width": 4, "depth": 2, "norm": "none"}},
    "loss": {"name": "wgan-gp"},
    "train": {"n_critic": 2},
}
PIX2PIX = {
    "data": {"name": "edges2items"} | DIGITS,
    "nets": {"g": "unet", "g_options": {"width": 4}} | PATCHGAN,
}
RECIPES = {
    "pix2pix": PIX2PIX,
    "pix2pix-fm": PIX2PIX | {"recipe": "pix2pix", "recipe_options": {"feature_matching": 10.0}},
    "pix2pix-lazy": PIX2PIX | {"recipe": "pix2pix", "recipe_options": {"adversarial_every": 2}},
    "cyclegan": {
        "data": {"name": "items2inverted"} | DIGITS,
        "nets": TRANSLATOR | PATCHGAN,
        "loss": {"name": "lsgan"},
        "recipe_options": {"pool": 6},
    },
    "stargan": STARGAN,
    "stargan-nce": STARGAN | {"recipe": "stargan", "recipe_options": {"nce": 1.0}},
    "stargan-identity": STARGAN | {"recipe": "stargan", "recipe_options": {"identity": 1.0}},
    "stargan-structure": STARGAN | {"recipe": "stargan", "recipe_options": {"structure": 1.0}},
    "cogan": {
        "data": {"name": "items2inverted"} | DIGITS,
        "nets": {"z_dim": 8, "g_options": {"width": 4}, "d_options": {"width": 4}},
    },
}


EXTRA_TERMS = {  # variant -> the loss term it adds to the log
    "pix2pix-fm": "feature_matching",
    "stargan-nce": "nce",
    "stargan-identity": "identity",
    "stargan-structure": "structure",
}


def tiny(recipe: str, **train) -> config.Config:
    raw = {"recipe": recipe} | RECIPES[recipe]  # a variant names its recipe
    raw["train"] = TRAIN | raw.get("train", {}) | train
    return config.from_dict(raw)


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_tiny_run_writes_triplet_samples(recipe, tmp_path):
    result = api.train(tiny(recipe), tmp_path / "run")
    assert result["step"] == 4
    grid = np.asarray(Image.open(result["samples"]))
    panels = 2 if recipe == "cogan" else 3  # A | B pairs, or input | output | reconstruction
    cell = grid.shape[0] // 8  # 64 samples: 8 x 8 cells of (28 + 1) x (panels * 28 + 1) pixels
    assert cell == 29 and grid.shape[1] // 8 == panels * 28 + 1
    if recipe == "cogan":  # (A, B) pairs drawn from z
        assert api.sample(result["run"], 3)["images"].shape == (3, 1, 28, 2 * 28)
    else:  # translators map inputs: `gankit translate`, not `gankit sample`
        with pytest.raises(BadInput, match="gankit translate"):
            api.sample(result["run"], 3)
    if recipe in EXTRA_TERMS:  # the optional term is logged
        logged = (result["run"] / "metrics.jsonl").read_text().splitlines()
        assert any(EXTRA_TERMS[recipe] in json.loads(line) for line in logged)


def test_translate_writes_one_png_per_input(tmp_path):
    run = api.train(tiny("cyclegan", steps=2), tmp_path / "run")["run"]
    for i in range(3):
        Image.fromarray(np.full((40, 40), 40 * i, np.uint8)).save(tmp_path / f"in{i}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    assert (
        main(
            [
                "translate",
                str(run),
                "--input",
                str(tmp_path),
                "--out",
                str(tmp_path / "out"),
                "--to",
                "A",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["in0.png", "in1.png", "in2.png"]
    assert Image.open(tmp_path / "out" / "in1.png").size == (28, 28)
    with pytest.raises(BadInput, match="no such domain.*Domains: A, B"):
        translate_files(run, tmp_path / "in0.png", tmp_path / "o", "C")


EMA_NETS = {"pix2pix": ["g"], "cyclegan": ["g_ab", "g_ba"], "stargan": ["g"], "cogan": ["g"]}


@pytest.mark.parametrize("recipe", sorted(EMA_NETS))
def test_train_ema_keeps_averaged_generators_that_translation_uses(recipe, tmp_path):
    run = api.train(tiny(recipe, steps=2, ema=0.5), tmp_path / "run")["run"]
    r = api.load(run).recipe
    for name in EMA_NETS[recipe]:
        live, average = r.modules[name].state_dict(), r.modules[f"{name}_ema"].state_dict()
        assert any(not torch.equal(live[k], average[k]) for k in live)  # averaged, not copied
        assert r.generator_net(name) is r.modules[f"{name}_ema"]
        assert r.generator_net(name, ema=False) is r.modules[name]
    if recipe == "pix2pix":  # `gankit translate` maps with the average
        x = torch.rand(2, 1, 28, 28) * 2 - 1
        assert torch.equal(r.translate(x), r.modules["g_ema"].eval()(x))


def test_pix2pix_refuses_unpaired_data(tmp_path):
    raw = {"recipe": "pix2pix"} | RECIPES["cyclegan"] | {"recipe_options": {}}
    with pytest.raises(BadInput, match="paired dataset.*use recipe cyclegan"):
        api.train(config.from_dict(raw | {"train": TRAIN}), tmp_path / "run")


def test_stargan_refuses_patch_nce_without_an_encoder(tmp_path):
    unet = RECIPES["stargan-nce"] | {"nets": {"g": "unet", "g_options": {"width": 4}} | PATCHGAN}
    with pytest.raises(BadInput, match="set nets.g to resnet-translator"):
        api.train(config.from_dict(unet | {"train": TRAIN}), tmp_path / "unet")


def test_pix2pix_feature_matching_asks_for_a_patchgan(tmp_path):
    dcgan_d = PIX2PIX["nets"] | {"d": "dcgan", "d_options": {"width": 4}}
    raw = RECIPES["pix2pix-fm"] | {"nets": dcgan_d, "train": TRAIN}
    with pytest.raises(BadInput, match="set nets.d to patchgan, or feature_matching to 0"):
        api.train(config.from_dict(raw), tmp_path / "run")


def test_lazy_gan_term_logs_d_on_every_logged_step(tmp_path):
    run = api.train(tiny("pix2pix-lazy"), tmp_path / "run")["run"]  # GAN steps 1, 3; logs 2, 4
    logged = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    trained = [line for line in logged if "l1" in line]
    assert len(trained) == 2 and all("d_loss" in line for line in trained)
    never = RECIPES["pix2pix"] | {"recipe_options": {"adversarial_every": 0}, "train": TRAIN}
    with pytest.raises(BadInput, match="adversarial_every must be >= 1"):
        api.train(config.from_dict({"recipe": "pix2pix"} | never), tmp_path / "bad")


def test_pix2pix_asks_for_an_image_to_image_generator(tmp_path):
    raw = {"recipe": "pix2pix", "data": RECIPES["pix2pix"]["data"], "train": TRAIN}
    with pytest.raises(BadInput, match="image -> image generator"):
        api.train(config.from_dict(raw), tmp_path / "run")


@pytest.mark.parametrize(
    "recipe,state", [("cyclegan", "module.pool_a.count"), ("pix2pix-lazy", "module.clock.steps")]
)
def test_resume_is_bit_identical_recipe_state_included(recipe, state, tmp_path):
    whole = api.train(tiny(recipe, steps=6, checkpoint_every=3), tmp_path / "whole")["run"]
    half = api.train(tiny(recipe, steps=3, checkpoint_every=3), tmp_path / "half")["run"]
    api.resume(half, ["train.steps=6"])
    a, b = (
        load_file(r / "checkpoints" / "step-00000006" / "weights.safetensors")
        for r in (whole, half)
    )
    # cyclegan: the pool is full and has started swapping; pix2pix: the lazy GAN term's clock
    assert int(a[state]) == 6
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_translate_on_a_sampling_run_names_its_recipe_and_the_runs_that_translate(tmp_path):
    from conftest import tiny_digits

    run = api.train(config.from_dict(tiny_digits(steps=2)), tmp_path / "run")["run"]
    with pytest.raises(BadInput, match="trained with recipe unconditional, which does not") as e:
        translate_files(run, tmp_path, tmp_path / "o")
    assert "pix2pix, cyclegan, stargan or colourise" in str(e.value)
    assert "a unconditional" not in str(e.value)
