"""A gankit recipe on a toy, from a plain dict: the labs drive the real engine step by step."""

from __future__ import annotations

from typing import Any

import torch

from gankit import config, data
from gankit.data import BatchStream
from gankit.recipes import Recipe
from gankit.train.trainer import build_recipe


def ring_config(**sections: dict[str, Any]) -> dict[str, Any]:
    """configs/ring.yaml's setup (8 Gaussians, MLPs of 128 x 3), with sections overridden."""
    raw: dict[str, Any] = {
        "data": {"name": "ring", "options": {"n": 20_000}},
        "nets": {
            "g": "mlp",
            "d": "mlp",
            "z_dim": 2,
            "g_options": {"hidden": [128, 128, 128]},
            "d_options": {"hidden": [128, 128, 128], "activation": "leaky_relu"},
        },
        "optim": {"lr_g": 1e-3, "lr_d": 1e-3},
        "train": {"batch_size": 256, "progress": False},
    }
    for key, value in sections.items():
        raw[key] = raw.get(key, {}) | value
    return raw


def build(raw: dict[str, Any]) -> tuple[Recipe, BatchStream, data.Dataset]:
    """The recipe, its batch stream and the dataset of a config dict, on the CPU."""
    cfg = config.from_dict(raw)
    ds = data.build(cfg.data)
    recipe = build_recipe(cfg, ds.spec, torch.device("cpu"))
    stream = BatchStream(ds, cfg.train.batch_size, cfg.train.seed, torch.device("cpu"))
    return recipe, stream, ds
