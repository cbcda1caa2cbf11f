"""`gankit.Generator`: an exported generator, saved and loaded the way the Hugging Face Hub does.

A folder holds `config.json` (this class's constructor arguments) and `model.safetensors` (its
weights), as huggingface_hub's PyTorchModelHubMixin lays them out, so a mixin class with the same
constructor loads it too. Local folders need no huggingface_hub; a Hub repository id does (the
`hub` extra).

    g = gankit.Generator.from_pretrained("models/faces")   # or "user/faces" from the Hub
    images = g(torch.randn(16, g.z_dim))                    # in [-1, 1], (16, C, H, W)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from gankit import files, nets
from gankit.errors import BadInput

FORMAT = "gankit-generator"
CONFIG, WEIGHTS = "config.json", "model.safetensors"


class Generator(nn.Module):
    """G(z) or, for a conditional model, G(z, labels) -> samples in the data's range."""

    def __init__(
        self,
        network: str,
        shape: list[int],
        z_dim: int,
        num_classes: int = 0,
        options: dict[str, Any] | None = None,
        class_names: list[str] | None = None,
        kind: str = "image",
        **record: Any,  # format, gankit version, step: kept in config.json, not needed to build
    ) -> None:
        super().__init__()
        self.config = {
            "format": FORMAT,
            "network": network,
            "shape": list(shape),
            "z_dim": z_dim,
            "num_classes": num_classes,
            "options": dict(options or {}),
            "class_names": list(class_names or []),
            "kind": kind,
        } | {k: v for k, v in record.items() if k != "format"}
        self.z_dim, self.num_classes = z_dim, num_classes
        self.net = nets.build(network, "g", tuple(shape), z_dim, num_classes, **(options or {}))

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z) if labels is None else self.net(z, labels)

    def example_inputs(self, n: int = 2) -> tuple[torch.Tensor, ...]:
        """Inputs of the right shapes (n latents, and class 0 labels when conditional)."""
        z = torch.randn(n, self.z_dim)
        return (z, torch.zeros(n, dtype=torch.long)) if self.num_classes else (z,)

    def save_pretrained(self, folder: str | Path) -> dict[str, Path]:
        """Write config.json and model.safetensors (readable as the user's umask allows)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        config, weights = folder / CONFIG, folder / WEIGHTS
        files.write_text_atomic(config, json.dumps(self.config, indent=2))
        files.save_tensors({k: v.contiguous() for k, v in self.state_dict().items()}, weights)
        return {"config": config, "weights": weights}

    @classmethod
    def from_pretrained(cls, source: str | Path, **hub: Any) -> Generator:
        """Load a folder written by `gankit export`, or a Hub repository id (`hub` keywords such
        as revision= or token= go to huggingface_hub.snapshot_download)."""
        folder = Path(source).expanduser()
        if not folder.is_dir():
            folder = _download(str(source), hub)
        try:
            config = json.loads((folder / CONFIG).read_text())
        except (OSError, ValueError) as e:
            raise BadInput(
                f"{folder}/{CONFIG} is missing or unreadable ({type(e).__name__}): "
                f"give a folder written by `gankit export`."
            ) from None
        if not isinstance(config, dict) or config.get("format") != FORMAT:
            raise BadInput(f"{folder}/{CONFIG} is not a gankit generator export.")
        g = cls(**config)
        try:
            g.load_state_dict(load_file(folder / WEIGHTS))
        except (OSError, SafetensorError, RuntimeError) as e:  # missing, truncated, other shapes
            raise BadInput(
                f"{folder}/{WEIGHTS} does not hold this generator's weights "
                f"({type(e).__name__}): export the run again with `gankit export`."
            ) from None
        return g.eval()


def _download(repo: str, hub: dict[str, Any]) -> Path:
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise BadInput(
            f"{repo} is not a folder, and loading from the Hub needs huggingface_hub: "
            f"pip install 'gankit[hub]'."
        ) from None
    from huggingface_hub.errors import HfHubHTTPError, HFValidationError, LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo, **hub))
    except (HfHubHTTPError, HFValidationError, LocalEntryNotFoundError) as e:
        reason = str(e).splitlines()[0][:200]
        raise BadInput(
            f"{repo} is neither a folder nor a Hub repository gankit can fetch ({reason}): "
            f"give a folder written by `gankit export`, or an existing user/name."
        ) from None
