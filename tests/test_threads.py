"""train.threads: torch's CPU thread count, said at the start of a run with a hint when busy."""

from __future__ import annotations

import pytest
import torch
from conftest import tiny_ring

from gankit import api, config
from gankit.errors import BadInput
from gankit.train import threads


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_a_busy_machine_gets_a_hint_for_fewer_threads(monkeypatch):
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (5.2, 4.0, 3.0))
    text = threads.thread_message(2, chosen=False)
    assert text.startswith("torch uses 2 CPU threads (") and "2 cores, load average 5.2" in text
    assert "the machine is busy" in text and "train.threads: 1 (or OMP_NUM_THREADS=1)" in text


def test_a_quiet_machine_or_one_thread_gets_no_hint(monkeypatch):
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (0.3, 0.2, 0.1))
    assert "busy" not in threads.thread_message(8, chosen=False)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    assert "busy" not in threads.thread_message(1, chosen=True)  # nothing fewer to suggest


def test_train_threads_sets_torch_and_the_run_says_so(
    tmp_path, write_config, capsys, restore_threads
):
    raw = tiny_ring(steps=20)
    raw["train"]["threads"] = 1
    torch.set_num_threads(2)
    api.train(write_config(raw), out=tmp_path / "run")
    assert torch.get_num_threads() == 1
    assert "gankit: torch uses 1 CPU thread (train.threads; " in capsys.readouterr().err


def test_threads_default_to_torchs_choice_and_refuse_zero(write_config):
    assert config.from_dict({}).train.threads is None
    with pytest.raises(BadInput, match="train.threads = 0 is out of range"):
        config.from_dict({"train": {"threads": 0}})
