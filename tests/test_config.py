"""Config loading: defaults, overrides, and one clear line for each mistake."""

import pytest

from gankit import config
from gankit.errors import BadInput


def test_every_shipped_config_loads_and_says_what_it_shows():
    from pathlib import Path

    configs = sorted(Path("configs").glob("*.yaml"))
    assert len(configs) >= 9
    for path in configs:
        assert path.read_text().startswith("# shows: "), path
        cfg = config.load(path)
        assert cfg.description, path


def test_overrides_parse_values_as_yaml(write_config):
    path = write_config({"train": {"steps": 10}})
    cfg = config.load(
        path,
        [
            "train.steps=7",
            "optim.lr_d=1e-3",
            "train.budget_s=2.5",
            "nets.g_options.width=16",
            "loss.penalty=gp",
        ],
    )
    assert cfg.train.steps == 7 and cfg.optim.lr_d == 1e-3 and cfg.train.budget_s == 2.5
    assert cfg.nets.g_options == {"width": 16} and cfg.loss.penalty == "gp"


@pytest.mark.parametrize(
    "raw, overrides, message",
    [
        ({"trian": {}}, [], 'unknown config key "trian". Did you mean "train"'),
        ({}, ["train.stpes=3"], 'Did you mean "train.steps"'),
        ({}, ["train.steps=many"], "train.steps = 'many' has the wrong type: expected int"),
        ({}, ["train.batch_size=0"], "train.batch_size = 0 is out of range"),
        ({}, ["train.steps"], "must look like key.path=value"),
        ({"train": {"steps": 3}}, ["train.steps.x=1"], '"steps" is a value, not a section'),
        ({"data": 3}, [], "config section data must be a mapping"),
        ({}, ["optim.betas=[0.5]"], "optim.betas must hold two numbers"),
        ({}, ["train.ema=2"], "train.ema = 2.0"),
    ],
)
def test_mistakes_name_the_key_and_the_fix(write_config, raw, overrides, message):
    with pytest.raises(BadInput, match=message.replace("(", r"\(").replace("[", r"\[")):
        config.load(write_config(raw), overrides)


def test_bad_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: {steps: [1,\n")
    with pytest.raises(BadInput, match="not valid YAML at line"):
        config.load(bad)
    with pytest.raises(BadInput, match="not found"):
        config.load(tmp_path / "missing.yaml")
    with pytest.raises(BadInput, match=r"is a folder.*gankit train --data"):
        config.load(tmp_path)


def test_resolved_config_round_trips(tmp_path):
    cfg = config.from_dict({"train": {"steps": 3}, "nets": {"g": "mlp"}})
    config.save(cfg, tmp_path / "c.yaml")
    assert config.load(tmp_path / "c.yaml") == cfg
