"""The CLI answers at once: listing parts or rejecting arguments never imports the heavy libraries
(torchvision pulls torch._dynamo, scipy.stats, matplotlib, the loggers), which cost seconds."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("torchvision", "scipy.stats", "matplotlib", "wandb", "mlflow", "huggingface_hub", "onnx")

PROBE = """
import json, sys
from gankit.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {heavy})))
"""


@pytest.mark.parametrize("argv", [["list"], ["--help"], ["train", "--no-such-flag"], ["train"]])
def test_quick_commands_import_no_heavy_library(argv):
    roots = {h.split(".")[0] for h in HEAVY}
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=sorted(roots)), *argv],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()[-1]
    loaded = set(json.loads(out))
    assert not {h for h in HEAVY if h in loaded}, loaded
