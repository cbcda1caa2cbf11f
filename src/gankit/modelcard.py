"""The model card of a shared generator: README.md in the Hugging Face format (YAML metadata, then
what was trained on what, for how long, how well, and how to reproduce it), a sample grid, and the
run's config so the reproducing command works as written.

Metrics come from the run's newest evaluation (`gankit eval RUN`, or eval.at_end), each beside its
real-data floor, with the protocol record that says how they were measured; a run never evaluated
says so instead of showing numbers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import yaml

from gankit import files
from gankit.pretrained import Generator
from gankit.train.runlog import read

CARD, GRID, CONFIG = "README.md", "samples.png", "gankit-config.yaml"


def write_card(folder: Path, run: Path, loaded: Any, g: Generator, name: str) -> dict[str, Path]:
    """Write README.md, the sample grid (image models) and gankit-config.yaml into `folder`;
    `name` is what users load: a Hub repository id, or the folder's name."""
    cfg = loaded.cfg
    written = {"card": folder / CARD, "config_yaml": folder / CONFIG}
    files.write_text_atomic(folder / CONFIG, (run / "config.yaml").read_text())
    if g.config["kind"] == "image":
        written["grid"] = _grid(g, folder / GRID)
    tags = ["gan", "gankit", "pytorch_model_hub_mixin", "model_hub_mixin", cfg.recipe]
    conditional = g.num_classes > 0
    averaged = loaded.generator("g") is not loaded.recipe.modules["g"]  # the run keeps an EMA
    meta = {
        "library_name": "gankit",
        "tags": tags,
        "pipeline_tag": "unconditional-image-generation" if not conditional else None,
    }
    meta = {k: v for k, v in meta.items() if v is not None}
    shape = "x".join(map(str, g.config["shape"]))
    data = cfg.data.name + (f" (folder `{Path(cfg.data.root).name}`)" if cfg.data.root else "")
    lines = [
        "---",
        yaml.safe_dump(meta, sort_keys=False).strip(),
        "---",
        "",
        f"# {name}",
        "",
        cfg.description or f"A {cfg.recipe} GAN trained with gankit.",
        "",
        "| | |",
        "|---|---|",
        f"| recipe | `{cfg.recipe}` (loss `{cfg.loss.name}`) |",
        f"| generator | `{cfg.nets.g}` {json.dumps(cfg.nets.g_options)}, z_dim {cfg.nets.z_dim} |",
        f"| data | {data}, samples {shape} |",
        f"| classes | {', '.join(g.config['class_names']) if conditional else 'none'} |",
        f"| steps | {loaded.step} generator steps, batch {cfg.train.batch_size} |",
        f"| weights | {'EMA of G' if averaged else 'G'} |",
        "",
    ]
    if "grid" in written:
        lines += ["![samples, seed 0](samples.png)", ""]
    lines += _metrics(run) + _usage(g, name)
    files.write_text_atomic(folder / CARD, "\n".join(lines) + "\n")
    return written


def _metrics(run: Path) -> list[str]:
    evaluated = [r for r in read(run) if "protocol" in r]
    if not evaluated:
        return [
            "## Metrics",
            "",
            "Not evaluated: run `gankit eval RUN` before exporting to add them here.",
            "",
        ]
    last = evaluated[-1]
    rows = [
        f"| {key} | {last[key]:.4g} | {last[key + '_floor']:.4g} |"
        for key in last
        if isinstance(last.get(key), (int, float))
        and isinstance(last.get(key + "_floor"), (int, float))
    ]
    return [
        "## Metrics",
        "",
        f"At step {last.get('step')}. The floor is the same metric for held-out real data against "
        "the reference: the best a generator can get under this protocol.",
        "",
        "| metric | value | floor |",
        "|---|---|---|",
        *rows,
        "",
        "Protocol record:",
        "",
        "```json",
        json.dumps(last["protocol"], indent=2),
        "```",
        "",
    ]


def _usage(g: Generator, name: str) -> list[str]:
    labels = ", torch.zeros(16, dtype=torch.long)" if g.num_classes else ""
    return [
        "## Use",
        "",
        "```python",
        "import torch, gankit",
        f'g = gankit.Generator.from_pretrained("{name}")  # a folder or a Hub repository id',
        f"images = g(torch.randn(16, {g.z_dim}){labels})  # in [-1, 1]",
        "```",
        "",
        "## Reproduce",
        "",
        "```bash",
        f"gankit train {CONFIG} --out runs/{name.rpartition('/')[2]}",
        "```",
        "",
        f"`{CONFIG}` is the run's resolved config (seed included); a CPU run with the same seed "
        "repeats exactly.",
    ]


def _grid(g: Generator, path: Path) -> Path:
    from torchvision.utils import save_image  # slow import: only when a card is written

    torch.manual_seed(0)
    z, *labels = g.example_inputs(16)
    if labels:  # a spread of the classes rather than 16 of class 0
        labels = [torch.arange(16) % g.num_classes]
    with torch.no_grad():
        images = g(z, *labels)
    save_image(images, path, nrow=4, normalize=True, value_range=(-1, 1), padding=1)
    return path
