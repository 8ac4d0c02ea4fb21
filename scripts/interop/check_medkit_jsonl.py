#!/usr/bin/env python3
"""Python medkit 0.17 loads medkit JSONL files written by medkit-rs, with identical content.

    .venv/bin/python scripts/interop/check_medkit_jsonl.py [--no-bytes PATH=REASON]... PATH...

For each PATH (any number; called by tests/tests/interop_medkit.rs with every kind of output
medkit-rs writes):
  1. the header line is medkit's `text_document_list` header, version 0.2;
  2. `medkit.io.medkit_json.load_text_documents(PATH)` loads every document;
  3. each loaded document equals the raw JSON line we wrote, field by field, read from the
     medkit objects' attributes (not from their to_dict()): document uid, text, metadata, class;
     each annotation's class (Segment / Entity / Relation), uid, label, text, spans (Span: start,
     end; ModifiedSpan: length, replaced_spans; their classes), source/target ids, metadata; each
     attribute's class, uid, label, value (or the fields of EntityNormAttribute & co), metadata;
     then the object's to_dict() equals the raw JSON (no field dropped or added by medkit);
  4. unless PATH is named by --no-bytes (with the reason, printed), medkit's
     `save_text_documents` of the loaded documents writes our file back byte for byte.
Numbers compare with their JSON type (1 is not 1.0) and NaN equals NaN. Any difference exits 1
naming the file, line, document uid, annotation / attribute uid and field.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile

from medkit.core.text import TextDocument
from medkit.io.medkit_json import load_text_documents, save_text_documents

HEADER = {"version": "0.2", "content_type": "text_document_list"}
MAX_REPORTED = 30


def class_name(obj) -> str:
    t = type(obj)
    return f"{t.__module__}.{t.__qualname__}"


def same(a, b) -> bool:
    """JSON-value equality with types (bool / int / float distinct) and NaN == NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, dict):
        return list(a.keys()) == list(b.keys()) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def short(value, n=240) -> str:
    r = repr(value)
    return r if len(r) <= n else r[:n] + f"... ({len(r)} chars)"


def span_json(span):
    """A medkit span object as the JSON medkit-rs writes, built from its attributes."""
    name = class_name(span)
    if name == "medkit.core.text.span.Span":
        return {"start": span.start, "end": span.end, "_class_name": name}
    if name == "medkit.core.text.span.ModifiedSpan":
        return {"length": span.length, "replaced_spans": [span_json(s) for s in span.replaced_spans],
                "_class_name": name}
    return {"?": repr(span), "_class_name": name}


class Checker:
    def __init__(self):
        self.errors: list[str] = []
        self.counts = {"files": 0, "docs": 0, "anns": 0, "attrs": 0, "spans": 0, "bytes_identical": 0}

    def fail(self, where: str, field: str, ours, medkit):
        self.errors.append(f"{where}: field {field!r} differs: ours {short(ours)} / medkit {short(medkit)}")

    def field(self, where, name, raw: dict, value):
        if name not in raw:
            self.errors.append(f"{where}: field {name!r} missing from our JSON (medkit has {value!r})")
        elif not same(raw[name], value):
            self.fail(where, name, raw[name], value)

    def attr(self, where, raw: dict, a):
        self.counts["attrs"] += 1
        where = f"{where} attr {raw.get('uid')!r}"
        self.field(where, "_class_name", raw, class_name(a))
        for key in raw:
            if key == "_class_name":
                continue
            if not hasattr(a, key):
                self.errors.append(f"{where}: field {key!r} of our JSON is not an attribute of medkit's {class_name(a)}")
                continue
            self.field(where, key, raw, getattr(a, key))
        self.whole(where, raw, a.to_dict())

    def whole(self, where, raw, medkit_dict):
        """to_dict() has the keys of our JSON, in our order, with our values (the nested
        annotations and attributes are compared one by one elsewhere)."""
        keys_ours, keys_medkit = list(raw), list(medkit_dict)
        if keys_ours != keys_medkit:
            self.fail(where, "<keys>", keys_ours, keys_medkit)
            return
        for k in raw:
            if k not in ("anns", "attrs") and not same(raw[k], medkit_dict[k]):
                self.fail(where, f"to_dict()[{k!r}]", raw[k], medkit_dict[k])

    def ann(self, where, raw: dict, a):
        self.counts["anns"] += 1
        where = f"{where} ann {raw.get('uid')!r} ({raw.get('label')!r})"
        name = class_name(a)
        self.field(where, "_class_name", raw, name)
        for key in ("uid", "label", "metadata"):
            self.field(where, key, raw, getattr(a, key))
        if name.endswith(".Relation"):
            self.field(where, "source_id", raw, a.source_id)
            self.field(where, "target_id", raw, a.target_id)
        else:
            self.field(where, "text", raw, a.text)
            spans = [span_json(s) for s in a.spans]
            self.counts["spans"] += len(spans)
            self.field(where, "spans", raw, spans)
        raw_attrs = raw.get("attrs", [])
        attrs = a.attrs.get()
        if len(raw_attrs) != len(attrs):
            self.fail(where, "len(attrs)", len(raw_attrs), len(attrs))
        for ra, ma in zip(raw_attrs, attrs):
            self.attr(where, ra, ma)
        self.whole(where, raw, a.to_dict())

    def doc(self, where, raw: dict, d):
        self.counts["docs"] += 1
        where = f"{where} doc {raw.get('uid')!r}"
        self.field(where, "_class_name", raw, class_name(d))
        for key in ("uid", "text", "metadata"):
            self.field(where, key, raw, getattr(d, key))
        anns = list(d.anns)
        raw_anns = raw.get("anns", [])
        if len(raw_anns) != len(anns):
            self.fail(where, "len(anns)", len(raw_anns), len(anns))
        for ra, ma in zip(raw_anns, anns):
            self.ann(where, ra, ma)
        raw_attrs = raw.get("attrs", [])
        attrs = d.attrs.get()
        if len(raw_attrs) != len(attrs):
            self.fail(where, "len(attrs)", len(raw_attrs), len(attrs))
        for ra, ma in zip(raw_attrs, attrs):
            self.attr(where, ra, ma)
        self.whole(where, raw, d.to_dict())

    def file(self, path: str, no_bytes_reason: str | None):
        self.counts["files"] += 1
        with open(path, "rb") as f:
            ours = f.read()
        lines = ours.decode("utf-8").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        header = json.loads(lines[0]) if lines else None
        if header != HEADER:
            self.fail(f"{path}:1", "header", header, HEADER)
        try:
            docs = list(load_text_documents(path))
        except Exception as e:  # noqa: BLE001 - reported, not raised
            where = path
            for i, line in enumerate(lines[1:], start=2):  # name the first line medkit cannot load
                try:
                    TextDocument.from_dict(json.loads(line))
                except Exception:  # noqa: BLE001
                    where = f"{path}:{i} doc {json.loads(line).get('uid')!r}"
                    break
            self.errors.append(f"{where}: medkit's load_text_documents failed: {type(e).__name__}: {e}")
            return
        if len(docs) != len(lines) - 1:
            self.fail(path, "number of documents", len(lines) - 1, len(docs))
        n_before = len(self.errors)
        for i, (line, d) in enumerate(zip(lines[1:], docs), start=2):
            self.doc(f"{path}:{i}", json.loads(line), d)
        n_docs = len(docs)
        if no_bytes_reason is not None:
            print(f"  {path}: {n_docs} docs loaded; byte comparison not made: {no_bytes_reason}")
            return
        fd, tmp = tempfile.mkstemp(suffix=".jsonl")
        os.close(fd)
        try:
            save_text_documents(docs, tmp)
            with open(tmp, "rb") as f:
                theirs = f.read()
        finally:
            os.remove(tmp)
        if theirs == ours:
            self.counts["bytes_identical"] += 1
            status = "byte for byte identical when medkit saves it again"
        else:
            a, b = ours.split(b"\n"), theirs.split(b"\n")
            for ln, (x, y) in enumerate(zip(a, b), start=1):
                if x != y:
                    col = next((k for k, (p, q) in enumerate(zip(x, y)) if p != q), min(len(x), len(y)))
                    uid = json.loads(x).get("uid") if ln > 1 else None
                    self.errors.append(
                        f"{path}:{ln} doc {uid!r}: medkit's save_text_documents writes other bytes from byte "
                        f"{col}: ours {x[max(0, col - 40):col + 60]!r} / medkit {y[max(0, col - 40):col + 60]!r}")
                    break
            else:
                self.fail(path, "number of lines (bytes)", len(a), len(b))
            status = "BYTES DIFFER"
        if len(self.errors) == n_before:
            print(f"  {path}: {n_docs} docs, content identical; {status}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", help="medkit JSONL files written by medkit-rs")
    ap.add_argument("--no-bytes", action="append", default=[], metavar="PATH=REASON",
                    help="do not require a byte-for-byte save round trip for PATH (the reason is printed)")
    args = ap.parse_args(argv)
    no_bytes = dict(x.split("=", 1) for x in args.no_bytes)
    c = Checker()
    for p in args.paths:
        c.file(p, no_bytes.get(p))
    print("medkit JSONL interop: " + ", ".join(f"{k} {v}" for k, v in c.counts.items()))
    if c.errors:
        print(f"FAIL: {len(c.errors)} difference(s) between our JSONL and what Python medkit 0.17 loads / saves:")
        for e in c.errors[:MAX_REPORTED]:
            print("  " + e)
        if len(c.errors) > MAX_REPORTED:
            print(f"  ... and {len(c.errors) - MAX_REPORTED} more")
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
