"""``Trainer`` and ``TrainerConfig`` with medkit 0.17's names, on the host's trainer loop."""

from .callbacks import DefaultPrinterCallback, TrainerCallback
from .trainer import Trainer
from .trainer_config import TrainerConfig

__all__ = ["DefaultPrinterCallback", "Trainer", "TrainerCallback", "TrainerConfig"]
