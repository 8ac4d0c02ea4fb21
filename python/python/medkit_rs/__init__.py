"""medkit-rs from Python: medkit 0.17's fine-tuning and annotation API on the Rust host.

The names follow medkit's cookbook "Fine-tuning a Transformers model with medkit": change
``medkit`` to ``medkit_rs`` in the imports of ``HFEntityMatcher``, ``Trainer``, ``TrainerConfig``
and ``SeqEvalMetricsComputer``; documents stay medkit ``TextDocument`` objects.

The plugins shipped in this package are loaded at import; ``load_plugins(dir)`` adds third-party
ones, whose operations are then used by name (``operation(name, kind=..., **config)``).
``medkit_rs.spark`` (with pyspark installed) annotates DataFrames on Apache Spark.
"""

import os as _os

# libtorch's OpenMP threads: a short spin between parallel regions, as the `medkit` CLI sets it
# (the default spin makes training several times slower when another process is busy). libgomp
# reads it when first loaded: it has no effect when torch was imported before medkit_rs.
if "OMP_WAIT_POLICY" not in _os.environ and "GOMP_SPINCOUNT" not in _os.environ:
    _os.environ["GOMP_SPINCOUNT"] = "1000"
# oneDNN's cache of primitives, one per input shape (1,024 by default): bounded as the CLI does,
# it saves ~120-380 MB per process at the same speed (a new token count comes at every batch).
_os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "16")

from pathlib import Path as _Path

from . import _native
from ._native import MedkitError

_native.init(_Path(__file__).resolve().parent / "plugins")

from ._ops import (  # noqa: E402
    NerOperation,
    Operation,
    SegmentationOperation,
    TrainableOperation,
    load_plugins,
    operation,
    operations,
    run_pipeline,
)
from .text.ner.hf_entity_matcher import HFEntityMatcher  # noqa: E402
from . import metrics, training  # noqa: E402

__all__ = [
    "HFEntityMatcher",
    "MedkitError",
    "NerOperation",
    "Operation",
    "SegmentationOperation",
    "TrainableOperation",
    "load_plugins",
    "metrics",
    "operation",
    "operations",
    "run_pipeline",
    "training",
]
