"""The exported generator: one-call loading, ONNX giving the same samples (torch.export's .pt2 is
checked in test_own_images.py)."""

import json

import numpy as np
import pytest
import torch
from conftest import tiny_digits

from gankit import api, config
from gankit.errors import BadInput
from gankit.export import export_generator, load_generator


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    api.train(config.from_dict(tiny_digits(steps=3)), root / "run")
    files = export_generator(root / "run", root / "model", onnx=True)
    return root, files


def test_layout_and_one_call_loading(exported):
    root, files = exported
    meta = json.loads(files["config"].read_text())
    assert meta["network"] == "dcgan" and meta["shape"] == [1, 28, 28] and meta["z_dim"] == 16
    g = load_generator(root / "model")
    run_g = api.load(root / "run").recipe.modules["g"].eval()
    z = torch.randn(3, 16)
    assert torch.equal(g(z), run_g(z))


def test_onnx_matches_pytorch(exported):
    ort = pytest.importorskip("onnxruntime")
    root, files = exported
    g = load_generator(root / "model")
    z = torch.randn(5, 16)  # another batch size than the export's example
    expected = g(z).detach().numpy()
    onnx_out = ort.InferenceSession(str(files["onnx"])).run(None, {"z": z.numpy()})[0]
    assert np.abs(onnx_out - expected).max() < 1e-4


def test_not_an_export(tmp_path):
    with pytest.raises(BadInput, match="gankit export"):
        load_generator(tmp_path)


def test_an_existing_file_as_the_export_folder_is_refused_and_kept(exported):
    root, _ = exported
    there = root / "a-file"
    there.write_text("keep me")
    with pytest.raises(BadInput, match="is a file: export writes a folder"):
        export_generator(root / "run", there)
    assert there.read_text() == "keep me"


def test_a_truncated_export_is_refused_in_one_line(exported):
    import shutil

    root, _ = exported
    torn = root / "torn-model"
    shutil.copytree(root / "model", torn)
    weights = torn / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:200])
    with pytest.raises(BadInput, match="does not hold this generator's weights"):
        load_generator(torn)
