"""The engine every recipe shares: the loop, checkpoints, distribution and the run's logs.

The trainer's names are imported lazily, so that low-level modules (data, penalties) can use
`gankit.train.distributed` without importing the whole engine.
"""

from typing import Any

__all__ = ["TrainingError", "pick_device", "train"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from gankit.train import trainer

        return getattr(trainer, name)
    raise AttributeError(name)
