"""Latent tools: lerp/slerp, interpolation grids, latent arithmetic with class-mean
latents, GAN inversion, and `gankit latent` end to end, on one tiny trained digits run."""

import json

import pytest
import torch
from conftest import tiny_digits, tiny_ring
from PIL import Image

from gankit import api, config, data
from gankit.cli import main
from gankit.config import DataConfig
from gankit.errors import BadInput
from gankit.metrics import evaluator
from gankit.viz import grid, latent

SIDE = 16  # digits at 16 px: the smallest side dcgan builds that still looks like digits
DIGITS = DataConfig(name="digits", size=SIDE)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A dcgan trained 40 steps on digits, and a tiny digits evaluator in the tests' cache."""
    with pytest.MonkeyPatch.context() as mp:
        # the cache conftest's autouse fixture points every test at
        mp.setenv("GANKIT_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
        evaluator.train(DIGITS, epochs=2, progress=False)
        raw = tiny_digits(steps=40)
        raw["data"]["size"] = SIDE
        return api.train(config.from_dict(raw), tmp_path_factory.mktemp("latent") / "run")["run"]


@pytest.fixture
def run(run_dir):
    return api.load(run_dir)


def real_digits(n: int) -> torch.Tensor:
    test = data.build(DIGITS, "test")
    return test.to_model_range(test.x[:n])


# -- interpolation ---------------------------------------------------------------------------
def test_lerp_and_slerp_start_and_end_at_the_endpoints():
    a, b = torch.randn(2, 5, generator=torch.Generator().manual_seed(0))
    for path in (latent.lerp, latent.slerp):
        assert torch.allclose(path(a, b, torch.tensor(0.0)), a, atol=1e-5)
        assert torch.allclose(path(a, b, torch.tensor(1.0)), b, atol=1e-5)


def test_slerp_keeps_the_norm_of_equal_norm_endpoints_and_lerp_does_not():
    a, b = torch.randn(2, 64, generator=torch.Generator().manual_seed(1))
    b = b * a.norm() / b.norm()
    t = torch.linspace(0, 1, 11)[:, None]
    assert torch.allclose(latent.slerp(a, b, t).norm(dim=1), a.norm().expand(11), rtol=1e-4)
    assert latent.lerp(a, b, t)[5].norm() < 0.9 * a.norm()  # the chord cuts inside the sphere


def test_halfway_is_between_the_endpoints():
    a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    half = torch.tensor(0.5)
    assert torch.allclose(latent.lerp(a, b, half), torch.tensor([0.5, 0.5]))
    # on the arc: the same angle to both ends, at the ends' norm
    assert torch.allclose(latent.slerp(a, b, half), torch.tensor([0.5, 0.5]) * 2**0.5)
    x, y = torch.randn(2, 8, generator=torch.Generator().manual_seed(2))
    y = y * x.norm() / y.norm()
    mid = latent.slerp(x, y, half)
    cos = torch.nn.functional.cosine_similarity
    assert cos(mid, x, dim=0) == pytest.approx(float(cos(mid, y, dim=0)), abs=1e-5)


@pytest.mark.parametrize("mode", ["linear", "slerp"])
def test_interpolation_grid_has_rows_by_steps_images(run, tmp_path, mode):
    path = latent.interpolation_grid(run, tmp_path, mode, rows=3, steps=5)
    assert path == tmp_path / f"interpolate-{mode}.png"
    tile = SIDE * grid.scale_for(SIDE)  # upscaled to at least MIN_TILE pixels
    assert tile >= grid.MIN_TILE
    with Image.open(path) as page:  # a title line above 3 rows of 5 tiles
        assert page.size == (5 * tile + 6 * grid.GAP, grid.LINE + 5 * grid.GAP + 3 * tile)
    with pytest.raises(BadInput, match="use linear or slerp"):
        latent.interpolation_grid(run, tmp_path, "cubic")


def test_tools_refuse_runs_whose_g_needs_more_than_a_latent(tmp_path):
    raw = tiny_digits(steps=2) | {"recipe": "cgan"}
    cgan = api.load(api.train(config.from_dict(raw), tmp_path / "cgan")["run"])
    with pytest.raises(BadInput, match="interpolation needs an image run.*cgan on image"):
        latent.interpolation_grid(cgan, tmp_path)
    with pytest.raises(BadInput, match="inversion needs a run"):
        latent.invert(cgan, real_digits(2))


# -- arithmetic ------------------------------------------------------------------------------
class BrightnessEvaluator:
    """A stand-in evaluator: class 1 for images brighter than `threshold`, else class 0."""

    meta = {"num_classes": 2}

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def embed(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        bright = images.float().flatten(1).mean(1) > self.threshold
        return images.float().flatten(1), torch.nn.functional.one_hot(bright.long(), 2).float()


@pytest.fixture
def median_split(run, monkeypatch) -> BrightnessEvaluator:
    """The stand-in, split at the median brightness of G's samples: both classes are common."""
    images = api.to_uint8(run.recipe.generate(latent.latents(run, 2000, 0)))
    fake = BrightnessEvaluator(float(images.float().flatten(1).mean(1).median()))
    monkeypatch.setattr(evaluator, "load", lambda *args, **kwargs: fake)
    return fake


def test_class_means_are_the_mean_latents_of_each_class(run, median_split):
    means, counts = latent.class_mean_latents(run, median_split, n=2000, seed=0)
    z = latent.latents(run, 2000, 0)
    predicted = median_split.embed(api.to_uint8(run.recipe.generate(z)))[1].argmax(1)
    assert counts.tolist() == torch.bincount(predicted, minlength=2).tolist()
    assert min(counts) > 500  # the median split: two real classes
    for c in (0, 1):
        assert torch.allclose(means[c], z[predicted == c].mean(0))


def test_arithmetic_a_minus_b_plus_b_draws_a(run, median_split, tmp_path):
    result = latent.arithmetic(run, tmp_path, 1, 0, 0)
    assert result["expression"] == "1 - 0 + 0" and sum(result["class_counts"]) == 2000
    assert len(result["predicted"]) == 4
    assert result["predicted"][3] == result["predicted"][0]  # mean_1 - mean_0 + mean_0 = mean_1
    tile = SIDE * grid.scale_for(SIDE)
    with Image.open(result["grid"]) as page:  # a title, 4 tiles, two label lines under each
        assert page.size == (4 * tile + 5 * grid.GAP, 3 * grid.LINE + 3 * grid.GAP + tile)
    with pytest.raises(BadInput, match="class 5 is out of range.*0..1"):
        latent.arithmetic(run, tmp_path, 5, 0, 0)


def test_arithmetic_refuses_a_class_g_never_draws(run, monkeypatch, tmp_path):
    all_dark = BrightnessEvaluator(threshold=256.0)  # no uint8 image is brighter
    monkeypatch.setattr(evaluator, "load", lambda *args, **kwargs: all_dark)
    with pytest.raises(BadInput, match=r"class 1: no generated sample.*\[2000, 0\]"):
        latent.arithmetic(run, tmp_path, 1, 0, 0)


# -- inversion -------------------------------------------------------------------------------
def test_inversion_error_falls_with_steps_and_leaves_g_alone(run):
    weights = {k: v.clone() for k, v in run.recipe.modules["g"].state_dict().items()}
    x = real_digits(16)
    (z0, start), (_, some), (_, more) = (latent.invert(run, x, steps=s) for s in (0, 20, 60))
    assert torch.equal(z0, latent.latents(run, 16, 0))  # the seeded start
    assert more.mean() < some.mean() < start.mean() and bool((more < start).all())
    g = run.recipe.modules["g"]
    assert all(torch.equal(v, weights[k]) for k, v in g.state_dict().items())
    assert all(p.grad is None for p in g.parameters()) and g.training


def test_g_inverts_its_own_images_far_better_than_real_ones(run):
    own = run.recipe.generate(latent.latents(run, 16, 123))  # made by G from known latents
    _, err_own = latent.invert(run, own, steps=100)
    _, err_real = latent.invert(run, real_digits(16), steps=100)
    assert err_own.mean() < 0.05 * err_real.mean()


def test_inversion_report_on_toy_points_has_no_grid(tmp_path):
    ring = api.load(api.train(config.from_dict(tiny_ring(steps=20)), tmp_path / "ring")["run"])
    report = latent.inversion_report(ring, tmp_path, n=32, steps=20)
    assert report["n"] == 32 and "grid" not in report
    assert 0 <= report["mse_own_samples"] < report["mse_held_out"]


# -- the command -----------------------------------------------------------------------------
def test_latent_command_writes_every_grid_and_its_json(run_dir, run, tmp_path, capsys):
    """End to end with the tiny trained evaluator: classes are those it sees in G's samples."""
    counts = latent.class_mean_latents(run, evaluator.load(DIGITS, 1))[1]
    a, b = counts.topk(2).indices.tolist()
    b = b if counts[b] else a  # a young G may draw a single class
    out = tmp_path / "latent"
    args = ["latent", str(run_dir), "--out", str(out), "--interpolate", "slerp"]
    args += ["--arithmetic", str(a), str(b), str(b), "--invert", "8", "--steps", "30"]
    assert main(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert json.loads((out / "latent.json").read_text()) == printed
    assert printed["interpolation"] == {"mode": "slerp", "grid": str(out / "interpolate-slerp.png")}
    assert printed["arithmetic"]["class_counts"] == counts.tolist()
    assert printed["arithmetic"]["grid"] == str(out / f"arithmetic-{a}-{b}+{b}.png")
    inversion = printed["inversion"]
    assert inversion["n"] == 8 and inversion["steps"] == 30
    assert inversion["mse_own_samples"] < inversion["mse_held_out"]
    for name in ("interpolate-slerp.png", f"arithmetic-{a}-{b}+{b}.png", "invert.png"):
        assert (out / name).stat().st_size > 0, name


def test_latent_command_defaults_to_the_run_folder_and_rejects_bad_asks(run_dir, capsys):
    assert main(["latent", str(run_dir), "--interpolate", "linear"]) == 0
    assert (run_dir / "latent" / "interpolate-linear.png").is_file()
    assert (run_dir / "latent" / "latent.json").is_file()
    capsys.readouterr()
    assert main(["latent", str(run_dir)]) == 2
    assert "give --interpolate, --arithmetic or --invert" in capsys.readouterr().err
    assert main(["latent", str(run_dir), "--invert", "0"]) == 2
    assert "invert at least one item" in capsys.readouterr().err
