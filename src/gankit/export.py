"""A trained generator in a standard layout, usable without a run directory or without gankit.

    FOLDER/config.json         what to build: network name, options, shapes, classes
    FOLDER/model.safetensors   the generator's weights (the EMA copy when the run has one)
    FOLDER/generator.onnx      optional: z (and labels) -> images, one self-contained file for any
                               ONNX runtime (weights in a generator.onnx.data beside it only for
                               models over ONNX's 2 GB protobuf limit)
    FOLDER/generator.pt2       optional: torch.export's ExportedProgram, for torch.export.load
    FOLDER/README.md, ...      optional (`card=NAME`): a Hugging Face model card (gankit.modelcard)

config.json and model.safetensors follow huggingface_hub's PyTorchModelHubMixin layout;
`gankit.Generator.from_pretrained(FOLDER)` rebuilds the network in one call. `check(FOLDER)` runs
the ONNX and .pt2 files against PyTorch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gankit import __version__
from gankit.errors import BadInput
from gankit.pretrained import Generator

ONNX, PT2 = "generator.onnx", "generator.pt2"
PROTOBUF_LIMIT = 2 * 1024**3  # ONNX files are protobufs: above 2 GB the weights must go outside


def export_generator(
    run: str | Path,
    out: str | Path,
    onnx: bool = False,
    pt2: bool = False,
    ema: bool = True,
    card: str | None = None,
) -> dict[str, Path]:
    """Write a run's generator to `out` in the layout above; returns the files written. With
    `card` (the model's name: a Hub repository id or the folder's name), add the model card."""
    from gankit.api import load

    loaded = load(run)
    cfg, spec = loaded.cfg, loaded.spec
    g = loaded.generator("g", ema)
    generator = Generator(
        network=cfg.nets.g,
        shape=list(spec.shape),
        z_dim=cfg.nets.z_dim,
        num_classes=spec.num_classes if getattr(loaded.recipe, "conditional", False) else 0,
        options=cfg.nets.g_options,
        class_names=list(spec.class_names),
        kind=spec.kind,
        gankit=__version__,
        step=loaded.step,
    )
    try:
        generator.net.load_state_dict(g.state_dict())
    except RuntimeError:
        raise BadInput(
            f"recipe {cfg.recipe}'s generator is not the registry network "
            f"nets.g={cfg.nets.g}: it cannot be exported in this layout."
        ) from None
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BadInput(f"{out} is a file: export writes a folder; give a new --out path.")
    generator.eval()
    files = generator.save_pretrained(out)
    if onnx:
        files["onnx"] = _onnx(generator, out / ONNX)
    if pt2:
        files["pt2"] = _pt2(generator, out / PT2)
    if card:
        from gankit.modelcard import write_card

        files |= write_card(out, Path(run), loaded, generator, card)
    return files


def load_generator(folder: str | Path) -> Generator:
    """The exported generator, in eval mode: G(z) or G(z, labels) -> data in the model's range."""
    return Generator.from_pretrained(folder)


def check(folder: str | Path, n: int = 5, seed: int = 0) -> dict[str, float]:
    """The largest absolute difference between PyTorch's samples and each exported file's, on
    `n` latents (another batch size than the export's example, so dynamic shapes are tried)."""
    folder = Path(folder)
    g = Generator.from_pretrained(folder)
    torch.manual_seed(seed)
    inputs = g.example_inputs(n)
    with torch.no_grad():
        expected = g(*inputs).numpy()
    found = {}
    if (folder / ONNX).is_file():
        import onnxruntime

        session = onnxruntime.InferenceSession(str(folder / ONNX))
        feed = dict(zip(["z", "labels"], (x.numpy() for x in inputs)))
        found["onnx"] = float(np.abs(session.run(None, feed)[0] - expected).max())
    if (folder / PT2).is_file():
        program = torch.export.load(str(folder / PT2)).module()
        with torch.no_grad():
            found["pt2"] = float(np.abs(program(*inputs).numpy() - expected).max())
    if not found:
        raise BadInput(f"{folder} holds no {ONNX} or {PT2} to check: export with --onnx or --pt2.")
    return found


def _dynamic_batch(inputs: tuple[torch.Tensor, ...]) -> tuple[dict[int, object], ...]:
    return tuple({0: torch.export.Dim.DYNAMIC} for _ in inputs)  # any batch size


def _onnx(g: Generator, path: Path) -> Path:
    inputs = g.example_inputs()
    weight_bytes = sum(p.numel() * p.element_size() for p in g.state_dict().values())
    torch.onnx.export(
        g,
        inputs,
        str(path),
        input_names=["z", "labels"][: len(inputs)],
        output_names=["samples"],
        dynamic_shapes=_dynamic_batch(inputs),
        dynamo=True,
        external_data=weight_bytes > PROTOBUF_LIMIT,
        verbose=False,
    )
    return path


def _pt2(g: Generator, path: Path) -> Path:
    inputs = g.example_inputs()
    program = torch.export.export(g, inputs, dynamic_shapes=_dynamic_batch(inputs))
    torch.export.save(program, str(path))
    return path
