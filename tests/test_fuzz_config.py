"""Hypothesis fuzzing of `gankit train`'s config: YAML files and --set overrides.

Whatever the input, `gankit train` either accepts it or exits 2 with exactly one line on stderr,
never a traceback. Training itself is replaced by a dry run that checks what the engine checks
first (the device and the registry names), so that thousands of configs take seconds.

Arguments argparse itself rejects (none here: every override is passed as --set=KEY=VALUE) would
exit 2 with a usage line and an error line; that is argparse's standard, documented behaviour.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import typing
from pathlib import Path

import pytest
import yaml
from conftest import tiny_ring
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gankit import config
from gankit.cli import main
from gankit.data import DATASETS
from gankit.losses import LOSSES
from gankit.nets import NETS
from gankit.recipes import RECIPES
from gankit.train import pick_device, trainer

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def key_paths(cls: type = config.Config, prefix: str = "") -> dict[str, typing.Any]:
    """Every config key path (e.g. train.steps) with its type hint."""
    hints, keys = typing.get_type_hints(cls), {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if dataclasses.is_dataclass(hint):
            keys |= key_paths(hint, f"{prefix}{f.name}.")
        else:
            keys[f"{prefix}{f.name}"] = hint
    return keys


KEYS = key_paths()
SECTIONS = sorted({k.split(".")[0] for k in KEYS})


def dry_train(cfg: config.Config, out: Path, resume: bool = False) -> dict:
    """What the engine checks before any work: the device and every registry name."""
    pick_device(cfg.train.device)
    for registry, name in (
        (RECIPES, cfg.recipe),
        (DATASETS, cfg.data.name),
        (NETS, cfg.nets.g),
        (NETS, cfg.nets.d),
        (LOSSES, cfg.loss.name),
    ):
        registry.get(name)
    return {"run": out, "step": 0, "samples": out, "report": out, "metrics": None}


@pytest.fixture
def cli(tmp_path, monkeypatch):
    """Run `gankit ARGS` in-process: (exit code, stderr lines)."""
    monkeypatch.setattr(trainer, "train", dry_train)

    def run(*args: str) -> tuple[int, list[str]]:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = main(list(args))
            except SystemExit as e:  # argparse usage errors
                code = e.code
        return code, err.getvalue().splitlines()

    return run


def assert_ok_or_one_line(code: int, lines: list[str]) -> None:
    assert code in (0, 2), (code, lines)
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("gankit: error: "), lines
    assert not any("Traceback" in line for line in lines)


# -- values ---------------------------------------------------------------------------------------
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


def as_yaml(value: typing.Any) -> str:
    return (
        yaml.safe_dump(value, default_flow_style=True, width=10**6).removesuffix("\n...\n").strip()
    )


value_text = values.map(as_yaml) | st.text(max_size=30)


def typo(key: str, data: st.DataObject) -> str:
    """The key with its last segment misspelt: a swap, a drop or a doubling of letters."""
    section, _, name = key.rpartition(".")
    i = data.draw(st.integers(0, len(name) - 2))
    kind = data.draw(st.sampled_from(["swap", "drop", "double"]))
    if kind == "swap":
        bad = name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    elif kind == "drop":
        bad = name[:i] + name[i + 1 :]
    else:
        bad = name[: i + 1] + name[i] + name[i + 1 :]
    return f"{section}.{bad}" if section else bad


# -- properties -----------------------------------------------------------------------------------
@FUZZ
@given(key=st.sampled_from(sorted(KEYS)), text=value_text)
def test_any_value_for_a_known_key(cli, write_config, tmp_path, key, text):
    code, lines = cli(
        "train",
        str(write_config(tiny_ring(10))),
        "--out",
        str(tmp_path / "r"),
        f"--set={key}={text}",
    )
    assert_ok_or_one_line(code, lines)


@FUZZ
@given(data=st.data())
def test_a_misspelt_key_is_named_with_a_suggestion(cli, write_config, tmp_path, data):
    key = data.draw(st.sampled_from([k for k in KEYS if len(k.rpartition(".")[2]) >= 4]))
    bad = typo(key, data)
    if bad == key or bad in KEYS or bad.rpartition(".")[2] == "":
        return
    code, lines = cli("train", str(write_config(tiny_ring(10))), f"--set={bad}=1")
    assert code == 2 and len(lines) == 1, lines
    assert f'unknown config key "{bad}". Did you mean "' in lines[0]


@FUZZ
@given(key=st.sampled_from([k for k, h in KEYS.items() if h is int]), value=st.integers(-50, 0))
def test_out_of_range_integers_are_refused(cli, write_config, tmp_path, key, value):
    low = config._AT_LEAST.get(key, (None,))[0]
    code, lines = cli("train", str(write_config(tiny_ring(10))), f"--set={key}={value}")
    assert_ok_or_one_line(code, lines)
    if low is not None and value < low:
        assert code == 2 and "out of range" in lines[0], lines


@FUZZ
@given(
    key=st.sampled_from(["optim.lr_g", "optim.lr_d", "loss.penalty_weight", "loss.clip"]),
    value=st.sampled_from([".nan", ".inf", "-.inf", "nan", "inf", "-1e-9", "-0.5"]),
)
def test_non_finite_or_negative_rates_are_refused(cli, write_config, key, value):
    code, lines = cli("train", str(write_config(tiny_ring(10))), f"--set={key}={value}")
    assert code == 2 and len(lines) == 1 and key in lines[0], lines


config_keys = st.sampled_from(SECTIONS + sorted(KEYS) + [k.split(".")[-1] for k in KEYS])
documents = st.dictionaries(
    config_keys | st.text(max_size=10),
    values | st.dictionaries(config_keys | st.text(max_size=8), values, max_size=5),
    max_size=6,
)


@FUZZ
@given(doc=documents)
def test_random_yaml_documents(cli, tmp_path, doc):
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert_ok_or_one_line(*cli("train", str(path), "--out", str(tmp_path / "r")))


@FUZZ
@given(content=st.binary(max_size=200) | st.text(max_size=200))
def test_random_file_contents(cli, tmp_path, content):
    path = tmp_path / "fuzz.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, errors="surrogatepass")
    assert_ok_or_one_line(*cli("train", str(path), "--out", str(tmp_path / "r")))


@FUZZ
@given(items=st.lists(st.text(max_size=30), min_size=1, max_size=3))
def test_random_override_strings(cli, write_config, tmp_path, items):
    args = [f"--set={item}" for item in items]
    assert_ok_or_one_line(*cli("train", str(write_config(tiny_ring(10))), *args))


def test_the_dry_run_is_honest(cli, write_config):
    """The dry run accepts a good config and names a bad registry entry like the real engine."""
    assert cli("train", str(write_config(tiny_ring(10))))[0] == 0
    code, lines = cli("train", str(write_config(tiny_ring(10))), "--set=nets.g=mpl")
    assert code == 2 and 'Did you mean "mlp"' in lines[0]
    assert math.isfinite(config.load(write_config(tiny_ring(10))).optim.lr_g)
