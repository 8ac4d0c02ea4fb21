"""medkit 0.17's ``Trainer``: fine-tunes a trainable operation on medkit documents."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from .. import _native
from .._documents import documents_json
from .._ops import Operation, TrainableOperation
from .callbacks import TrainerCallback
from .trainer_config import TrainerConfig


def _as_list(x: Any) -> list:
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


class Trainer:
    """Fine-tunes ``component`` (``HFEntityMatcher.make_trainable(...)`` or any trainable
    operation) on ``train_data``, evaluating on ``eval_data`` each epoch, as medkit's Trainer.

    ``train_data`` / ``eval_data``: any sequence of medkit ``TextDocument`` (a list, a torch
    ``Dataset``). ``metrics_computer``: ``SeqEvalMetricsComputer`` or any metrics operation (or
    a list of them). ``callback``: ``DefaultPrinterCallback`` (the default), a callback
    operation, a Python object with medkit's ``TrainerCallback`` methods, or a list of these.
    ``lr_scheduler_builder``: medkit builds a torch scheduler around its optimizer; here the
    optimizer lives in the plugin, so the schedules are ``TrainerConfig(lr_scheduler=...)``.
    ``optimizer``: the ``[train.optimizer]`` keys (weight_decay, no_decay, betas, eps); None is
    medkit's AdamW.

    ``train()`` returns medkit's history: per epoch ``{"train": {...}, "eval": {...}}``. A Ctrl-C
    stops training at the next step with a resumable checkpoint (``train(resume=True)`` goes on)
    and raises ``KeyboardInterrupt``.
    """

    def __init__(
        self,
        component: TrainableOperation,
        config: TrainerConfig,
        train_data: Sequence[Any],
        eval_data: Sequence[Any],
        metrics_computer: Union[Operation, List[Operation], None] = None,
        lr_scheduler_builder: Any = None,
        callback: Any = None,
        *,
        optimizer: Optional[Mapping[str, Any]] = None,
    ):
        if not isinstance(component, TrainableOperation):
            raise TypeError(
                "component: expected a trainable operation (HFEntityMatcher.make_trainable(...) or "
                f"medkit_rs.operation(name, kind='trainable', ...)), got {type(component).__name__}"
            )
        if not isinstance(config, TrainerConfig):
            raise TypeError(f"config: expected a medkit_rs.training.TrainerConfig, got {type(config).__name__}")
        if lr_scheduler_builder is not None:
            raise TypeError(
                "lr_scheduler_builder: medkit-rs's optimizer lives in the plugin, so a torch scheduler "
                "cannot drive it; set TrainerConfig(lr_scheduler='linear', warmup_ratio=...) or "
                "TrainerConfig(lr_scheduler='plateau', plateau_factor=..., plateau_patience=...)"
            )
        self.component = component
        self.config = config
        self.train_data = train_data
        self.eval_data = eval_data
        self.metrics_computers: List[Operation] = []
        for i, m in enumerate(_as_list(metrics_computer)):
            if not (isinstance(m, Operation) and m.kind == "metrics"):
                raise TypeError(
                    f"metrics_computer[{i}]: expected SeqEvalMetricsComputer or a metrics operation "
                    f"(medkit_rs.operation(name, kind='metrics')), got {type(m).__name__}"
                )
            labels = getattr(m, "id_to_label", None)
            if labels is not None and labels != component.id_to_label:
                raise ValueError(
                    f"metrics_computer: its id_to_label {labels} is not the trainable's "
                    f"{component.id_to_label}"
                )
            self.metrics_computers.append(m)
        self.callbacks: List[Operation] = []
        self.python_callbacks: List[Any] = []
        for i, c in enumerate(_as_list(callback)):
            if isinstance(c, Operation):
                if c.kind != "callback":
                    raise TypeError(f"callback[{i}]: operation '{c.name}' is a {c.kind} operation, not a callback")
                self.callbacks.append(c)
            elif isinstance(c, TrainerCallback) or any(
                callable(getattr(c, m, None)) for m in ("on_epoch_end", "on_train_begin", "on_step_end", "on_save")
            ):
                self.python_callbacks.append(c)
            else:
                raise TypeError(
                    f"callback[{i}]: expected DefaultPrinterCallback, a callback operation or an object "
                    f"with TrainerCallback methods, got {type(c).__name__}"
                )
        self.optimizer = dict(optimizer) if optimizer is not None else None
        #: after ``train()``: the checkpoints it wrote and per-epoch timings
        self.best_checkpoint: Optional[str] = None
        self.last_checkpoint: Optional[str] = None
        self.timings: List[Dict[str, Any]] = []

    def train(self, resume: bool = False) -> List[Dict[str, Dict[str, float]]]:
        """Runs the training; returns the history (per epoch, train and eval metrics)."""
        out = json.loads(
            _native.train(
                self.component._native,
                json.dumps(self.config.to_dict(), ensure_ascii=False),
                None if self.optimizer is None else json.dumps(self.optimizer),
                [m.spec() for m in self.metrics_computers],
                [c.spec() for c in self.callbacks],
                self.python_callbacks,
                documents_json(self.train_data, "train_data"),
                documents_json(self.eval_data, "eval_data"),
                resume,
            )
        )
        self.best_checkpoint = out["best_checkpoint"]
        self.last_checkpoint = out["last_checkpoint"]
        self.timings = out["timings"]
        return out["history"]
