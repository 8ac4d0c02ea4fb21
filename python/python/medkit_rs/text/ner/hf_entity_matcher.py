"""``HFEntityMatcher`` with medkit 0.17's signature, on the ``hf-entity-matcher`` plugin."""

from __future__ import annotations

import os
from typing import Any, Dict, List, Literal, Optional, Union

from ..._ops import NerOperation, TrainableOperation

AggregationStrategy = Literal["none", "simple", "first", "average", "max"]
Device = Union[int, str]


def _device(device: Device) -> Union[int, str]:
    if isinstance(device, bool) or not isinstance(device, (int, str)):
        raise TypeError(f"device: expected an int (-1 = cpu, N = cuda:N) or a str, got {type(device).__name__}")
    return device


def _path(v: Any, what: str) -> Optional[str]:
    if v is None:
        return None
    if not isinstance(v, (str, os.PathLike)):
        raise TypeError(f"{what}: expected a str or a path, got {type(v).__name__}")
    return os.fspath(v)


class HFEntityMatcher:
    """Entities from a HuggingFace token-classification model (medkit's ``HFEntityMatcher``).

    ``run(segments)`` takes medkit ``Segment`` objects (e.g. ``doc.raw_segment``) and returns
    medkit ``Entity`` objects with their ``score`` attribute, spans in the documents' text.
    A list of ``str`` also works: each text's entities, as medkit ``Entity`` objects when medkit
    is installed, else as dicts (label, start, end, text, score).

    Beyond medkit's arguments (keyword only): ``bf16=True`` runs the model in bf16 (the matcher's
    ``bf16`` key: faster on GPUs and CPUs with AVX512-BF16, scores slightly different from
    fp32); ``quantize="int8"`` in dynamic int8 on the CPU (its ``quantize`` key).
    """

    def __init__(
        self,
        model: Union[str, "os.PathLike[str]"],
        aggregation_strategy: AggregationStrategy = "max",
        attrs_to_copy: Optional[List[str]] = None,
        device: Device = -1,
        batch_size: int = 1,
        hf_auth_token: Optional[str] = None,
        cache_dir: Union[str, "os.PathLike[str]", None] = None,
        name: Optional[str] = None,
        uid: Optional[str] = None,
        *,
        bf16: bool = False,
        quantize: Optional[str] = None,
    ):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int):
            raise TypeError(f"batch_size: expected an int, got {type(batch_size).__name__}")
        if not isinstance(bf16, bool):
            raise TypeError(f"bf16: expected a bool, got {type(bf16).__name__}")
        if quantize is not None and not isinstance(quantize, str):
            raise TypeError(f"quantize: expected a str (e.g. 'int8') or None, got {type(quantize).__name__}")
        config: Dict[str, Any] = {
            "model": _path(model, "model"),
            "aggregation_strategy": aggregation_strategy,
            "attrs_to_copy": list(attrs_to_copy or []),
            "device": _device(device),
            "batch_size": batch_size,
        }
        if config["model"] is None:
            raise TypeError("model: expected a model directory or a hub name, got None")
        if hf_auth_token is not None:
            config["hf_auth_token"] = hf_auth_token
        if cache_dir is not None:
            config["cache_dir"] = _path(cache_dir, "cache_dir")
        if bf16:
            config["bf16"] = True
        if quantize is not None:
            config["quantize"] = quantize
        self.model = config["model"]
        self.aggregation_strategy = aggregation_strategy
        self.attrs_to_copy = config["attrs_to_copy"]
        self.device = device
        self.batch_size = batch_size
        self.bf16 = bf16
        self.quantize = quantize
        self.name = name or type(self).__name__
        self.uid = uid
        self._op = NerOperation("hf-entity-matcher", config)

    def run(self, segments):
        """Entities found in ``segments`` (a flat list, in segment order)."""
        return self._op.run(segments)

    @staticmethod
    def make_trainable(
        model_name_or_path: Union[str, "os.PathLike[str]"],
        labels: List[str],
        tagging_scheme: Literal["bilou", "iob2"],
        tag_subtokens: bool = False,
        tokenizer_max_length: Optional[int] = None,
        hf_auth_token: Optional[str] = None,
        device: Device = -1,
    ) -> "HFEntityMatcherTrainable":
        """A trainable matcher (medkit's ``HFEntityMatcher.make_trainable``): loads the model
        with a new classification head for ``labels`` tagged with ``tagging_scheme``."""
        return HFEntityMatcherTrainable(
            model_name_or_path,
            labels,
            tagging_scheme,
            tag_subtokens=tag_subtokens,
            tokenizer_max_length=tokenizer_max_length,
            hf_auth_token=hf_auth_token,
            device=device,
        )


class HFEntityMatcherTrainable(TrainableOperation):
    """medkit's ``HFEntityMatcherTrainable``: give it to ``medkit_rs.training.Trainer``.

    ``id_to_label``, ``label_to_id`` and ``tagging_scheme`` are those of medkit's trainable
    (the cookbook gives them to ``SeqEvalMetricsComputer``).
    """

    def __init__(
        self,
        model_name_or_path: Union[str, "os.PathLike[str]"],
        labels: List[str],
        tagging_scheme: Literal["bilou", "iob2"],
        tag_subtokens: bool = False,
        tokenizer_max_length: Optional[int] = None,
        hf_auth_token: Optional[str] = None,
        device: Device = -1,
        **options: Any,
    ):
        if isinstance(labels, str) or not all(isinstance(x, str) for x in labels):
            raise TypeError("labels: expected a list of str")
        config: Dict[str, Any] = {
            "model_name_or_path": _path(model_name_or_path, "model_name_or_path"),
            "labels": list(labels),
            "tagging_scheme": tagging_scheme,
            "tag_subtokens": bool(tag_subtokens),
            "tokenizer_max_length": tokenizer_max_length,
            "device": _device(device),
            **options,
        }
        if hf_auth_token is not None:
            config["hf_auth_token"] = hf_auth_token
        super().__init__("hf-entity-matcher", config)
        self.model_name_or_path = config["model_name_or_path"]
        self.labels = list(labels)
        self.tagging_scheme = tagging_scheme
        self.tag_subtokens = bool(tag_subtokens)
        self.tokenizer_max_length = tokenizer_max_length
        self.device = device
