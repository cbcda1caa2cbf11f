"""What a folder of images holds, read from the file headers only (no pixel is decoded).

`survey(root)` counts the images, their sides and colour modes, the sub-folders that would become
classes, and the files the image-folder dataset will skip (unreadable, or over its pixel limit), so
that a config can be chosen for the folder before anything is loaded.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from gankit.data.folder import EXTENSIONS
from gankit.errors import BadInput

# PIL modes without colour; a folder of only these trains with one channel.
GREY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}
# Modes the loader converts (alpha laid on white, palettes expanded, 16/32-bit rescaled to 8).
CONVERTED = {
    "RGBA": "with alpha (laid on white)",
    "LA": "with alpha (laid on white)",
    "PA": "with alpha (laid on white)",
    "P": "palette (expanded)",
    "I;16": "16-bit (rescaled to 8)",
    "I;16B": "16-bit (rescaled to 8)",
    "I;16L": "16-bit (rescaled to 8)",
    "I": "32-bit (rescaled to 8)",
    "F": "32-bit (rescaled to 8)",
    "CMYK": "CMYK (converted to RGB)",
}


@dataclass
class Survey:
    root: Path
    sides: list[int] = field(default_factory=list)  # the shorter side of each usable image
    modes: Counter = field(default_factory=Counter)
    folders: Counter = field(default_factory=Counter)  # usable images per sub-folder ("" = root)
    unreadable: list[str] = field(default_factory=list)
    too_large: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.sides)

    @property
    def classes(self) -> list[str]:
        """Sub-folder names, when the images sit in two or more of them (as image-folder reads)."""
        return sorted(self.folders) if len(self.folders) > 1 else []

    @property
    def median_side(self) -> int:
        return int(statistics.median(self.sides)) if self.sides else 0

    @property
    def grey(self) -> bool:
        return bool(self.modes) and all(m in GREY_MODES for m in self.modes)

    def conversions(self) -> dict[str, int]:
        """How many images each conversion will touch, e.g. {"palette (expanded)": 3}."""
        out: Counter = Counter()
        for mode, n in self.modes.items():
            if mode in CONVERTED:
                out[CONVERTED[mode]] += n
        return dict(out)


def survey(root: str | Path, max_pixels: int = 50_000_000) -> Survey:
    """Read every image file's header under `root` (recursively), as the image-folder dataset
    will read the folder; `max_pixels` is its limit on one image."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise BadInput(f"--data {root}: no such folder; give a folder of .png/.jpg images.")
    found = Survey(root)
    for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in EXTENSIONS):
        if not path.is_file():
            continue
        name = path.relative_to(root).as_posix()
        try:
            with Image.open(path) as img:
                width, height, mode = img.width, img.height, img.mode
        except Exception:  # any header PIL cannot read is a file the loader skips
            found.unreadable.append(name)
            continue
        if width * height > max_pixels:
            found.too_large.append(name)
            continue
        found.sides.append(min(width, height))
        found.modes[mode] += 1
        found.folders[path.parent.relative_to(root).as_posix()] += 1
    return found
