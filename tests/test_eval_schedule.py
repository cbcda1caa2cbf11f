"""Evaluation by training seconds (eval.at_s), with the clock stopped while it scores; the live G
beside the EMA (eval.live); limited-data runs (data.limit)."""

import json
import time

import pytest
from conftest import tiny_ring

from gankit import api, config, data
from gankit.config import DataConfig
from gankit.errors import BadInput
from gankit.metrics import reference
from gankit.metrics.cache import cache_root
from gankit.train import trainer


def scored(run) -> list[dict]:
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if "modes" in r]


def test_eval_at_seconds_stops_the_clock_while_scoring(tmp_path, monkeypatch):
    real_evaluate = trainer.evaluate

    def slow_evaluate(recipe, cfg):  # a scorer that takes 1.5 s of wall clock
        time.sleep(1.5)
        return real_evaluate(recipe, cfg)

    monkeypatch.setattr(trainer, "evaluate", slow_evaluate)
    raw = tiny_ring(steps=10**8)
    raw["train"] |= {"budget_s": 2.0, "log_every": 10**6, "checkpoint_every": 10**6}
    raw["eval"] = {"at_s": [0.5, 1.0], "at_end": True, "n": 200}
    start = time.perf_counter()
    api.train(config.from_dict(raw), tmp_path / "run")
    wall = time.perf_counter() - start
    rows = scored(tmp_path / "run")
    assert len(rows) == 3  # at 0.5 s, at 1.0 s and at the end
    assert [0.5 <= rows[0]["time_s"] < 0.9, 1.0 <= rows[1]["time_s"] < 1.4] == [True, True]
    # three scorings of 1.5 s each, yet two seconds of training: the budget counted training only
    assert wall > 2.0 + 3 * 1.5
    assert rows[2]["time_s"] < 2.0 + 1.5  # the last score's time: training, not scoring
    assert rows[1]["step"] > rows[0]["step"]


def test_eval_live_scores_the_live_generator_beside_the_ema(tmp_path):
    raw = tiny_ring(steps=20)
    raw["train"] |= {"ema": 0.9}
    raw["eval"] = {"at_end": True, "n": 200, "live": True}
    metrics = api.train(config.from_dict(raw), tmp_path / "ema")["metrics"]
    assert {"modes", "live_modes", "live_high_quality"} <= set(metrics)
    assert "live_modes_floor" not in metrics  # the floor is the same for both
    raw["train"].pop("ema")
    metrics = api.train(config.from_dict(raw), tmp_path / "plain")["metrics"]
    assert "live_modes" not in metrics  # no EMA: the live G is the one scored


@pytest.mark.parametrize("bad", ["[-1]", "[.nan]", "[0]"])
def test_eval_at_seconds_must_be_positive(bad):
    with pytest.raises(BadInput, match="eval.at_s"):
        config.from_dict(config.apply_overrides(tiny_ring(), [f"eval.at_s={bad}"]))


def test_data_limit_keeps_the_first_items_of_each_split():
    full = data.build(DataConfig(name="digits"), "train")
    few = data.build(DataConfig(name="digits", limit=50), "train")
    assert len(few) == 50 and (few.x == full.x[:50]).all() and (few.y == full.y[:50]).all()
    assert len(data.build(DataConfig(name="digits", limit=50), "test")) == 50
    with pytest.raises(BadInput, match="data.limit"):
        config.from_dict(config.apply_overrides(tiny_ring(), ["data.limit=0"]))


def test_data_limit_scores_against_the_same_limited_set(tmp_path, monkeypatch):
    """The reference features of a limited run are those of its N images, cached apart."""
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path))
    ex = reference_extractor()
    cfg = DataConfig(name="digits", limit=40)
    feats = reference.real_features(ex, cfg, "digits-t", "train", 1000, seed=0)
    assert len(feats.features) == 40
    pixels = data.build(cfg).x.flatten(1).float()
    assert (feats.features.sort(0).values == pixels.sort(0).values).all()
    full = reference.real_features(ex, DataConfig(name="digits"), "digits-t", "train", 1000, 0)
    assert len(full.features) == 1000
    assert len(list((cache_root() / "features").glob("*first40*"))) == 1


def reference_extractor():
    import torch

    class Flat:  # an extractor whose features are the pixels: the oracle is the data itself
        name, sha256 = "flat", "0" * 64

        def embed(self, images):
            f = images.flatten(1).float()
            return f, torch.ones(len(f), 1)

    return Flat()
