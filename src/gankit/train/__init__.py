"""The engine every recipe shares: the loop, checkpoints and the run's logs."""

from gankit.train.trainer import TrainingError, pick_device, train

__all__ = ["TrainingError", "pick_device", "train"]
