"""The speed switches change how the networks run, not what a run learns or saves."""

import pytest
import torch
from conftest import tiny_digits, tiny_ring

from gankit import api, config
from gankit.errors import BadInput


@pytest.mark.parametrize("switch", ["train.amp=true", "train.channels_last=true"])
def test_switch_trains_and_saves_plain_weights(tmp_path, switch):
    raw = tiny_digits(steps=4)
    raw["loss"] = {"name": "wgan-gp"}  # a gradient penalty under the switch too
    result = api.train(config.from_dict(raw), tmp_path / "run", [switch])
    records = (tmp_path / "run" / "metrics.jsonl").read_text()
    assert "NaN" not in records and result["step"] == 4
    images = api.sample(result["run"], 4)["images"]
    assert images.shape == (4, 1, 28, 28)


def test_amp_runs_networks_in_bf16_but_losses_in_fp32():
    from gankit.losses import LOSSES
    from gankit.penalties import gradient_penalty

    d = torch.nn.Linear(4, 1)
    with torch.autocast("cpu", torch.bfloat16):
        logits = d(torch.randn(8, 4)).flatten()
        assert logits.dtype == torch.bfloat16
        loss = LOSSES.get("non-saturating")().d_loss(logits, logits)
        pen = gradient_penalty(
            lambda x: d(x).flatten(),
            torch.randn(8, 4),
            torch.randn(8, 4),
            torch.Generator().manual_seed(0),
        )
    assert loss.dtype == torch.float32 and pen.dtype == torch.float32


@pytest.mark.slow  # torch.compile takes a minute or more on 2 CPU cores: `pytest -m slow`
def test_compile_switch_trains(tmp_path):
    from conftest import tiny_ring

    raw = tiny_ring(steps=30)
    raw["loss"] = {"name": "wgan-gp"}  # the penalty runs on the eager D
    result = api.train(config.from_dict(raw), tmp_path / "run", ["train.compile=true"])
    assert result["step"] == 30
    assert api.sample(result["run"], 5)["points"].shape == (5, 2)


def test_cuda_graphs_switch_is_refused_without_compile_or_a_gpu(tmp_path):
    raw = tiny_ring(steps=2)
    raw["train"]["cuda_graphs"] = True
    with pytest.raises(BadInput, match="train.compile: true"):
        config.from_dict(raw)
    raw["train"]["compile"] = True
    if not torch.cuda.is_available():  # on a GPU machine this run would compile with graphs
        with pytest.raises(BadInput, match="CUDA device"):
            api.train(config.from_dict(raw), tmp_path / "run")
