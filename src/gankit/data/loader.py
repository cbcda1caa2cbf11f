"""Endless shuffled batches from a dataset held on the training device.

Under torchrun each rank takes its slice of every global batch (a distributed sampler).

No DataLoader, no worker processes, no per-item Python: one index gather per batch. The order is a
function of (seed, epoch), so the stream's position (epoch, offset) is all a checkpoint needs to
continue it exactly.
"""

from __future__ import annotations

import torch

from gankit.core import distributed
from gankit.data.dataset import Dataset
from gankit.errors import BadInput


class BatchStream:
    def __init__(self, ds: Dataset, batch_size: int, seed: int, device: torch.device) -> None:
        if batch_size > len(ds):
            raise BadInput(
                f"train.batch_size {batch_size} is larger than the dataset ({len(ds)} items): "
                f"lower train.batch_size."
            )
        if batch_size % distributed.world():
            raise BadInput(
                f"train.batch_size {batch_size} (the global batch) does not split evenly over "
                f"{distributed.world()} processes: use a multiple of {distributed.world()}."
            )
        self.ds, self.batch_size, self.seed = ds, batch_size, seed
        self.x = ds.x.to(device)
        self.y = ds.y.to(device) if ds.y is not None else None
        self.epoch, self.offset = 0, 0
        self._order = self._permutation()

    def _permutation(self) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        return torch.randperm(len(self.x), generator=g).to(self.x.device)

    def next(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The next batch: items in the networks' range, and labels (or None)."""
        if self.offset + self.batch_size > len(self.x):  # drop the ragged end of each epoch
            self.epoch, self.offset = self.epoch + 1, 0
            self._order = self._permutation()
        # The global batch's indices; this rank keeps its slice (all of it in one process).
        idx = distributed.shard(self._order[self.offset : self.offset + self.batch_size])
        self.offset += self.batch_size
        x = self.ds.to_model_range(self.x[idx])
        return x, (self.y[idx] if self.y is not None else None)

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "offset": self.offset}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.offset = int(state["epoch"]), int(state["offset"])
        self._order = self._permutation()
