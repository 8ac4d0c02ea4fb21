"""medkit objects <-> the JSON text the native module reads and writes (medkit's ``to_dict``)."""

from __future__ import annotations

import json
from typing import Any, Iterable, List, Sequence


def has_medkit() -> bool:
    try:
        import medkit.core.text  # noqa: F401
    except ImportError:
        return False
    return True


def _dumps(d: dict) -> str:
    return json.dumps(d, ensure_ascii=False)


def items(data: Any, what: str) -> List[Any]:
    """The elements of a list, or of a torch ``Dataset`` (``len`` + indexing), in order."""
    if isinstance(data, (str, bytes)) or data is None:
        raise TypeError(f"{what}: expected a sequence of medkit TextDocument, got {type(data).__name__}")
    if hasattr(data, "__len__") and hasattr(data, "__getitem__"):
        return [data[i] for i in range(len(data))]
    try:
        return list(data)
    except TypeError:
        raise TypeError(
            f"{what}: expected a sequence of medkit TextDocument (a list or a torch Dataset), "
            f"got {type(data).__name__}"
        ) from None


def documents_json(data: Any, what: str) -> List[str]:
    """Each document's ``to_dict()`` as JSON text; a non-document names its index."""
    out = []
    for i, doc in enumerate(items(data, what)):
        if not (hasattr(doc, "to_dict") and hasattr(doc, "text") and hasattr(doc, "anns")):
            raise TypeError(f"{what}[{i}]: expected a medkit TextDocument, got {type(doc).__name__}")
        out.append(_dumps(doc.to_dict()))
    return out


def segments_json(segments: Sequence[Any]) -> List[str]:
    out = []
    for i, seg in enumerate(segments):
        if not (hasattr(seg, "to_dict") and hasattr(seg, "spans") and hasattr(seg, "text")):
            raise TypeError(
                f"segments[{i}]: expected a medkit Segment (e.g. doc.raw_segment) or a str, "
                f"got {type(seg).__name__}"
            )
        out.append(_dumps(seg.to_dict()))
    return out


def entities(found: Iterable[Iterable[str]]) -> list:
    """medkit ``Entity`` objects from their ``to_dict`` JSON, in order (a flat list)."""
    from medkit.core.text import Entity

    return [Entity.from_dict(json.loads(e)) for per_segment in found for e in per_segment]


def simple_entities(found: Iterable[Iterable[str]]) -> List[List[dict]]:
    """Per text, its entities as plain dicts: label, start, end, text, score."""
    out = []
    for per_text in found:
        rows = []
        for e in per_text:
            d = json.loads(e)
            spans = d["spans"]
            score = next((a.get("value") for a in d.get("attrs", []) if a.get("label") == "score"), None)
            rows.append(
                {
                    "label": d["label"],
                    "start": spans[0]["start"],
                    "end": spans[-1]["end"],
                    "text": d["text"],
                    "score": score,
                }
            )
        out.append(rows)
    return out
