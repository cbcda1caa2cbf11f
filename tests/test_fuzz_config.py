"""Hypothesis fuzzing of `gankit train`'s config: YAML files and --set overrides.

Whatever the input, `gankit train` either accepts it or exits 2 with exactly one line on stderr,
never a traceback. Training itself is replaced by a dry run that checks what the engine checks
first (the device, the registry names, and each network's size, built on the meta device), so
that thousands of configs take seconds. Every fuzzed run is under an address-space ceiling
(RLIMIT_AS, MEMORY_CEILING above what the test process already maps): a size check that regresses
fails with a MemoryError instead of swapping the machine.

Arguments argparse itself rejects (none here: every override is passed as --set=KEY=VALUE) would
exit 2 with a usage line and an error line; that is argparse's standard, documented behaviour.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import resource
import typing
from pathlib import Path

import pytest
import yaml
from conftest import tiny_digits, tiny_ring
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gankit import config
from gankit.cli import main
from gankit.data import DATASETS
from gankit.losses import LOSSES
from gankit.nets import NETS, registry
from gankit.recipes import RECIPES
from gankit.train import trainer
from gankit.train.trainer import pick_device

MEMORY_CEILING = 2 << 30  # bytes of address space a fuzzed config may add
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
    for registry_of, name in (
        (RECIPES, cfg.recipe),
        (DATASETS, cfg.data.name),
        (NETS, cfg.nets.g),
        (NETS, cfg.nets.d),
        (LOSSES, cfg.loss.name),
    ):
        registry_of.get(name)
    shape = (
        (2,)
        if cfg.data.name in ("ring", "grid")
        else (cfg.data.channels or 1, *[cfg.data.size] * 2)
    )
    for role, options in (("g", cfg.nets.g_options), ("d", cfg.nets.d_options)):
        registry.check_size(getattr(cfg.nets, role), role, shape, cfg.nets.z_dim, 0, dict(options))
    return {"run": out, "step": 0, "samples": out, "report": out, "metrics": None}


def mapped_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmSize")


@pytest.fixture
def memory_ceiling():
    """Lower the soft RLIMIT_AS to what is mapped now plus MEMORY_CEILING, for the test only."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    ceiling = mapped_bytes() + MEMORY_CEILING
    if hard != resource.RLIM_INFINITY:
        ceiling = min(ceiling, hard)
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, hard))
    yield ceiling
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.fixture
def cli(tmp_path, monkeypatch, memory_ceiling):
    """Run `gankit ARGS` in-process under the memory ceiling: (exit code, stderr lines)."""
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
    low = config._RANGES.get(key, (None,))[0]
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


# Sizes and ranges: every key that sizes an allocation, given huge, tiny, negative, fractional
# and wrongly typed values, alone and together.
SIZE_KEYS = [
    "data.size",
    "nets.z_dim",
    "train.batch_size",
    "train.seed",
    "train.steps",
    "train.n_critic",
    "eval.n",
    "optim.lr_g",
    "optim.lr_d",
    "stabilisers.minibatch_discrimination",
]
sizes = (
    st.integers(-(2**70), 2**70)
    | st.sampled_from([0, 1, 2**31, 2**32, 2**63, 10**9, 10**23, 4096, 4097, 65536, 65537])
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["1e9", "1e23", "1e308", "-0", "0x10", "1_000"])
)
widths = st.lists(sizes, min_size=1, max_size=3) | sizes


@FUZZ
@given(
    picks=st.dictionaries(st.sampled_from(SIZE_KEYS), sizes, min_size=1, max_size=4),
    hidden=st.none() | widths,
    recipe_net=st.sampled_from(["mlp", "dcgan"]),
)
def test_huge_and_odd_sizes(cli, write_config, picks, hidden, recipe_net):
    raw = tiny_ring(10) if recipe_net == "mlp" else tiny_digits(10)
    args = [f"--set={key}={as_yaml(value)}" for key, value in picks.items()]
    if hidden is not None:
        option = "hidden" if recipe_net == "mlp" else "width"
        args.append(f"--set=nets.g_options.{option}={as_yaml(hidden)}")
    assert_ok_or_one_line(*cli("train", str(write_config(raw)), *args))


def test_the_dry_run_is_honest(cli, write_config):
    """The dry run accepts a good config and names a bad registry entry like the real engine."""
    assert cli("train", str(write_config(tiny_ring(10))))[0] == 0
    code, lines = cli("train", str(write_config(tiny_ring(10))), "--set=nets.g=mpl")
    assert code == 2 and 'Did you mean "mlp"' in lines[0]
    assert math.isfinite(config.load(write_config(tiny_ring(10))).optim.lr_g)
