"""Trainer callbacks: ``DefaultPrinterCallback`` (the ``default-printer`` plugin, medkit's log
lines) and ``TrainerCallback``, the base of callbacks written in Python (medkit's methods)."""

from __future__ import annotations

from typing import Any, Dict, Optional

from .._ops import Operation


class DefaultPrinterCallback(Operation):
    """medkit's ``DefaultPrinterCallback``: per epoch the train and eval metrics, the epoch's
    time and where the checkpoint went, through ``logging`` (logger ``medkit_plugin_callbacks``);
    a progress bar on a terminal, else a log line every ``log_step_interval`` steps."""

    def __init__(self, log_step_interval: Optional[int] = None, progress_bar: bool = True):
        config: Dict[str, Any] = {"progress_bar": bool(progress_bar)}
        if log_step_interval is not None:
            config["log_step_interval"] = log_step_interval
        super().__init__("default-printer", "callback", config)


class TrainerCallback:
    """Base of callbacks written in Python, with medkit's ``TrainerCallback`` methods. The
    Trainer calls each method the subclass defines; phases are ``"train"`` / ``"eval"``."""

    def on_train_begin(self, config: Dict[str, Any]) -> None:
        """``config``: the trainer config as the run resolved it."""

    def on_train_end(self) -> None:
        pass

    def on_epoch_begin(self, epoch: int) -> None:
        pass

    def on_epoch_end(self, metrics: Dict[str, Dict[str, float]], epoch: int, epoch_duration: float) -> None:
        """``metrics``: ``{"train": {...}, "eval": {...}}``."""

    def on_step_begin(self, step_idx: int, nb_batches: int, phase: str) -> None:
        pass

    def on_step_end(self, step_idx: int, nb_batches: int, phase: str) -> None:
        pass

    def on_save(self, checkpoint_dir: str) -> None:
        pass
