"""Generate parity fixtures for the Rust seqeval port from Python seqeval 1.2.2.

Run: /work/.venv-anchor/bin/python scripts/seqeval_fixtures.py
Writes plugins/metrics/tests/fixtures/seqeval_cases.json (compact JSON):
  {"seqeval": "1.2.2", "cases": [{"t": y_true, "p": y_pred, "m": "default"|"strict",
    "s": scheme name or null (strict: auto_detect), "z": 0 | 1 | "warn",
    "r": [[row, precision, recall, f1, support], ...] or null when seqeval raised,
    "a": accuracy or null when seqeval raised, "e": true when classification_report raised}]}
NaN (macro average over no label) is written as null.
"""

import json
import math
import random
import warnings
from pathlib import Path

import seqeval
from seqeval.metrics import accuracy_score, classification_report
from seqeval.scheme import BILOU, IOB1, IOB2, IOBES, IOE1, IOE2

SCHEMES = {"IOB1": IOB1, "IOB2": IOB2, "IOE1": IOE1, "IOE2": IOE2, "IOBES": IOBES, "BILOU": BILOU}
PREFIXES = {
    "IOB1": "IOB", "IOB2": "IOB", "IOE1": "IOE", "IOE2": "IOE", "IOBES": "IOBES", "BILOU": "BILOU",
}
LABELS = ["A", "B", "PER", "LOC-X"]
MEDKIT_OUT = Path(__file__).resolve().parent.parent / "plugins/metrics/tests/fixtures/medkit_metrics.json"
OUT = Path(__file__).resolve().parent.parent / "plugins/metrics/tests/fixtures/seqeval_cases.json"


def well_formed(rng, n, scheme):
    """A valid sequence of `n` tags in `scheme` (entities of 1-3 tokens between O runs)."""
    tags = []
    while len(tags) < n:
        if rng.random() < 0.4:
            tags.append("O")
            continue
        label = rng.choice(LABELS)
        size = min(rng.randint(1, 3), n - len(tags))
        tags.extend(entity(scheme, size, label))
    return tags


def entity(scheme, size, label):
    if scheme in ("IOB2", "IOB1", "DEFAULT"):
        first, mid, last, single = "B", "I", "I", "B"
        if scheme == "IOB1":
            first = single = "I"
    elif scheme in ("IOE2", "IOE1"):
        first, mid, last, single = "I", "I", "E", "E"
        if scheme == "IOE1":
            last = single = "I"
    elif scheme == "IOBES":
        first, mid, last, single = "B", "I", "E", "S"
    else:
        first, mid, last, single = "B", "I", "L", "U"
    if size == 1:
        return [f"{single}-{label}"]
    return [f"{first}-{label}"] + [f"{mid}-{label}"] * (size - 2) + [f"{last}-{label}"]


def random_tag(rng, prefixes, weird=False):
    if rng.random() < 0.3:
        return "O"
    if weird and rng.random() < 0.15:
        return rng.choice(["B", "I", "O-A", "X-A", "B-", "B--A", "B-A-B", "BA", ".-A", "I-"])
    return f"{rng.choice(prefixes)}-{rng.choice(LABELS)}"


def perturb(rng, seq, prefixes, rate):
    out = list(seq)
    for i in range(len(out)):
        if rng.random() < rate:
            out[i] = random_tag(rng, prefixes)
    return out


def make_case(rng, mode, scheme_name):
    prefixes = PREFIXES.get(scheme_name or "IOBES", "IOBES")
    if mode == "default":
        prefixes = rng.choice(["IOB", "IOBES", "IOBESUL"])
    nb_seqs = rng.randint(1, 4)
    y_true, y_pred = [], []
    kind = rng.random()
    for _ in range(nb_seqs):
        n = 0 if rng.random() < 0.08 else rng.randint(1, 9)
        if kind < 0.5:
            t = well_formed(rng, n, scheme_name or "IOB2")
        else:
            t = [random_tag(rng, prefixes, weird=mode == "default") for _ in range(n)]
        p = perturb(rng, t, prefixes, rng.choice([0.0, 0.1, 0.3, 0.8]))
        y_true.append(t)
        y_pred.append(p)
    if rng.random() < 0.02:  # invalid prefix or empty tag: seqeval raises (strict) or warns
        seq = rng.choice([s for s in y_pred if s] or [y_pred[0]])
        if seq:
            seq[rng.randrange(len(seq))] = rng.choice(["Z-A", "U-A", "E-B", ""])
    return y_true, y_pred


def num(x):
    x = float(x)
    return None if math.isnan(x) else x


def run_case(y_true, y_pred, mode, scheme_name, zd):
    case = {"t": y_true, "p": y_pred, "m": mode, "s": scheme_name, "z": zd}
    kwargs = {"output_dict": True, "zero_division": zd}
    if mode == "strict":
        kwargs["mode"] = "strict"
        kwargs["scheme"] = SCHEMES[scheme_name] if scheme_name else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            report = classification_report(y_true, y_pred, **kwargs)
            case["r"] = [
                [row, num(v["precision"]), num(v["recall"]), num(v["f1-score"]), int(v["support"])]
                for row, v in report.items()
            ]
            case["e"] = False
        except (ValueError, KeyError, IndexError, TypeError):
            case["r"] = None
            case["e"] = True
        try:
            case["a"] = num(accuracy_score(y_true, y_pred))
        except (ZeroDivisionError, IndexError):
            case["a"] = None
    return case


def medkit_cases(rng):
    """medkit's own SeqEvalMetricsComputer keys and values (macro/weighted, iob2/bilou)."""
    from medkit.text.metrics.ner import _compute_seqeval_from_dict

    cases = []
    for i in range(120):
        scheme_name = ["iob2", "bilou"][i % 2]
        average = ["macro", "weighted"][(i // 2) % 2]
        by_label = i % 3 != 0
        seqev_scheme = "BILOU" if scheme_name == "bilou" else "IOB2"
        y_true, y_pred = make_case(rng, "strict", seqev_scheme)
        if any(t == "" or t[0] not in PREFIXES[seqev_scheme] for s in y_true + y_pred for t in s):
            continue
        if not any(y_true):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scores = _compute_seqeval_from_dict(y_true, y_pred, scheme_name, by_label, average)
        cases.append({
            "t": y_true, "p": y_pred, "scheme": scheme_name, "average": average, "by_label": by_label,
            "metrics": [[k, num(v)] for k, v in scores.items()],
        })
    return cases


def main():
    assert seqeval.__version__ == "1.2.2" if hasattr(seqeval, "__version__") else True
    rng = random.Random(20240617)
    cases = []
    configs = [("default", None)] + [("strict", s) for s in SCHEMES] + [("strict", None)]
    for i in range(4200):
        mode, scheme_name = configs[i % len(configs)]
        zd = [0, 1, "warn"][rng.randrange(3)] if i % 7 else 1
        y_true, y_pred = make_case(rng, mode, scheme_name)
        cases.append(run_case(y_true, y_pred, mode, scheme_name, zd))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"seqeval": "1.2.2", "cases": cases}, separators=(",", ":")))
    errors = sum(c["e"] for c in cases)
    medkit = medkit_cases(rng)
    MEDKIT_OUT.write_text(json.dumps({"medkit": "0.17.0", "cases": medkit}, separators=(",", ":")))
    print(f"{len(medkit)} medkit SeqEvalMetricsComputer cases -> {MEDKIT_OUT}")
    print(f"{len(cases)} cases ({errors} where seqeval raises), {OUT.stat().st_size} bytes -> {OUT}")


if __name__ == "__main__":
    main()
