"""medkit-rs on Apache Spark: annotate a DataFrame of documents, read and write medkit JSONL.

``annotate`` runs ``HFEntityMatcher`` in Spark's Python workers through Arrow batches
(``mapInPandas``); each worker process loads the model once and keeps it for the partitions and
tasks it runs next. ``read_medkit_jsonl`` / ``write_medkit_jsonl`` convert medkit JSONL files to
and from a DataFrame of documents, so that a corpus written by ``medkit convert`` feeds Spark and
Spark's results go back to medkit.

Needs ``pyspark`` (>= 3.5) with pandas and pyarrow on the driver and the executors.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Iterator, List, Optional, Tuple

MEDKIT_HEADER = '{"version": "0.2", "content_type": "text_document_list"}'
DOC_CLASS = "medkit.core.text.document.TextDocument"

#: one row per entity of a document read from medkit JSONL; ``spans``, ``attrs`` and
#: ``metadata`` are medkit's JSON (kept as written, so that the document is written back
#: byte for byte), ``start`` / ``end`` the first and last character of its spans, ``index``
#: its place among the document's annotations
ENTITY_STRUCT = (
    "struct<uid:string,label:string,text:string,start:long,end:long,spans:string,attrs:string,"
    "metadata:string,index:int>"
)
DOCUMENTS_SCHEMA = (
    f"uid string, text string, metadata string, entities array<{ENTITY_STRUCT}>, "
    "other_anns string, attrs string, line long"
)

# the worker process's operations, by config: loaded once, reused by every task it runs
_OPERATIONS: Dict[str, Any] = {}


def _cached(kind: str, config: Dict[str, Any]):
    key = json.dumps([kind, config], sort_keys=True)
    op = _OPERATIONS.get(key)
    if op is None:
        from ._ops import NerOperation, SegmentationOperation

        if kind == "ner":
            op = NerOperation("hf-entity-matcher", config)
        else:
            config = dict(config)
            op = SegmentationOperation(config.pop("operation"), config)
        _OPERATIONS[key] = op
    return op


def _check_on_driver(config: Dict[str, Any], segmentation: Optional[Dict[str, Any]]) -> None:
    """Fails in seconds, before any job, on a config its plugin refuses or a model path that does
    not exist here, without loading the model into the driver (the executors load it)."""
    from ._ops import Operation

    Operation("hf-entity-matcher", "ner", config)
    if segmentation:
        seg = dict(segmentation)
        Operation(seg.pop("operation"), "segmentation", seg)
    model = config["model"]
    # a path, as the plugin tells it from a hub name ("org/name")
    if (model.startswith(("/", ".", "~")) or model.count("/") > 1) and not os.path.isdir(os.path.expanduser(model)):
        raise FileNotFoundError(f"model {model}: no such model directory (the executors need it at this path too)")


def _error(text: Any) -> Optional[str]:
    if not isinstance(text, str):
        return f"text is {type(text).__name__}, not a string" if text is not None else "text is null"
    if not text.strip():
        return "text is empty"
    return None


def annotate(
    df,
    model: str,
    text_col: str = "text",
    id_col: str = "uid",
    aggregation_strategy: str = "max",
    batch_size: int = 16,
    segments: Optional[str] = None,
    device: Any = "cpu",
    threads_per_task: Optional[int] = None,
    on_error: str = "row",
    quantize: Optional[str] = None,
):
    """Entities of each document of ``df``: a DataFrame with one row per entity, columns
    ``<id_col>`` (the input's type), ``label``, ``start``, ``end`` (character offsets in the
    document), ``text``, ``score``, and ``error``.

    A document that cannot be annotated (text null, not a string, empty) gives one row with
    ``error`` set and the entity columns null, unless ``on_error="fail"``, which fails the job.
    ``segments``: None (the whole text, medkit's raw segment, labelled ``RAW_TEXT`` in the
    ``segment`` column), or a segmentation operation run on each text first, by name
    (``"sentence-tokenizer"``) or with its config (``{"operation": "sentence-tokenizer",
    "output_label": "sentence"}``): entities are then found segment by segment, as
    ``medkit annotate --segments LABEL --segmentation OPERATION`` does, and ``segment`` is the
    label of the segment each came from. ``threads_per_task``: libtorch threads per task; default
    ``spark.task.cpus`` (so executors x tasks x threads never exceeds the cores Spark was given).
    ``quantize="int8"`` runs the model in dynamic int8 on CPU executors (the matcher's
    ``quantize`` key: faster, scores slightly different from fp32).
    ``device="cuda"`` runs each task on the GPU (give each task one GPU with
    ``spark.task.resource.gpu.amount=1``).
    """
    from pyspark.sql import types as T

    if on_error not in ("row", "fail"):
        raise ValueError(f"on_error: expected 'row' or 'fail', got {on_error!r}")
    for col in (text_col, id_col):
        if col not in df.columns:
            raise ValueError(f"column {col!r} is not in the DataFrame (columns: {', '.join(df.columns)})")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive int, got {batch_size!r}")
    if threads_per_task is None:
        threads_per_task = int(df.sparkSession.conf.get("spark.task.cpus", "1"))
    config = {
        "model": os.fspath(model),
        "aggregation_strategy": aggregation_strategy,
        "batch_size": batch_size,
        "device": device,
    }
    if quantize is not None:
        config["quantize"] = quantize
    segmentation = None
    if segments is not None:
        segmentation = {"operation": segments} if isinstance(segments, str) else dict(segments)
        if not isinstance(segmentation.get("operation"), str):
            raise ValueError("segments: expected an operation name or a config with an 'operation' key")
    _check_on_driver(config, segmentation)
    id_type = df.schema[id_col].dataType
    schema = T.StructType(
        [
            T.StructField(id_col, id_type),
            T.StructField("label", T.StringType()),
            T.StructField("start", T.LongType()),
            T.StructField("end", T.LongType()),
            T.StructField("text", T.StringType()),
            T.StructField("score", T.DoubleType()),
            T.StructField("segment", T.StringType()),
            T.StructField("error", T.StringType()),
        ]
    )

    def run(batches: Iterator[Any]) -> Iterator[Any]:
        import pandas as pd

        ner = _cached("ner", {**config, "threads": threads_per_task})
        segmenter = _cached("segmentation", segmentation) if segmentation else None
        for pdf in batches:
            ids, texts = list(pdf[id_col]), list(pdf[text_col])
            rows: List[Tuple] = []
            good = [i for i, t in enumerate(texts) if _error(t) is None]
            for i, t in enumerate(texts):
                why = _error(t)
                if why is not None:
                    if on_error == "fail":
                        raise ValueError(f"document {ids[i]!r}: {why}")
                    rows.append((ids[i], None, None, None, None, None, None, why))
            for i, label, entities in _entities(ner, segmenter, good, texts):
                for e in entities:
                    rows.append((ids[i], e["label"], e["start"], e["end"], e["text"], e["score"], label, None))
            yield pd.DataFrame.from_records(rows, columns=schema.fieldNames())

    return df.select(id_col, text_col).mapInPandas(run, schema)


def _entities(ner, segmenter, good: List[int], texts: List[str]):
    """(document index, segment label, its entities as dicts) for the documents ``good``."""
    from ._documents import simple_entities

    if not good:
        return
    if segmenter is None:
        found = simple_entities(ner._native.run_texts([texts[i] for i in good]))
        for i, entities in zip(good, found):
            yield i, "RAW_TEXT", entities
        return
    owners, labels, segments = [], [], []
    for i, segs in zip(good, segmenter._native.run_texts([texts[i] for i in good])):
        for s in segs:
            owners.append(i)
            labels.append(json.loads(s)["label"])
            segments.append(s)
    for i, label, entities in zip(owners, labels, simple_entities(ner._native.run(segments))):
        yield i, label, entities


# ---------------------------------------------------------------------------- medkit JSONL


def _bounds(spans: List[dict]) -> Tuple[Optional[int], Optional[int]]:
    """The first and last document character of medkit spans (a ModifiedSpan by the spans it
    replaces; None when there are none)."""
    points = []
    for s in spans:
        if "start" in s:
            points.append((s["start"], s["end"]))
        else:
            points += [(r["start"], r["end"]) for r in s.get("replaced_spans", [])]
    return (points[0][0], points[-1][1]) if points else (None, None)


def _document_row(line: str, number: int) -> Tuple:
    """A medkit JSONL line as a row of DOCUMENTS_SCHEMA; errors name the line."""
    try:
        d = json.loads(line)
        if not isinstance(d, dict) or d.get("_class_name") != DOC_CLASS:
            raise ValueError(f"not a medkit TextDocument (_class_name {d.get('_class_name') if isinstance(d, dict) else None!r})")
        entities, others = [], []
        for index, a in enumerate(d.get("anns", [])):
            if a.get("_class_name") == "medkit.core.text.annotation.Entity":
                spans = a["spans"]
                start, end = _bounds(spans)
                entities.append(
                    (a["uid"], a["label"], a["text"], start, end,
                     json.dumps(spans, ensure_ascii=False), json.dumps(a["attrs"], ensure_ascii=False),
                     json.dumps(a["metadata"], ensure_ascii=False), index)
                )
            else:
                others.append([index, a])
        attrs = json.dumps(d["attrs"], ensure_ascii=False) if "attrs" in d else None
        return (d["uid"], d["text"], json.dumps(d["metadata"], ensure_ascii=False), entities,
                json.dumps(others, ensure_ascii=False), attrs, number)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as e:
        raise ValueError(f"line {number + 1}: {e}") from None


def read_medkit_jsonl(spark, path: str):
    """A medkit JSONL file (``save_text_documents``, ``medkit convert``) as a DataFrame, one row
    per document: ``uid``, ``text``, ``metadata`` (JSON), ``entities`` (an array of structs:
    uid, label, text, start, end, and medkit's spans / attrs / metadata as JSON), ``other_anns``
    (segments and relations, JSON), ``attrs`` (document attributes, JSON) and ``line`` (the
    document's line in the file, which ``write_medkit_jsonl`` keeps)."""
    path = os.fspath(path)
    if not os.path.exists(path) and "://" not in path:
        raise FileNotFoundError(f"{path}: no such medkit JSONL file")
    lines = spark.sparkContext.textFile(path).zipWithIndex()

    def rows(part):
        for line, number in part:
            if number == 0:
                header = json.loads(line)
                if header.get("content_type") != "text_document_list":
                    raise ValueError(f"{path}: line 1 is not a medkit text_document_list header: {line[:80]}")
                continue
            if line.strip():
                yield _document_row(line, number)

    return spark.createDataFrame(lines.mapPartitions(rows), DOCUMENTS_SCHEMA)


def _document_line(row) -> str:
    anns = [(e["index"] if e["index"] is not None else 1 << 30, i, {
        "uid": e["uid"], "label": e["label"], "text": e["text"], "spans": json.loads(e["spans"]),
        "attrs": json.loads(e["attrs"]) if e["attrs"] else [],
        "metadata": json.loads(e["metadata"]) if e["metadata"] else {},
        "_class_name": "medkit.core.text.annotation.Entity"}) for i, e in enumerate(row["entities"] or [])]
    anns += [(index, -1, a) for index, a in json.loads(row["other_anns"] or "[]")]
    anns.sort(key=lambda x: (x[0], x[1]))
    doc = {"uid": row["uid"], "text": row["text"], "metadata": json.loads(row["metadata"] or "{}"),
           "anns": [a for _, _, a in anns]}
    if row["attrs"] is not None:
        doc["attrs"] = json.loads(row["attrs"])
    doc["_class_name"] = DOC_CLASS
    return json.dumps(doc, ensure_ascii=False)


def write_medkit_jsonl(df, path: str) -> int:
    """Writes a DataFrame of documents (``read_medkit_jsonl``'s columns) as one medkit JSONL
    file, in ``line`` order, atomically (a temporary file renamed at the end); returns the number
    of documents. Rows stream to the driver one partition at a time."""
    path = os.fspath(path)
    missing = [c for c in ("uid", "text", "metadata", "entities", "other_anns", "attrs", "line") if c not in df.columns]
    if missing:
        raise ValueError(f"write_medkit_jsonl: the DataFrame lacks column(s) {', '.join(missing)}")
    tmp = f"{path}.partial"
    n = 0
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(MEDKIT_HEADER + "\n")
        for row in df.orderBy("line").toLocalIterator():
            f.write(_document_line(row) + "\n")
            n += 1
    os.replace(tmp, path)
    return n
