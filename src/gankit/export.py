"""A trained generator in a standard layout, usable without a run directory or without gankit.

    FOLDER/config.json        what to build: network name, options, shapes, classes
    FOLDER/model.safetensors  the generator's weights (the EMA copy when the run has one)
    FOLDER/generator.onnx     optional: z (and labels) -> images, for any ONNX runtime
    FOLDER/generator.pt       optional: TorchScript, for libtorch / torch.jit.load

`load_generator(FOLDER)` rebuilds the network in one call.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from gankit import __version__, nets
from gankit.errors import BadInput

FORMAT = "gankit-generator"


def export_generator(
    run: str | Path,
    out: str | Path,
    onnx: bool = False,
    torchscript: bool = False,
    ema: bool = True,
) -> dict[str, Path]:
    """Write a run's generator to `out` in the layout above; returns the files written."""
    from gankit.api import load

    loaded = load(run)
    cfg, spec = loaded.cfg, loaded.spec
    g = loaded.generator("g", ema)
    meta = {
        "format": FORMAT,
        "gankit": __version__,
        "network": cfg.nets.g,
        "options": cfg.nets.g_options,
        "shape": list(spec.shape),
        "z_dim": cfg.nets.z_dim,
        "num_classes": spec.num_classes if getattr(loaded.recipe, "conditional", False) else 0,
        "class_names": list(spec.class_names),
        "kind": spec.kind,
        "step": loaded.step,
    }
    rebuilt = _build(meta)
    try:
        rebuilt.load_state_dict(g.state_dict())
    except RuntimeError:
        raise BadInput(
            f"recipe {cfg.recipe}'s generator is not the registry network "
            f"nets.g={cfg.nets.g}: it cannot be exported in this layout."
        ) from None
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(meta, indent=2))
    save_file(
        {k: v.contiguous() for k, v in rebuilt.state_dict().items()}, out / "model.safetensors"
    )
    files = {"config": out / "config.json", "weights": out / "model.safetensors"}
    rebuilt.eval()
    inputs = example_inputs(meta)
    if onnx:
        files["onnx"] = _onnx(rebuilt, inputs, out / "generator.onnx")
    if torchscript:
        files["torchscript"] = out / "generator.pt"
        torch.jit.trace(rebuilt, inputs).save(str(files["torchscript"]))
    return files


def load_generator(folder: str | Path) -> nn.Module:
    """The exported generator, in eval mode: G(z) or G(z, labels) -> data in the model's range."""
    folder = Path(folder)
    try:
        meta = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError) as e:
        raise BadInput(
            f"{folder}/config.json is missing or unreadable ({type(e).__name__}): "
            f"give a folder written by `gankit export`."
        ) from None
    if meta.get("format") != FORMAT:
        raise BadInput(f"{folder}/config.json is not a gankit generator export.")
    g = _build(meta)
    g.load_state_dict(load_file(folder / "model.safetensors"))
    return g.eval()


def example_inputs(meta: dict) -> tuple[torch.Tensor, ...]:
    z = torch.randn(2, meta["z_dim"])
    return (z, torch.zeros(2, dtype=torch.long)) if meta["num_classes"] else (z,)


def _build(meta: dict) -> nn.Module:
    return nets.build(
        meta["network"],
        "g",
        tuple(meta["shape"]),
        meta["z_dim"],
        meta["num_classes"],
        **meta["options"],
    )


def _onnx(g: nn.Module, inputs: tuple[torch.Tensor, ...], path: Path) -> Path:
    names = ["z", "labels"][: len(inputs)]
    batch = {0: torch.export.Dim.DYNAMIC}  # any batch size
    torch.onnx.export(
        g,
        inputs,
        str(path),
        input_names=names,
        output_names=["samples"],
        dynamic_shapes=tuple(batch for _ in inputs),
        dynamo=True,
        verbose=False,
    )
    return path
