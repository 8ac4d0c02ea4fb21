"""``SeqEvalMetricsComputer`` with medkit 0.17's signature, on the ``seqeval`` plugin."""

from __future__ import annotations

from typing import Dict, Literal

from ..._ops import Operation


class SeqEvalMetricsComputer(Operation):
    """seqeval metrics per epoch (medkit's ``SeqEvalMetricsComputer``): overall precision, recall,
    F1, accuracy and support, and per label when ``return_metrics_by_label``.

    ``id_to_label`` must be the trainable's (the Trainer gives the metrics computer the
    trainable's tags; a different mapping is an error, not silently ignored).
    """

    def __init__(
        self,
        id_to_label: Dict[int, str],
        tagging_scheme: Literal["bilou", "iob2"] = "bilou",
        return_metrics_by_label: bool = True,
        average: Literal["macro", "weighted"] = "macro",
    ):
        if not isinstance(id_to_label, dict):
            raise TypeError(f"id_to_label: expected a dict of int to str, got {type(id_to_label).__name__}")
        super().__init__(
            "seqeval",
            "metrics",
            {
                "tagging_scheme": tagging_scheme,
                "return_metrics_by_label": bool(return_metrics_by_label),
                "average": average,
            },
        )
        self.id_to_label = dict(id_to_label)
        self.tagging_scheme = tagging_scheme
        self.return_metrics_by_label = bool(return_metrics_by_label)
        self.average = average
