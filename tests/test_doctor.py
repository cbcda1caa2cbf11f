"""The training doctor: its rules, that it fires on runs built to fail, stays quiet on a
healthy one, and leaves training untouched."""

import json

import torch
from conftest import tiny_ring

from gankit import api, config
from gankit.diagnostics import doctor as dr
from gankit.diagnostics.gradnorm import generator_gradient_norm
from gankit.nets import build


class Stub:
    """What the rules read of a Doctor: the config and the game."""

    def __init__(self, loss: str = "non-saturating", steps: int = 1000) -> None:
        raw = tiny_ring(steps)
        raw["loss"] = {"name": loss}
        self.cfg = config.from_dict(raw)
        from gankit.losses import LOSSES

        self.game = LOSSES.get(loss)()


def history(**series):
    n = len(next(iter(series.values())))
    return [{"step": 100 * (i + 1)} | {k: v[i] for k, v in series.items()} for i in range(n)]


def test_collapse_needs_a_fall_not_just_low_diversity():
    rising = history(diversity=[0.05, 0.1, 0.2, 0.3, 0.35])  # a fresh G spreading out
    assert dr.mode_collapse(rising, 500, Stub()) is None
    fallen = history(diversity=[0.2, 0.9, 0.3, 0.2, 0.1])
    event = dr.mode_collapse(fallen, 500, Stub())
    assert event and event.check == "mode-collapse" and event.fixes
    point = history(diversity=[0.0, 0.001, 0.0, 0.0])  # collapsed from the start (too high lr)
    assert dr.mode_collapse(point, 400, Stub()).check == "mode-collapse"


def test_discriminator_wins_for_minimax_and_for_vanished_gradients():
    low = history(d_fake=[0.3, 0.01, 0.01], g_grad_norm=[1.0, 0.5, 0.5])
    assert dr.discriminator_wins(low, 300, Stub("minimax")).check == "discriminator-wins"
    assert dr.discriminator_wins(low, 300, Stub()) is None  # -log D: the gradient is still there
    vanished = history(d_fake=[0.3, 0.01, 0.01], g_grad_norm=[1.0, 0.5, 0.01])
    assert dr.discriminator_wins(vanished, 300, Stub()) is not None
    assert dr.discriminator_wins(low, 300, Stub("wgan-gp")) is None  # not a probability


def test_oscillation_and_nonfinite():
    calm = history(d_loss=[1.3, 1.35, 1.28, 1.33, 1.3, 1.36, 1.29, 1.31])
    assert dr.oscillation(calm, 800, Stub()) is None
    wild = history(d_loss=[0.1, 2.5, 0.2, 3.0, 0.1, 2.8, 0.3, 2.9])
    assert dr.oscillation(wild, 800, Stub()).check == "oscillation"
    assert dr.nonfinite(history(d_loss=[float("nan")]), 100, Stub()).check == "nonfinite"
    assert dr.nonfinite(history(d_loss=[1.0]), 100, Stub()) is None


def test_gradient_norm_leaves_no_trace():
    torch.manual_seed(0)
    g = build("dcgan", "g", (1, 28, 28), 8, width=8)
    d = build("dcgan", "d", (1, 28, 28), 8, width=8)
    before = [b.clone() for b in (*g.buffers(), *d.buffers())]
    z = torch.randn(4, 8, generator=torch.Generator().manual_seed(0))
    norm = generator_gradient_norm(g, d, lambda f: -f.mean(), z)
    assert norm > 0
    assert all(p.grad is None for p in (*g.parameters(), *d.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(before, (*g.buffers(), *d.buffers())))
    assert all(p.requires_grad for p in d.parameters())


def events(run):
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [e for r in map(json.loads, lines) for e in r.get("doctor", [])]


def test_fires_when_the_minimax_d_wins(tmp_path, capsys):
    raw = tiny_ring(steps=120)
    raw["loss"] = {"name": "minimax"}
    raw["optim"] = {"lr_g": 1e-4, "lr_d": 5e-3}
    raw["train"].update(n_critic=5, log_every=20)
    run = api.train(config.from_dict(raw), tmp_path / "run")["run"]
    found = events(run)
    assert "discriminator-wins" in {e["check"] for e in found}
    assert "the discriminator wins" in capsys.readouterr().err
    assert "doctor events" in (run / "report.html").read_text().lower()


def test_quiet_on_the_shipped_ring_config_run_briefly(tmp_path):
    path = config.load("configs/ring.yaml")
    sets = ["train.steps=200", "train.log_every=40", "train.progress=false"]
    run = api.train(path, tmp_path / "run", sets)["run"]
    assert events(run) == []
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    record = [r for r in records if "protocol" not in r][-1]  # the last training record
    assert record["g_grad_norm"] > 0 and 0 < record["diversity"] < 3


def test_doctor_does_not_change_training(tmp_path, monkeypatch):
    raw = tiny_ring(steps=100)
    raw["train"]["log_every"] = 10
    with_doctor = api.train(config.from_dict(raw), tmp_path / "a")["run"]
    monkeypatch.setattr(dr.Doctor, "observe", lambda self, step, record, recipe: {})
    without = api.train(config.from_dict(raw), tmp_path / "b")["run"]
    a, b = (api.sample(r, 200, seed=3)["points"] for r in (with_doctor, without))
    assert (a == b).all()


def stackgan_doctor(tmp_path):
    """A tiny StackGAN on captioned digits and a Doctor watching it."""
    from test_text_stackgan import tiny_stackgan

    from gankit import data
    from gankit.train.trainer import build_recipe

    cfg = config.from_dict(tiny_stackgan(steps=1000))  # before the plain collapse check
    ds = data.build(cfg.data)
    return build_recipe(cfg, ds.spec, torch.device("cpu")), dr.Doctor(cfg, ds)


def test_a_stackgan_whose_captions_map_to_one_image_is_flagged(tmp_path):
    recipe, doc = stackgan_doctor(tmp_path)
    with torch.no_grad():  # a fresh G's pictures barely differ; these vary with z and caption
        for name in ("g1", "g1_ema"):
            recipe.modules[name].body.net[0].weight.mul_(30)
        for name in ("g2", "g2_ema"):
            recipe.modules[name].up[-2].weight.mul_(30)
    found = [doc.observe(step, {"step": step}, recipe) for step in (2, 4, 6)]
    assert all(r["condition_spread"] > 0.5 for r in found)  # captions matter: quiet
    assert not any("doctor" in r for r in found)
    text = recipe.modules["text"]
    # Every caption to the same code: G can only draw one picture per latent, whatever the text.
    text.forward = lambda captions: torch.zeros(len(captions), text.dim)
    found = [doc.observe(step, {"step": step}, recipe) for step in (8, 10, 12)]
    assert all(r["condition_spread"] < 1e-6 for r in found)
    assert found[-1]["diversity"] > 0  # the latents still vary the pictures: no plain collapse
    (event,) = found[-1]["doctor"]
    assert event["check"] == "condition-collapse"
    assert event["title"] == "the same picture for different captions"
    assert any("match_weight" in f for f in event["fixes"])


def test_condition_collapse_waits_for_three_log_steps_in_a_row():
    low = history(condition_spread=[0.9, 0.05, 0.04])
    assert dr.collapse_across_conditions(low, 300, Stub()) is None
    low = history(condition_spread=[0.9, 0.05, 0.04, 0.03])
    event = dr.collapse_across_conditions(low, 400, Stub())
    assert event.title == "the same picture for different classes"
    assert any("recipe: projection" in f for f in event.fixes)


def test_diversity_is_the_same_number_with_any_thread_count():
    """A run resumed by a process with another thread count logs the same diversity. The oracle
    is the definition summed exactly (math.fsum) over every ordered pair; torch's own threaded sum
    of a 256 x 256 cdist differs in the last bit between 1 and 2 threads for most inputs."""
    import math

    x = torch.randn(256, 64, generator=torch.Generator().manual_seed(3))
    pairs = [float((x[i].double() - x[j].double()).norm()) for i in range(256) for j in range(256)]
    oracle = math.fsum(pairs) / (256 * 255)
    threads = torch.get_num_threads()
    try:
        values = []
        for n in (1, 2):
            torch.set_num_threads(n)
            values.append(dr.mean_pairwise_distance(x))
    finally:
        torch.set_num_threads(threads)
    assert values[0] == values[1]
    assert math.isclose(values[0], oracle, rel_tol=1e-14)
