"""medkit 0.17's ``TrainerConfig``, its cookbook's ``log_step_interval``, and medkit-rs's trainer
keys (the ``[train.trainer]`` table of a pipeline: schedules, early stopping, clipping)."""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Dict, Optional, Union


@dataclasses.dataclass
class TrainerConfig:
    """Trainer settings. The first twelve fields are medkit 0.17's, with its defaults."""

    output_dir: Union[str, "os.PathLike[str]"]
    learning_rate: float = 1e-5
    nb_training_epochs: int = 3
    dataloader_nb_workers: int = 0
    batch_size: int = 1
    seed: Optional[int] = None
    gradient_accumulation_steps: int = 1
    do_metrics_in_training: bool = False
    metric_to_track_lr: str = "loss"
    checkpoint_period: int = 1
    checkpoint_metric: str = "loss"
    minimize_checkpoint_metric: bool = True
    #: log the running loss every N steps when no progress bar is drawn (the cookbook's key)
    log_step_interval: Optional[int] = None
    # medkit-rs: the README's [train.trainer] reference documents each key
    lr_scheduler: str = "none"
    warmup_ratio: float = 0.0
    warmup_steps: int = 0
    plateau_factor: float = 0.1
    plateau_patience: int = 0
    plateau_threshold: float = 1e-4
    plateau_threshold_mode: str = "rel"
    plateau_cooldown: int = 0
    plateau_min_lr: float = 0.0
    plateau_mode: Optional[str] = None
    early_stopping_patience: Optional[int] = None
    early_stopping_threshold: float = 0.0
    max_grad_norm: Optional[float] = None
    overwrite_output_dir: bool = False

    def to_dict(self) -> Dict[str, Any]:
        d = dataclasses.asdict(self)
        if not isinstance(self.output_dir, (str, os.PathLike)):
            raise TypeError(f"TrainerConfig.output_dir: expected a str or a path, got {type(self.output_dir).__name__}")
        d["output_dir"] = os.fspath(self.output_dir)
        return d
