"""Resuming with changed settings: each class of change from a real checkpoint (free, an optimiser
swap with and without --reset-optimizer, refused), the run's resume history, and the table of
what may change as docs/RELIABILITY.md shows it."""

import json
import shutil
from pathlib import Path

import pytest
import torch
from conftest import tiny_ring
from safetensors.torch import load_file

from gankit import api, config
from gankit.cli import main
from gankit.errors import BadInput
from gankit.losses import LOSSES
from gankit.train import checkpoint, resume_policy
from gankit.train.resume_policy import FREE, REFUSED, RESET, rule_for

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A ring run trained uninterrupted to step 100, with checkpoints at 50 and 100."""
    raw = tiny_ring(steps=100)
    raw["train"].update(checkpoint_every=50, log_every=25, sample_every=100)
    return api.train(config.from_dict(raw), tmp_path_factory.mktemp("whole") / "run")["run"]


@pytest.fixture
def killed(finished, tmp_path) -> Path:
    """The same run as if killed between step 50 and 100: it resumes from step 50."""
    run = tmp_path / "killed"
    shutil.copytree(finished, run)
    shutil.rmtree(run / "checkpoints" / "step-00000100")
    return run


def weights(run: Path, step: int, prefix: str) -> dict[str, torch.Tensor]:
    tensors = load_file(run / "checkpoints" / f"step-{step:08d}" / "weights.safetensors")
    return {k: v for k, v in tensors.items() if k.startswith(prefix)}


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def param_groups(run: Path, step: int, name: str) -> list[dict]:
    """The optimiser's param groups as the checkpoint saved them."""
    folder = run / "checkpoints" / f"step-{step:08d}"
    state = json.loads((folder / "state.json").read_text())
    tensors = load_file(folder / "weights.safetensors")
    return checkpoint.join_tensors(state["optimizers"][name], tensors)["param_groups"]


def snapshot(run: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run)): p.read_bytes() for p in sorted(run.rglob("*")) if p.is_file()}


def resume(capsys, run: Path, *args: str) -> tuple[int, list[str]]:
    """`gankit resume RUN ARGS` in-process: (exit code, stderr lines)."""
    capsys.readouterr()
    code = main(["resume", str(run), *args])
    return code, capsys.readouterr().err.strip().splitlines()


def logged(run: Path) -> list[dict]:
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [
        {k: v for k, v in json.loads(x).items() if k not in ("time_s", "steps_per_s")}
        for x in lines
    ]


def test_a_refused_change_writes_nothing_and_a_plain_resume_ends_bit_identical(
    finished, killed, capsys
):
    before = snapshot(killed)
    code, err = resume(capsys, killed, "--set", "nets.g_options.hidden=[32]")
    assert code == 2 and len(err) == 1, err
    assert "nets.g_options.hidden from [64, 64] to [32]" in err[0]
    assert "start a new run with `gankit train`" in err[0]
    assert snapshot(killed) == before  # config, checkpoints and logs as they were
    code, err = resume(capsys, killed)
    assert code == 0, err
    assert same(weights(killed, 100, "module."), weights(finished, 100, "module."))
    assert logged(killed) == logged(finished)


def test_a_learning_rate_change_takes_effect_at_the_resumed_step(killed, capsys):
    code, err = resume(capsys, killed, "--set", "optim.lr_g=0", "--set", "train.log_every=10")
    assert code == 0, err
    # lr 0 from step 51 on: G is exactly as the step-50 checkpoint left it; D (lr kept) moved
    assert same(weights(killed, 100, "module.g."), weights(killed, 50, "module.g."))
    assert not same(weights(killed, 100, "module.d."), weights(killed, 50, "module.d."))
    assert [g["lr"] for g in param_groups(killed, 100, "g")] == [0.0]
    assert [g["lr"] for g in param_groups(killed, 100, "d")] == [1e-3]
    assert [r["step"] for r in logged(killed) if r["step"] > 50] == [60, 70, 80, 90, 100]
    (entry,) = resume_policy.history(killed)
    assert entry["step"] == 50 and entry["reset_optimizer"] is False
    assert entry["changed"] == {"optim.lr_g": [1e-3, 0.0], "train.log_every": [25, 10]}
    assert entry["config"]["optim"]["lr_g"] == 0.0
    report = (killed / "report.html").read_text()
    assert "Resume history" in report and "optim.lr_g: 0.001 → 0.0" in report


def test_an_optimiser_swap_needs_reset_optimizer_and_stays_resumable(killed, capsys):
    before = snapshot(killed)
    code, err = resume(capsys, killed, "--set", "optim.name=sgd")
    assert code == 2 and len(err) == 1, err
    assert 'optim.name from "adam" to "sgd"' in err[0] and "--reset-optimizer" in err[0]
    assert snapshot(killed) == before
    code, err = resume(capsys, killed, "--set", "optim.name=sgd", "--reset-optimizer")
    assert code == 0, err
    assert any("warning: --reset-optimizer" in line and "optim.name" in line for line in err)
    groups = param_groups(killed, 100, "g")
    assert "momentum" in groups[0] and "betas" not in groups[0]  # SGD's state, saved
    assert [(e["step"], e["reset_optimizer"]) for e in resume_policy.history(killed)] == [
        (50, True)
    ]
    swapped = weights(killed, 100, "module.")
    # Killed again before step 100: a plain resume finds Adam's state at step 50, which the
    # history says was reset, so it starts SGD afresh again and retraces the same steps.
    shutil.rmtree(killed / "checkpoints" / "step-00000100")
    code, err = resume(capsys, killed)
    assert code == 0, err
    assert same(weights(killed, 100, "module."), swapped)


def plan(tmp_path: Path, *overrides: str, reset: bool = False) -> resume_policy.ResumePlan:
    before = config.from_dict(tiny_ring())
    after = config.from_dict(config.apply_overrides(before.to_dict(), overrides))
    return resume_policy.plan(tmp_path, before, after, reset)


@pytest.mark.parametrize(
    "change, allowed",
    [
        ("loss.name=minimax", True),  # still a logit of P(real)
        ("loss.name=hinge", False),
        ("loss.penalty=r1", True),
        ("loss.penalty_every=4", False),  # the lazy clock is not in the checkpoint
        ("stabilisers.instance_noise=0.1", False),
        ("train.ema=0.999", True),
        ("train.batch_size=64", True),
        ("train.seed=1", False),
        ("data.options.n=2048", False),
        ("nets.z_dim=8", False),
        ("recipe=cgan", False),
        ("eval.every=50", True),
    ],
)
def test_what_a_resume_may_change(tmp_path, change, allowed):
    if allowed:
        assert plan(tmp_path, change).changed
    else:
        with pytest.raises(BadInput, match="resume cannot change"):
            plan(tmp_path, change)


def test_betas_need_reset_optimizer_too(tmp_path, capsys):
    with pytest.raises(BadInput, match="optim.betas .*--reset-optimizer"):
        plan(tmp_path, "optim.betas=[0.0, 0.99]")
    assert plan(tmp_path, "optim.betas=[0.0, 0.99]", reset=True).fresh_optimizers_upto > 10**9
    assert "optim.betas [0.5, 0.999] -> [0.0, 0.99]" in capsys.readouterr().err


def test_an_unchanged_learning_rate_keeps_the_checkpoints_value():
    """A rollback halved the saved lr: a resume with the same config keeps the halved value; a
    changed config wins, also over the decay's base."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    opt.param_groups[0].update(configured_lr=0.1, lr=0.05, base_lr=0.05)
    resume_policy.apply_learning_rates(opt, [0.1], decay_from=0.5)
    assert opt.param_groups[0]["lr"] == 0.05 and opt.param_groups[0]["base_lr"] == 0.05
    resume_policy.apply_learning_rates(opt, [0.02], decay_from=0.5)
    assert opt.param_groups[0]["lr"] == opt.param_groups[0]["base_lr"] == 0.02
    resume_policy.apply_learning_rates(opt, [0.02], decay_from=None)  # decay switched off
    assert opt.param_groups[0]["lr"] == 0.02 and "base_lr" not in opt.param_groups[0]


def test_every_config_key_and_game_has_a_rule_and_the_docs_show_the_table():
    keys = resume_policy.flatten(config.Config().to_dict())
    options = [k for k, v in keys.items() if isinstance(v, dict)]  # free-form: any sub-key
    for key in [*keys, *(f"{k}.anything" for k in options)]:
        assert rule_for(key).kind in (FREE, RESET, REFUSED)
    assert set(LOSSES.names()) == set(resume_policy.D_OUTPUT)
    assert resume_policy.markdown_table() in (ROOT / "docs/RELIABILITY.md").read_text()
