"""Datasets by name. Each builder returns a `Dataset` held in memory, ready for on-device batching.

Builders share one signature: `builder(cfg: DataConfig, split: str, **options) -> Dataset`, where
`options` come from the config's `data.options` and are checked against the builder's keywords.
"""

from gankit.data.dataset import DATASETS, Dataset, DataSpec, build
from gankit.data.loader import BatchStream

# Importing the modules registers their datasets.
from gankit.data import folder, toy, vision  # noqa: E402,F401  isort: skip
from gankit.data import stacked  # noqa: E402,F401  isort: skip
from gankit.data import translation  # noqa: E402,F401  isort: skip
from gankit.data import captions, grammar, table  # noqa: E402,F401  isort: skip
from gankit.data import photos  # noqa: E402,F401  isort: skip

__all__ = ["DATASETS", "BatchStream", "DataSpec", "Dataset", "build"]
