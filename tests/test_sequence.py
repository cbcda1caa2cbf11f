"""Sequence GAN: the grammar's validity checker on hand-made sentences, straight-through Gumbel
tokens, and a tiny run; the tabular metrics on known cases and a tiny table run."""

import numpy as np
import torch
from conftest import tiny_ring

from gankit import api, config, nets
from gankit.data import grammar, table

TOKENS = {c: i for i, c in enumerate(grammar.VOCAB) if i} | {".": grammar.END}


def tokens(text: str, length: int = 8) -> list[int]:
    return [TOKENS[c] for c in text.ljust(length, ".")]


def test_validity_checker_on_hand_made_sentences():
    for good in ("()", "([])", "[]()[[]]", "(((())))"):
        assert grammar.is_valid(tokens(good)), good
    for bad in ("", "(", ")(", "([)]", "(]", "()..()", "((())"):
        assert not grammar.is_valid(tokens(bad)), bad
    rows = grammar.to_rows([tokens("()")[:2], tokens("([)]")[:4]], 8)
    assert grammar.validity(rows) == {"valid": 0.5, "distinct_valid": 1.0}


def test_dataset_sentences_are_all_valid():
    ds = grammar.grammar(config.DataConfig(name="grammar"), "train", n=500, length=12)
    assert ds.shape == (60,) and grammar.validity(ds.x)["valid"] == 1.0


def test_gumbel_generator_emits_one_hots_with_gradients():
    g = nets.build("seq-gru", "g", (60,), 4, hidden=16)
    z = torch.randn(5, 4 + 60)
    rows = g(z)
    one_hot = rows.detach().view(5, 12, 5)
    assert rows.shape == (5, 60) and torch.allclose(one_hot.sum(-1), torch.ones(5, 12))
    assert torch.allclose(one_hot.max(-1).values, torch.ones(5, 12))
    assert torch.equal(g(z), rows)  # the noise rides in z: same input, same sentence
    rows.pow(2).mul(torch.randn(60)).sum().backward()
    assert g.out.weight.grad.abs().sum() > 0  # straight through: softmax's gradient


def test_tiny_sequence_run(tmp_path):
    raw = config.load("configs/sequence-gan.yaml").to_dict()
    raw["data"]["options"] = {"n": 512}
    raw["nets"]["g_options"], raw["nets"]["d_options"] = {"hidden": 16}, {"hidden": 16}
    raw["train"] |= {"steps": 4, "batch_size": 16, "log_every": 2, "progress": False}
    api.train(config.from_dict(raw), tmp_path / "run")
    points = api.sample(tmp_path / "run", 50, seed=3)["points"]
    again = api.sample(tmp_path / "run", 50, seed=3)["points"]
    assert points.shape == (50, 60) and np.array_equal(points, again)
    assert 0.0 <= grammar.validity(torch.from_numpy(points))["valid"] <= 1.0


def test_table_metrics_on_known_cases():
    real, same = table.draw(20_000, 0).numpy(), table.draw(20_000, 1).numpy()
    near = table.compare(real, same)
    assert near["w1_mean"] < 0.03 and near["ks_max"] < 0.03 and near["corr_max_error"] < 0.03
    shifted = same.copy()
    shifted[:, 0] += 1.0
    assert abs(table.compare(real, shifted)["w1_x0"] - 1.0) < 0.03
    rng = np.random.default_rng(0)
    independent = np.stack([rng.permutation(same[:, i]) for i in range(4)], 1)
    broken = table.compare(real, independent)
    assert broken["ks_max"] < 0.03 and abs(broken["corr_max_error"] - 0.8) < 0.05


def test_tiny_table_run(tmp_path):
    raw = tiny_ring(steps=4)
    raw["data"] = {"name": "table", "options": {"n": 1024}}
    api.train(config.from_dict(raw), tmp_path / "run")
    rows = api.sample(tmp_path / "run", 200)["points"]
    assert rows.shape == (200, 4) and set(table.compare(table.draw(200, 0).numpy(), rows)) >= {
        "w1_mean",
        "corr_max_error",
    }
