"""Plugin operations by name, third-party plugin directories, and TOML pipelines."""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Optional, Tuple

from . import _native

KINDS = ("ner", "tagging-scheme", "metrics", "callback", "trainable", "segmentation")


class Operation:
    """An operation of a loaded plugin: its kind, name and config, checked by the plugin.

    Metrics computers and callbacks are built by the Trainer that uses them; NER and trainable
    operations are built at once (``run`` / ``id_to_label`` are then available).
    """

    def __init__(self, name: str, kind: str, config: Optional[Mapping[str, Any]] = None):
        if kind not in KINDS:
            raise ValueError(f"unknown operation kind {kind!r} (expected one of: {', '.join(KINDS)})")
        self.name = name
        self.kind = kind
        self.config: Dict[str, Any] = dict(config or {})
        self._config_json = json.dumps(self.config, ensure_ascii=False)
        if (kind, name) not in operations():
            known = ", ".join(n for k, n in operations() if k == kind) or "none"
            raise _native.MedkitError(
                f"no {kind} operation named '{name}' is loaded (loaded: {known}); "
                "load its plugin with medkit_rs.load_plugins(dir)"
            )
        filled = _native.validate(kind, name, self._config_json)
        #: the config with the plugin's defaults filled in (None: the plugin does not say)
        self.resolved_config: Optional[Dict[str, Any]] = json.loads(filled) if filled else None

    def spec(self) -> Tuple[str, str]:
        return (self.name, self._config_json)

    def __repr__(self) -> str:
        return f"Operation(kind={self.kind!r}, name={self.name!r}, config={self.config!r})"


class NerOperation(Operation):
    """A NER operation, built at once (its model loaded)."""

    def __init__(self, name: str, config: Optional[Mapping[str, Any]] = None):
        super().__init__(name, "ner", config)
        self._native = _native.Ner(name, self._config_json)

    def run(self, segments):
        """Entities of medkit segments (a flat list of medkit ``Entity``), or, for a list of
        ``str``, of each text (medkit ``Entity`` objects when medkit is installed, else dicts
        with label, start, end, text, score)."""
        from ._documents import entities, has_medkit, segments_json, simple_entities

        if isinstance(segments, str) or not hasattr(segments, "__iter__"):
            raise TypeError(f"run() takes a list of segments, got {type(segments).__name__}")
        segments = list(segments)
        if segments and all(isinstance(s, str) for s in segments):
            found = self._native.run_texts(segments)
            return entities(found) if has_medkit() else [e for t in simple_entities(found) for e in t]
        return entities(self._native.run(segments_json(segments)))


class SegmentationOperation(Operation):
    """A segmentation operation (e.g. ``sentence-tokenizer``), built at once."""

    def __init__(self, name: str, config: Optional[Mapping[str, Any]] = None):
        super().__init__(name, "segmentation", config)
        self._native = _native.Segmentation(name, self._config_json)

    def run(self, texts: List[str]) -> List[List[dict]]:
        """Per text, its segments as medkit ``Segment.to_dict()`` dicts (spans in the text)."""
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise TypeError("run() takes a list of str")
        return [[json.loads(s) for s in segs] for segs in self._native.run_texts(list(texts))]


class TrainableOperation(Operation):
    """A trainable operation, built at once (its model loaded): give it to ``Trainer``."""

    def __init__(self, name: str, config: Optional[Mapping[str, Any]] = None):
        super().__init__(name, "trainable", config)
        self._native = _native.Trainable(name, self._config_json)

    @property
    def id_to_label(self) -> Dict[int, str]:
        """Tag names by id, as medkit's trainable."""
        return dict(enumerate(self._native.id_to_label()))

    @property
    def label_to_id(self) -> Dict[str, int]:
        return {label: i for i, label in self.id_to_label.items()}

    def save(self, path: "str | os.PathLike[str]") -> None:
        """Writes the model (HF layout: config, tokenizer, weights) into ``path``."""
        self._native.save(os.fspath(path))


def operation(name: str, kind: str, **config: Any) -> Operation:
    """A plugin operation by name: ``operation("token-accuracy", kind="metrics")``. NER and
    trainable operations are built at once; metrics computers and callbacks by the Trainer
    that uses them (their config is checked now)."""
    if kind == "ner":
        return NerOperation(name, config)
    if kind == "trainable":
        return TrainableOperation(name, config)
    if kind == "segmentation":
        return SegmentationOperation(name, config)
    return Operation(name, kind, config)


def operations() -> List[Tuple[str, str]]:
    """``(kind, name)`` of every loaded operation."""
    return [tuple(x) for x in _native.operations()]


def load_plugins(directory: "str | os.PathLike[str]") -> int:
    """Loads the plugin libraries of ``directory`` (third-party plugins built against the SDK);
    returns how many new libraries were loaded."""
    return _native.load_plugins(os.fspath(directory))


def _toml_value(key: str, v: Any) -> str:
    if isinstance(v, bool) or isinstance(v, (int, float, str)):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, os.PathLike):
        return json.dumps(os.fspath(v), ensure_ascii=False)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(key, x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(key, x)}" for k, x in v.items()) + "}"
    raise TypeError(f"overrides[{key!r}]: cannot write a {type(v).__name__} as TOML")


def run_pipeline(
    path: "str | os.PathLike[str]",
    overrides: Optional[Mapping[str, Any]] = None,
    *,
    resume: bool = False,
    skip_train: bool = False,
) -> None:
    """``medkit run PATH --set KEY=VALUE…``: runs a TOML pipeline with this process's plugins.

    ``overrides`` maps dotted keys to values (``{"train.trainer.nb_training_epochs": 1}``).
    """
    sets = [f"{k}={_toml_value(k, v)}" for k, v in (overrides or {}).items()]
    _native.run_pipeline(os.fspath(path), sets, resume, skip_train)
