"""FID stats files: `gankit stats`, `gankit eval --ref-stats`, and what they refuse (exit 2)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gankit.cli import main
from gankit.metrics.stats import ForeignStats, from_features, save

RECORD = {"extractor": "fid-inception-2015-12-05", "extractor_sha256": "ab", "resize": "tf1"}


@pytest.fixture
def pair(tmp_path):
    """Two gankit stats files of 16-d features with the same protocol: (a, b, their FID)."""
    from pytorch_fid.fid_score import calculate_frechet_distance

    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(200, 16, generator=g), 1.5 * torch.randn(200, 16, generator=g) + 0.2
    sa, sb = from_features(a, RECORD), from_features(b, RECORD)
    save(sa, tmp_path / "a.npz")
    save(sb, tmp_path / "b.npz")
    expected = calculate_frechet_distance(sa.mu, sa.sigma, sb.mu, sb.sigma)
    return tmp_path / "a.npz", tmp_path / "b.npz", expected


def test_eval_a_stats_file_against_another(pair, capsys):
    a, b, expected = pair
    assert main(["eval", str(a), "--ref-stats", str(b)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["fid"] == pytest.approx(expected, rel=1e-6)
    assert out["protocol"]["resize"] == "tf1" and out["ref_protocol"]["extractor_sha256"] == "ab"


def test_a_foreign_file_without_protocol_is_accepted_with_a_warning(pair, tmp_path, capsys):
    a, b, expected = pair
    with np.load(b) as f:
        np.savez(tmp_path / "ttur.npz", mu=f["mu"], sigma=f["sigma"])  # TTUR's keys, nothing else
    with pytest.warns(ForeignStats, match="no protocol record"):
        assert main(["eval", str(a), "--ref-stats", str(tmp_path / "ttur.npz")]) == 0
    assert json.loads(capsys.readouterr().out)["fid"] == pytest.approx(expected, rel=1e-6)


def _bad_files(tmp_path):
    mu, sigma = np.zeros(16), np.eye(16)
    nan = sigma.copy()
    nan[3, 3] = np.nan
    np.savez(tmp_path / "no-sigma.npz", mu=mu, images=np.zeros((2, 1, 8, 8), np.uint8))
    np.savez(tmp_path / "shapes.npz", mu=np.zeros(3), sigma=np.eye(4))
    np.savez(tmp_path / "nan.npz", mu=mu, sigma=nan)
    np.savez(tmp_path / "pickle.npz", mu=np.array([{"a": 1}], dtype=object), sigma=sigma)
    np.savez(tmp_path / "dim8.npz", mu=np.zeros(8), sigma=np.eye(8), protocol=json.dumps(RECORD))
    other = json.dumps(RECORD | {"resize": "torch"})
    np.savez(tmp_path / "resized.npz", mu=mu, sigma=sigma, protocol=other)
    (tmp_path / "truncated.npz").write_bytes((tmp_path / "nan.npz").read_bytes()[:100])


@pytest.mark.parametrize(
    "name, message",
    [
        ("no-sigma.npz", "not an FID stats file"),
        ("shapes.npz", "sigma must be (D, D)"),
        ("nan.npz", "NaN or Inf"),
        ("pickle.npz", "pickled object"),
        ("truncated.npz", "cannot read stats file"),
        ("dim8.npz", "8-d features cannot be compared"),
        ("resized.npz", "resize 'torch' != 'tf1'"),
    ],
)
def test_bad_stats_files_exit_2_with_one_line(pair, tmp_path, capsys, name, message):
    a, _, _ = pair
    _bad_files(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["eval", str(a), "--ref-stats", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.parametrize(
    "content, message",
    [
        ("truncated", "cannot read inception weights"),
        ("foreign", "not an FID Inception state dict"),
    ],
)
def test_bad_weights_exit_2_and_write_nothing(tmp_path, capsys, content, message):
    weights = tmp_path / "w.pth"
    torch.save({"fc.weight": torch.zeros(3, 3)}, weights)
    if content == "truncated":
        weights.write_bytes(weights.read_bytes()[:200])
    np.savez(tmp_path / "s.npz", images=np.full((4, 3, 16, 16), 7, np.uint8))
    out = tmp_path / "out.npz"
    out.write_bytes(b"earlier work")
    args = ["stats", str(tmp_path / "s.npz"), "--extractor", "inception"]
    assert main([*args, "--inception-weights", str(weights), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
    assert out.read_bytes() == b"earlier work"


@pytest.mark.slow  # trains the digits evaluator when the session has none yet
def test_stats_of_a_dataset_split_give_the_floor_of_gankit_eval(tmp_path, capsys):
    """Two routes, one number: stats files of the train and test splits (own evaluator) and the
    fid_floor of `gankit eval`, which scores the same draws of the same splits."""
    for split in ("train", "test"):
        out = str(tmp_path / f"{split}.npz")
        assert main(["stats", "digits", "--split", split, "--n", "300", "--out", out]) == 0
    capsys.readouterr()
    assert (
        main(["eval", str(tmp_path / "test.npz"), "--ref-stats", str(tmp_path / "train.npz")]) == 0
    )
    via_stats = json.loads(capsys.readouterr().out)
    assert via_stats["protocol"]["extractor"].startswith("own:digits")
    with np.load(tmp_path / "test.npz") as f:
        assert f["mu"].dtype == np.float64 and f["sigma"].shape == (128, 128)
    np.savez(tmp_path / "s.npz", images=np.full((300, 1, 28, 28), 9, np.uint8))
    assert main(["eval", str(tmp_path / "s.npz"), "--dataset", "digits", "--metrics", "fid"]) == 0
    floor = json.loads(capsys.readouterr().out)["fid_floor"]
    assert via_stats["fid"] == pytest.approx(floor, rel=1e-6)
