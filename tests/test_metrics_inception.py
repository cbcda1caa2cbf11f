"""The Inception extractor loads a LOCAL weights file (saved here with random weights)."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from gankit.config import DataConfig
from gankit.errors import BadInput
from gankit.files import sha256_file
from gankit.metrics import evaluate_samples
from gankit.metrics.inception import ENV, InceptionExtractor, build_network


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("inception") / "random-inception.pth"
    torch.save(build_network().state_dict(), path)
    return path


def test_loading_path_gives_pool_features_and_class_probabilities(weights, tmp_path):
    ex = InceptionExtractor(str(weights))
    assert ex.sha256 == sha256_file(weights) and ex.name == "inception-v3:random-inception.pth"
    images = torch.randint(0, 256, (2, 1, 28, 28), dtype=torch.uint8)
    features, probs = ex.embed(images)
    assert features.shape == (2, 2048) and probs.shape == (2, 1000)
    assert torch.allclose(probs.sum(1), torch.ones(2), atol=1e-5)
    # The same state dict as safetensors gives the same features.
    st = tmp_path / "w.safetensors"
    save_file(torch.load(weights, weights_only=True), str(st))
    assert torch.allclose(InceptionExtractor(str(st)).embed(images)[0], features, atol=1e-5)


def test_scoring_with_inception_weights_from_the_environment(weights, tmp_path, monkeypatch):
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path))
    monkeypatch.setenv(ENV, str(weights))
    cfg = DataConfig(name="digits", size=16)
    samples = torch.randint(0, 256, (6, 1, 16, 16), dtype=torch.uint8)
    r = evaluate_samples(samples, cfg, ["kid", "is", "precision_recall"], extractor="inception")
    assert {"kid", "kid_floor", "is", "is_floor", "precision", "recall_floor"} <= set(r)
    p = r["protocol"]
    assert p["extractor_sha256"] == sha256_file(weights) and p["resize"] == "bilinear-299"


def test_missing_or_foreign_weights_are_bad_input(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    with pytest.raises(BadInput, match="--inception-weights"):
        InceptionExtractor(None)
    with pytest.raises(BadInput, match="not found"):
        InceptionExtractor(str(tmp_path / "nope.pth"))
    torch.save({"fc.weight": torch.zeros(3, 3)}, tmp_path / "other.pth")
    with pytest.raises(BadInput, match="not an Inception-v3 state dict"):
        InceptionExtractor(str(tmp_path / "other.pth"))
