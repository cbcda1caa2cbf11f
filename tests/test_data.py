"""The data registry: shapes, ranges, lookup order of torchvision sets, broken image files."""

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gankit import data
from gankit.config import DataConfig
from gankit.data import vision
from gankit.data.toy import ring_means
from gankit.errors import BadInput


def test_digits_is_image_data_in_range_with_labels():
    ds = data.build(DataConfig(name="digits", size=32, channels=3))
    assert ds.x.dtype == torch.uint8 and ds.shape == (3, 32, 32)
    x = ds.to_model_range(ds.x[:50])
    assert x.min() >= -1 and x.max() <= 1 and x.min() < -0.9 and x.max() > 0.9
    assert set(ds.y.tolist()) == set(range(10))
    test = data.build(DataConfig(name="digits"), split="test")
    assert len(test) + len(ds) == 1797


@pytest.mark.parametrize(
    "name, dim", [("ring", 2), ("grid", 2), ("swiss-roll", 2), ("gaussians-1d", 1)]
)
def test_toys_are_points(name, dim):
    ds = data.build(DataConfig(name=name, options={"n": 1000}))
    assert ds.kind == "points" and ds.x.shape == (1000, dim) and ds.x.dtype == torch.float32
    test = data.build(DataConfig(name=name, options={"n": 1000}), split="test")
    assert not torch.equal(ds.x, test.x)  # held-out points are new draws


def test_ring_has_eight_distinct_modes_and_the_asked_spread():
    means = ring_means()
    assert torch.cdist(means, means).add(torch.eye(8)).min() > 0.7
    ds = data.build(DataConfig(name="ring", options={"n": 20000, "std": 0.01}))
    offsets = ds.x - means[ds.y]
    assert offsets.std().item() == pytest.approx(0.01, rel=0.05)


def test_unknown_dataset_option_is_named():
    with pytest.raises(BadInput, match='Did you mean "std"'):
        data.build(DataConfig(name="ring", options={"sdt": 0.1}))


def write_idx(path: Path, array: np.ndarray) -> None:
    codes = {np.uint8: 0x08}
    header = struct.pack(">HBB", 0, codes[array.dtype.type], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.tobytes())


def fake_fashion_files(folder: Path, n: int = 20, gz: bool = False) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, count in (("train", n), ("t10k", n // 2)):
        images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        labels = (np.arange(count) % 10).astype(np.uint8)
        for name, array in (
            (f"{prefix}-images-idx3-ubyte", images),
            (f"{prefix}-labels-idx1-ubyte", labels),
        ):
            write_idx(folder / name, array)
            if gz:
                raw = (folder / name).read_bytes()
                (folder / name).unlink()
                (folder / f"{name}.gz").write_bytes(gzip.compress(raw))


def test_torchvision_layout_under_data_root(tmp_path):
    fake_fashion_files(tmp_path / "FashionMNIST" / "raw")
    ds = data.build(DataConfig(name="fashion-mnist", root=str(tmp_path), download=False, size=32))
    assert ds.shape == (1, 32, 32) and len(ds) == 20 and ds.class_names[9] == "Ankle boot"
    assert len(data.build(DataConfig(name="fashion-mnist", root=str(tmp_path)), "test")) == 10


def test_damaged_torchvision_files_are_named_with_the_fix(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    fake_fashion_files(raw)
    images = raw / "train-images-idx3-ubyte"
    images.write_bytes(b"\x00\x00\x00\x99" + images.read_bytes()[4:])  # a bad magic number
    with pytest.raises(BadInput, match=r"mnist files under .* are damaged .*delete .*MNIST"):
        data.build(DataConfig(name="mnist", root=str(tmp_path), download=False))


def test_debian_package_files_are_found(tmp_path, monkeypatch):
    debian = tmp_path / "debian"
    fake_fashion_files(debian, gz=True)
    monkeypatch.setattr(vision, "DEBIAN_FASHION_MNIST", debian)
    ds = data.build(DataConfig(name="fashion-mnist", root=str(tmp_path / "root"), download=False))
    assert len(ds) == 20


def test_missing_data_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(vision, "DEBIAN_FASHION_MNIST", tmp_path / "nowhere")
    with pytest.raises(BadInput, match="apt-get install dataset-fashion-mnist"):
        data.build(DataConfig(name="fashion-mnist", root=str(tmp_path), download=False))
    with pytest.raises(BadInput, match="mnist not found"):
        data.build(DataConfig(name="mnist", root=str(tmp_path), download=False))


def test_image_folder_skips_broken_files_and_converts_modes(tmp_path, capsys):
    rgb = np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "a.png")
    Image.fromarray(rgb).convert("CMYK").save(tmp_path / "b.jpg")
    Image.fromarray(rgb).convert("P").save(tmp_path / "c.png")
    Image.fromarray(rgb).convert("RGBA").save(tmp_path / "d.png")
    Image.fromarray((np.arange(50 * 50).reshape(50, 50) * 20).astype(np.uint16)).save(
        tmp_path / "e.png"
    )
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.jpg").write_text("not an image")
    (tmp_path / "cut.png").write_bytes((tmp_path / "a.png").read_bytes()[:100])
    ds = data.build(DataConfig(name="image-folder", root=str(tmp_path), size=16))
    assert ds.x.shape == (5, 3, 16, 16) and ds.y is None
    assert len(ds.skipped) == 3
    err = capsys.readouterr().err
    assert "skipped 3 unreadable" in err and "empty.png" in err
    sixteen_bit = ds.x[4].float()
    assert 150 < sixteen_bit.max() < 250  # rescaled from 16 bits, not clipped to white
    assert sixteen_bit.min() < 20


def test_image_folder_subfolders_are_classes(tmp_path):
    for cls in ("cats", "dogs"):
        (tmp_path / cls).mkdir()
        for i in range(2):
            Image.new("RGB", (20, 20), (i * 100, 0, 0)).save(tmp_path / cls / f"{i}.png")
    ds = data.build(DataConfig(name="image-folder", root=str(tmp_path), size=8, channels=1))
    assert ds.class_names == ["cats", "dogs"] and ds.y.tolist() == [0, 0, 1, 1]
    assert ds.shape == (1, 8, 8)


def test_image_folder_problems(tmp_path):
    with pytest.raises(BadInput, match="does not exist"):
        data.build(DataConfig(name="image-folder", root=str(tmp_path / "missing")))
    (tmp_path / "junk.png").write_bytes(b"junk")
    with pytest.raises(BadInput, match="no readable images"):
        data.build(DataConfig(name="image-folder", root=str(tmp_path)))


def test_batch_stream_position_restores_the_same_batches():
    ds = data.build(DataConfig(name="ring", options={"n": 100}))
    a = data.BatchStream(ds, 32, seed=3, device=torch.device("cpu"))
    for _ in range(5):  # crosses an epoch boundary (3 batches an epoch)
        a.next()
    b = data.BatchStream(ds, 32, seed=3, device=torch.device("cpu"))
    b.load_state_dict(a.state_dict())
    for _ in range(4):
        assert torch.equal(a.next()[0], b.next()[0])


def test_batch_larger_than_dataset_is_bad_input():
    ds = data.build(DataConfig(name="ring", options={"n": 10}))
    with pytest.raises(BadInput, match="lower train.batch_size"):
        data.BatchStream(ds, 64, 0, torch.device("cpu"))
