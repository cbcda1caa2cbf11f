"""Image folders with hostile shapes and names: bounded memory, one clean line per skip."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
from PIL import Image

from gankit import data
from gankit.config import DataConfig
from gankit.data.folder import load_image

# Peak RSS growth of loading each image, measured in a fresh process (this one's peak is history).
PEAK = """
import json, resource, sys
from pathlib import Path
from gankit.data.folder import load_image
out = {}
for name in sys.argv[1:]:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    array = load_image(Path(name), 28, 3, 50_000_000)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out[name] = [(after - before) * 1024, list(array.shape)]
print(json.dumps(out))
"""


def test_thin_images_are_cropped_before_they_are_resized(tmp_path):
    """A 1 x 300,000 strip (a few hundred bytes of PNG) raised peak memory by 1 GB when the whole
    strip was resized to 28 px across before the crop; 1 x 1,000,000 ran out of memory."""
    names = []
    for w, h in ((1, 300_000), (1_000_000, 1), (2, 1_000_000)):
        path = tmp_path / f"thin-{w}x{h}.png"
        Image.new("L", (w, h), 128).save(path)
        assert path.stat().st_size < 20_000
        names.append(str(path))
    done = subprocess.run(
        [sys.executable, "-c", PEAK, *names], capture_output=True, text=True, check=True
    )
    for name, (grown, shape) in json.loads(done.stdout).items():
        assert shape == [28, 28, 3], name
        assert grown < 64 * 2**20, f"{name}: peak RSS grew {grown / 2**20:.0f} MB"


def test_a_thin_image_keeps_the_centre_as_before(tmp_path):
    """Cropping first keeps the same pixels as resize-then-crop did (a gradient strip)."""
    strip = Image.linear_gradient("L").resize((40, 256))
    path = tmp_path / "strip.png"
    strip.save(path)
    got = load_image(path, 28, 1, 10**6)[:, :, 0].astype(int)
    scale = 28 / 40
    full = strip.resize((28, round(256 * scale)), Image.Resampling.BICUBIC)
    top = (full.height - 28) // 2
    want = np.asarray(full.crop((0, top, 28, top + 28))).astype(int)
    diff = abs(got - want).max()
    assert diff <= 2, diff  # bicubic taps at the box edge may differ by a level or two


def test_skip_messages_escape_control_characters_in_names(tmp_path, capsys):
    root = tmp_path / "imgs"
    root.mkdir()
    Image.new("RGB", (32, 32), (10, 200, 30)).save(root / "good.png")
    (root / "evil\x1b[2J\nname.png").write_bytes(b"not an image")
    data.build(DataConfig(name="image-folder", root=str(root), size=16))
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "\x1b" not in err and "evil\\x1b[2J\\nname.png" in err
