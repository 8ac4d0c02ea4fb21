"""What the benchmark scripts read from `medkit annotate`'s log."""
from __future__ import annotations

import re

_ANNOTATED = re.compile(r"Annotated (\d+) documents \((\d+) entities\) in ([\d.]+)s \(([\d.]+) docs/s\)")


def annotated(log: str) -> dict | None:
    """The closing line's figures: docs, entities, seconds, docs_per_s; None if it is absent."""
    m = _ANNOTATED.search(log)
    if not m:
        return None
    return {"docs": int(m.group(1)), "entities": int(m.group(2)), "seconds": float(m.group(3)),
            "docs_per_s": float(m.group(4))}
