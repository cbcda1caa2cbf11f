"""Hostile image folders: each broken, odd or oversized file is skipped or converted, no crash.

Adds to test_data.py's coverage: decompression bombs (a forged header and a real compressed one),
every PIL mode a file can come in, and hypothesis-mutated PNG / JPEG bytes.
"""

from __future__ import annotations

import functools
import io
import struct
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import tiny_digits
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from gankit import data
from gankit.cli import main
from gankit.config import DataConfig

RGB = np.random.default_rng(0).integers(0, 256, (40, 60, 3), dtype=np.uint8)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bytes(width: int, height: int, rows: bytes) -> bytes:
    """An 8-bit greyscale PNG with the given (already filtered) scanlines."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(rows, 6))
        + png_chunk(b"IEND", b"")
    )


def forged_bomb() -> bytes:
    """A 100-byte PNG whose header claims 100000 x 100000 pixels (10 gigapixels)."""
    return png_bytes(100_000, 100_000, b"\x00" * 64)


@functools.cache
def compressed_bomb() -> bytes:
    """A real, valid PNG: 7600 x 7600 black pixels (58 MB decoded) in about 60 kB."""
    side = 7600
    return png_bytes(side, side, (b"\x00" * (side + 1)) * side)


def encoded(img: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **options)
    return buffer.getvalue()


def good_files() -> dict[str, bytes]:
    """Files that must be read (converted to RGB), one per mode a user's folder may hold."""
    rgb = Image.fromarray(RGB)
    grey16 = Image.fromarray((np.arange(50 * 50).reshape(50, 50) * 26).astype(np.uint16))
    palette_alpha = rgb.convert("P")
    palette_alpha.info["transparency"] = 0
    return {
        "rgb.png": encoded(rgb, "PNG"),
        "cmyk.jpg": encoded(rgb.convert("CMYK"), "JPEG"),
        "cmyk.tif": encoded(rgb.convert("CMYK"), "TIFF"),
        "grey.jpg": encoded(rgb.convert("L"), "JPEG"),
        "bilevel.png": encoded(rgb.convert("1"), "PNG"),
        "sixteen-bit.png": encoded(grey16, "PNG"),
        "int32.tif": encoded(grey16.convert("I"), "TIFF"),
        "float.tif": encoded(grey16.convert("F"), "TIFF"),
        "palette.gif": encoded(rgb.convert("P"), "GIF"),
        "palette-alpha.png": encoded(palette_alpha, "PNG"),
        "rgba.png": encoded(rgb.convert("RGBA"), "PNG"),
        "grey-alpha.png": encoded(rgb.convert("LA"), "PNG"),
        "tiny-1x1.png": encoded(Image.new("RGB", (1, 1), (9, 9, 9)), "PNG"),
        "thin-1x500.bmp": encoded(Image.new("RGB", (1, 500), (200, 0, 0)), "BMP"),
        "animated.gif": encoded(
            rgb.convert("P"), "GIF", save_all=True, append_images=[rgb.convert("P")]
        ),
        "webp.webp": encoded(rgb, "WEBP"),
    }


def bad_files() -> dict[str, bytes]:
    """Files that must be skipped, each named in the report."""
    png, jpg = encoded(Image.fromarray(RGB), "PNG"), encoded(Image.fromarray(RGB), "JPEG")
    return {
        "zero-bytes.png": b"",
        "truncated.png": png[: len(png) // 3],
        "truncated-header.jpg": jpg[:20],
        "text.jpg": b"just some text, not an image\n" * 10,
        "random.png": np.random.default_rng(1).bytes(4096),
        "html.gif": b"<html><body>404 not found</body></html>",
        "bad-crc.png": png[:33] + b"\x00\x00\x00\x00" + png[37:],
        "forged-bomb.png": forged_bomb(),
        "compressed-bomb.png": compressed_bomb(),
    }


def write(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)


def test_a_hostile_folder_is_read_with_every_bad_file_skipped_and_named(tmp_path, capsys):
    good, bad = good_files(), bad_files()
    write(tmp_path, good | bad)
    (tmp_path / "folder.png").mkdir()  # a directory with an image's name
    start = time.perf_counter()
    ds = data.build(DataConfig(name="image-folder", root=str(tmp_path), size=16))
    assert time.perf_counter() - start < 30  # the bombs were not decoded
    assert ds.x.shape == (len(good), 3, 16, 16)
    skipped = {entry.split(" (")[0] for entry in ds.skipped}
    assert skipped == set(bad)
    err = capsys.readouterr().err
    assert f"skipped {len(bad)} unreadable file(s)" in err and "and 4 more" in err


@pytest.mark.parametrize("bomb", [forged_bomb, compressed_bomb])
def test_decompression_bombs_are_refused_before_decoding(tmp_path, bomb):
    (tmp_path / "bomb.png").write_bytes(bomb())
    write(tmp_path, {"ok.png": encoded(Image.fromarray(RGB), "PNG")})
    ds = data.build(DataConfig(name="image-folder", root=str(tmp_path), size=8))
    assert len(ds) == 1 and ds.skipped[0].startswith("bomb.png (")


def test_modes_convert_to_the_asked_channels(tmp_path):
    write(tmp_path, good_files())
    for channels in (1, 3):
        cfg = DataConfig(name="image-folder", root=str(tmp_path), size=12, channels=channels)
        ds = data.build(cfg)
        assert ds.x.shape == (len(good_files()), channels, 12, 12) and not ds.skipped
    grey = data.build(DataConfig(name="image-folder", root=str(tmp_path), size=12, channels=1))
    names = sorted(good_files())
    alpha = grey.x[names.index("rgba.png")]
    assert alpha.float().std() > 10  # laid on white, not a flat image


def mutate(original: bytes, cuts: list[tuple[int, int]], keep: float) -> bytes:
    """Overwrite bytes at a few positions and keep a prefix of the result."""
    b = bytearray(original)
    for position, value in cuts:
        b[position % len(b)] = value
    return bytes(b[: max(0, int(len(b) * keep))])


SEEDS = {
    "png": encoded(Image.fromarray(RGB[:16, :16]), "PNG"),
    "jpg": encoded(Image.fromarray(RGB[:16, :16]), "JPEG"),
    "gif": encoded(Image.fromarray(RGB[:16, :16]).convert("P"), "GIF"),
}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    kind=st.sampled_from(sorted(SEEDS)),
    cuts=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8),
    keep=st.floats(0, 1),
)
def test_mutated_image_bytes_never_crash_the_folder(tmp_path, kind, cuts, keep):
    folder = tmp_path / f"fuzz-{kind}-{abs(hash((tuple(cuts), keep)))}"
    write(folder, {"good.png": SEEDS["png"], f"fuzzed.{kind}": mutate(SEEDS[kind], cuts, keep)})
    ds = data.build(DataConfig(name="image-folder", root=str(folder), size=8))
    assert len(ds) + len(ds.skipped) == 2 and len(ds) >= 1
    assert ds.x.shape[1:] == (3, 8, 8)


def test_training_on_a_hostile_folder_runs_and_reports_the_skips(write_config, tmp_path, capfd):
    write(tmp_path / "images", good_files() | bad_files())
    raw = tiny_digits(steps=2)
    raw["data"] = {"name": "image-folder", "root": str(tmp_path / "images"), "size": 28}
    raw["train"]["batch_size"] = 4
    path = write_config(raw)
    assert main(["train", str(path), "--out", str(tmp_path / "run")]) == 0
    assert f"skipped {len(bad_files())} unreadable" in capfd.readouterr().err
