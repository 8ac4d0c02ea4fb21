#!/usr/bin/env python3
"""The entities medkit-rs's `medkit annotate` found equal those Python medkit's HFEntityMatcher found.

    .venv/bin/python scripts/interop/compare_entities.py PYTHON.jsonl RUST.jsonl

Both files are loaded with Python medkit 0.17 (load_text_documents) and matched document by
document (same uids, same order). In each document the entities must be the same, in the same
order: label, spans, text exactly; the "score" attribute's value within 1e-4 and its metadata
equal. Prints the counts; exits 1 naming the document uid and entity on any difference.
"""
from __future__ import annotations

import sys

from medkit.io.medkit_json import load_text_documents

TOL = 1e-4


def spans(e):
    return [(type(s).__name__, s.start, s.end) if hasattr(s, "start") else (type(s).__name__, s.length)
            for s in e.spans]


def score(e):
    attrs = e.attrs.get(label="score")
    return (attrs[0].value, attrs[0].metadata) if len(attrs) == 1 else (None, None)


def main(argv):
    if len(argv) != 2:
        raise SystemExit(__doc__)
    py_docs = list(load_text_documents(argv[0]))
    rs_docs = list(load_text_documents(argv[1]))
    errors = []
    if [d.uid for d in py_docs] != [d.uid for d in rs_docs]:
        errors.append(f"document uids differ: {len(py_docs)} Python docs, {len(rs_docs)} ours")
    n_py = n_rs = n_same = 0
    worst = 0.0
    docs_with_entities = 0
    for p, r in zip(py_docs, rs_docs):
        pe, re_ = list(p.anns.entities), list(r.anns.entities)
        n_py += len(pe)
        n_rs += len(re_)
        docs_with_entities += bool(pe)
        if p.text != r.text:
            errors.append(f"doc {p.uid}: texts differ")
        if len(pe) != len(re_):
            errors.append(f"doc {p.uid}: {len(pe)} Python entities {[(e.label, e.text) for e in pe]} / "
                          f"{len(re_)} ours {[(e.label, e.text) for e in re_]}")
        for i, (a, b) in enumerate(zip(pe, re_)):
            where = f"doc {p.uid} entity {i} ({a.label!r} {a.text!r})"
            ok = True
            for field, x, y in (("label", a.label, b.label), ("spans", spans(a), spans(b)), ("text", a.text, b.text)):
                if x != y:
                    errors.append(f"{where}: {field} Python {x!r} / ours {y!r}")
                    ok = False
            (sa, ma), (sb, mb) = score(a), score(b)
            if sa is None or sb is None:
                errors.append(f"{where}: score attribute Python {sa!r} / ours {sb!r}")
                ok = False
            else:
                d = abs(sa - sb)
                worst = max(worst, d)
                if not d <= TOL:
                    errors.append(f"{where}: score Python {sa!r} / ours {sb!r} (diff {d:.2e})")
                    ok = False
                if ma != mb:
                    errors.append(f"{where}: score attribute metadata Python {ma!r} / ours {mb!r}")
                    ok = False
            n_same += ok
    print(f"entity interop: {len(py_docs)} docs ({docs_with_entities} with entities), Python HFEntityMatcher "
          f"{n_py} entities, medkit-rs {n_rs}, identical {n_same}; score max abs diff {worst:.2e} (tolerance {TOL})")
    if errors or n_py == 0:
        print(f"FAIL: {len(errors)} difference(s)" + ("" if n_py else "; Python found no entity"))
        for e in errors[:30]:
            print("  " + e)
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main(sys.argv[1:])
