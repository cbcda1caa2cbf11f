"""From the second step on, a training step never waits for the device.

On a GPU a `.item()`, `float(t)`, `bool(t)` (a Python `if` on a tensor), `.tolist()`, `.cpu()`,
`.numpy()`, `.nonzero()` or `torch.cuda.synchronize()` stalls the host until the queue drains,
every step. On the CPU nothing stalls, so the test counts the calls instead: it wraps the trainer's
step and records every such call made from outside torch, with its file and line. Logging, the
doctor, EMA, lazy penalties, the non-finite guard (skip) and the time budget are all on; their
reads happen at the log boundary, outside the step, in one transfer.

train.on_nonfinite: skip (with a fused-capable optimiser: adam, sgd) and stop keep the step free
of syncs. rollback reads every step's stats on purpose, once per step, since it acts on the step
that went wrong (trainer.finite_everywhere, outside the step counted here): on a GPU use skip or
stop (docs/DISTRIBUTED.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from conftest import tiny_digits

from gankit import api, config
from gankit.recipes.unconditional import Unconditional
from gankit.train import trainer

SYNCING = ("item", "__bool__", "__float__", "__int__", "tolist", "cpu", "numpy", "nonzero")
TORCH = str(Path(torch.__file__).parent)

MLP = {"g": "mlp", "d": "mlp", "z_dim": 8, "g_options": {"hidden": 16}, "d_options": {"hidden": 16}}
SMALL = {"g_options": {"width": 4}, "d_options": {"width": 4}}
DCGAN = {"z_dim": 8} | SMALL
TRANSLATOR = {"g": "resnet-translator", "g_options": {"width": 4, "blocks": 1}}
PATCHGAN = {"d": "patchgan", "d_options": {"width": 4, "depth": 2}}
DIGITS = {"options": {"base": "digits"}}
LAZY_R1 = {"name": "non-saturating", "penalty": "r1", "penalty_every": 2}
STABILISED = {  # every stabiliser with per-step state or randomness
    "label_smoothing": 0.1,
    "historical_averaging": 0.01,
    "instance_noise": 0.1,
    "diffaugment": ["color", "translation"],
    "feature_matching": 1.0,
    "ada": {"interval": 2},  # p's update on every other D step: both kinds of step are watched
}
FAMILIES = {
    "unconditional": {"nets": MLP, "loss": LAZY_R1},
    "stabilised": {"recipe": "unconditional", "nets": MLP, "stabilisers": STABILISED},
    "cgan": {"nets": MLP, "loss": LAZY_R1},
    "acgan": {"nets": DCGAN},
    "semi-supervised": {"nets": MLP, "recipe_options": {"labelled": 20}},
    "began": {"nets": {"g": "began", "d": "began", "z_dim": 8} | SMALL},
    "progressive": {
        "nets": {"g": "progressive", "d": "progressive", "z_dim": 8} | SMALL,
        "recipe_options": {"fade_steps": 1, "stable_steps": 1},
    },
    "vae": {"nets": DCGAN},
    "pix2pix": {
        "data": {"name": "edges2items"} | DIGITS,
        "nets": {"g": "unet", "g_options": {"width": 4}} | PATCHGAN,
        "loss": LAZY_R1,
        "recipe_options": {"adversarial_every": 2, "feature_matching": 1.0},
    },
    "cyclegan": {
        "data": {"name": "items2inverted"} | DIGITS,
        "nets": TRANSLATOR | PATCHGAN,
        "loss": {"name": "lsgan"},
        "recipe_options": {"pool": 6},
    },
    "stargan": {
        "data": {"name": "item-domains"} | DIGITS,
        "nets": TRANSLATOR | {"d": "patchgan", "d_options": {"width": 4, "depth": 2}},
        "loss": {"name": "wgan-gp"},
        "recipe_options": {"nce": 1.0, "structure": 1.0},
        "train": {"n_critic": 2},
    },
    "cogan": {"data": {"name": "items2inverted"} | DIGITS, "nets": DCGAN},
    "lapgan": {"nets": {"g": "lapgan", "d": "lapgan", "z_dim": 8} | SMALL},
    "srgan": {
        "nets": {"g": "srresnet", "d": "srresnet"}
        | {"g_options": {"width": 4, "blocks": 1}, "d_options": {"width": 4}},
    },
    "colourise": {
        "recipe_options": {"hints": 5},
        "data": {"name": "colourise", "size": 16, "options": {"source": "sample-photos"}},
        "nets": {"g": "unet", "g_options": {"width": 4}} | PATCHGAN,
    },
    "stackgan": {  # its trainable text encoder and caption memory take the batch's caption ids
        "data": {"name": "captions", "size": 16} | DIGITS,
        "nets": {"g": "stackgan", "d": "stackgan", "z_dim": 8} | SMALL,
        "loss": {"name": "non-saturating"},
        "recipe_options": {"text_dim": 16, "c_dim": 4, "match_weight": 1.0},
    },
}


def family_config(family: str, steps: int = 3) -> config.Config:
    raw = tiny_digits(steps) | {"recipe": family} | FAMILIES[family]
    raw["train"] = tiny_digits(steps)["train"] | FAMILIES[family].get("train", {})
    raw["train"] |= {
        "batch_size": 8,
        "log_every": steps,  # the one boundary: at the end
        "sample_every": steps,
        "checkpoint_every": 1000,
        "ema": 0.9,
        "on_nonfinite": "skip",
        "budget_s": 3600.0,
    }
    return config.from_dict(raw)


def syncs_in_steps(monkeypatch, cfg: config.Config, out: Path) -> list[str]:
    """Train `cfg`; the would-be syncs made during steps 2.. as 'call at file:line'."""
    sites: list[str] = []
    state = {"on": False, "steps": 0}

    def counted(name, original):
        def call(*args, **kwargs):
            if state["on"]:
                frame = sys._getframe(1)
                if not frame.f_code.co_filename.startswith(TORCH):  # torch's own are its own
                    where = f"{Path(frame.f_code.co_filename).name}:{frame.f_lineno}"
                    sites.append(f"{name} at {where} ({frame.f_code.co_name})")
            return original(*args, **kwargs)

        return call

    for name in SYNCING:
        monkeypatch.setattr(
            torch.Tensor, name, counted(f"Tensor.{name}", getattr(torch.Tensor, name))
        )
    monkeypatch.setattr(
        torch.cuda, "synchronize", counted("cuda.synchronize", torch.cuda.synchronize)
    )
    step = trainer.train_step

    def watched(*args, **kwargs):
        state["steps"] += 1
        state["on"] = state["steps"] > 1  # the first step reads counters restored by a resume
        try:
            return step(*args, **kwargs)
        finally:
            state["on"] = False

    monkeypatch.setattr(trainer, "train_step", watched)
    api.train(cfg, out)
    assert state["steps"] == cfg.train.steps
    return sites


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_steps_make_no_host_sync(family, monkeypatch, tmp_path):
    sites = syncs_in_steps(monkeypatch, family_config(family), tmp_path / "run")
    assert not sites, f"{family}: host syncs inside the training step: {sorted(set(sites))}"


def test_the_count_names_a_sync_added_to_a_loss(monkeypatch, tmp_path):
    original = Unconditional.d_loss

    def d_loss(self, batch, fake):
        loss, stats = original(self, batch, fake)
        if loss > 1e9:  # a Python `if` on a tensor: the kind of line this test exists to catch
            pass
        return loss, stats

    monkeypatch.setattr(Unconditional, "d_loss", d_loss)
    sites = syncs_in_steps(monkeypatch, family_config("unconditional"), tmp_path / "run")
    assert sites and all(s.startswith("Tensor.__bool__ at test_sync_free.py:") for s in sites)
