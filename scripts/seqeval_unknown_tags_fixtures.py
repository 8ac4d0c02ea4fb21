"""Fixtures for tags Python seqeval 1.2.2 does not know, and a live check against them.

In seqeval's default mode (`mode=None`) `get_entities` reads any tag as prefix = tag[0] and
type = tag[1:].split('-', 1)[-1] or '_', and `warnings.warn('{tag} seems not to be NE tag.')`
for a tag that is neither O/B/I/E/S nor starts with B-/I-/E-/S- (BILOU's L-/U-, X-foo, b-x, -,
...). It still computes. Strict mode raises on such tags (ValueError / KeyError), as does an
empty tag in either mode (IndexError). `medkit seqeval` and the `seqeval` metrics operation must
give the same numbers, the same errors, and the same warnings: each distinct offending tag once,
in the order Python first emits it (y_true's tags in order, then y_pred's), which is what
Python's default warnings filter shows in one process (the message differs per tag, the location
is the same `warnings.warn` line, so each distinct message is shown once).

Usage (seqeval 1.2.2 must be importable; `--venv DIR` or $SEQEVAL_VENV re-runs the script with
DIR/bin/python, e.g. a venv made by
`python3 -m venv /tmp/venv-seqeval && /tmp/venv-seqeval/bin/pip install seqeval==1.2.2`):

  python3 scripts/seqeval_unknown_tags_fixtures.py [--venv DIR] [--out FILE]
      generate the cases (fixed seed) and write the fixture (default:
      plugins/metrics/tests/fixtures/seqeval_unknown_tags.json)
  python3 scripts/seqeval_unknown_tags_fixtures.py [--venv DIR] --check [FIXTURE]
      recompute every case of FIXTURE with the installed seqeval and compare (numbers to 1e-12,
      supports, errors and warnings exactly); prints the differences and exits 1 if there is any,
      0 otherwise (2 on a usage / import problem). Meant for CI as a live check.

Fixture (compact JSON): {"seqeval": "1.2.2", "seed": SEED, "cases": [{"t": y_true, "p": y_pred,
  "m": "default"|"strict", "s": scheme name or null, "z": 0 | 1,
  "r": [[row, precision, recall, f1, support], ...] or null when seqeval raised,
  "a": accuracy or null when accuracy_score raised, "e": true when classification_report raised,
  "w": distinct "... seems not to be NE tag." messages in order of first emission ([] if raised)}]}
NaN (macro average over no label) is written as null. The Rust side is
plugins/metrics/tests/unknown_tags.rs (library and operation) and host/tests/cli.rs (CLI).
"""

import argparse
import json
import math
import os
import random
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "plugins/metrics/tests/fixtures/seqeval_unknown_tags.json"
SEED = 20250112
NB_CASES = 3000
TOLERANCE = 1e-12
NE_WARNING = " seems not to be NE tag."

LABELS = ["A", "B", "PER", "LOC-X"]
# tags seqeval's default mode warns about (or reads oddly), BILOU's L-/U- first
MALFORMED = [
    "L-A", "U-B", "L-PER", "U-LOC-X", "X-foo", "B", "I", "E", "S", "L", "U", "-", "B-", "L-", "U-",
    "b-x", "l-A", "u-PER", "B-A-B", "L-A-B", "B--A", "O-A", ".-A", ".", "BA", "UA", "-A", "--",
    "PER", "\u00c9-A", "B-\u00c9", "O-", "OO", "x", "B- A", "I-A-", "Z",
]


def venv_reexec(venv):
    """Re-runs this script with VENV's python (once: the child sees the marker variable)."""
    python = Path(venv) / "bin" / "python"
    if os.environ.get("_SEQEVAL_FIXTURES_CHILD") == "1":
        return
    if not python.exists():
        sys.exit(f"error: {python} not found (--venv / SEQEVAL_VENV must name a venv directory)")
    env = dict(os.environ, _SEQEVAL_FIXTURES_CHILD="1")
    args = [str(python), str(Path(__file__).resolve())] + sys.argv[1:]
    os.execve(str(python), args, env)


def entity(rng, size, label):
    style = rng.choice(["IOB2", "IOBES", "BILOU", "IOE2", "IOB1"])
    first, mid, last, single = {
        "IOB2": ("B", "I", "I", "B"),
        "IOB1": ("I", "I", "I", "I"),
        "IOE2": ("I", "I", "E", "E"),
        "IOBES": ("B", "I", "E", "S"),
        "BILOU": ("B", "I", "L", "U"),
    }[style]
    if size == 1:
        return [f"{single}-{label}"]
    return [f"{first}-{label}"] + [f"{mid}-{label}"] * (size - 2) + [f"{last}-{label}"]


def well_formed(rng, n):
    tags = []
    while len(tags) < n:
        if rng.random() < 0.35:
            tags.append("O")
            continue
        size = min(rng.randint(1, 3), n - len(tags))
        tags.extend(entity(rng, size, rng.choice(LABELS)))
    return tags


def random_tag(rng, malformed_rate):
    x = rng.random()
    if x < 0.25:
        return "O"
    if x < 0.25 + malformed_rate:
        return rng.choice(MALFORMED)
    return f"{rng.choice('BIESLU')}-{rng.choice(LABELS)}"


def make_case(rng):
    malformed_rate = rng.choice([0.05, 0.2, 0.5])
    y_true, y_pred = [], []
    kind = rng.random()
    for _ in range(rng.randint(1, 4)):
        n = 0 if rng.random() < 0.06 else rng.randint(1, 9)
        if kind < 0.5:
            t = well_formed(rng, n)
            t = [random_tag(rng, 0.6) if rng.random() < 0.15 else x for x in t]
        else:
            t = [random_tag(rng, malformed_rate) for _ in range(n)]
        rate = rng.choice([0.0, 0.1, 0.3, 0.8])
        p = [random_tag(rng, malformed_rate) if rng.random() < rate else x for x in t]
        y_true.append(t)
        y_pred.append(p)
    if rng.random() < 0.01:  # an empty tag: seqeval raises IndexError in both modes
        seq = rng.choice([s for s in y_true + y_pred if s] or [None])
        if seq:
            seq[rng.randrange(len(seq))] = ""
    return y_true, y_pred


def num(x):
    x = float(x)
    return None if math.isnan(x) else x


def run_case(y_true, y_pred, mode, scheme_name, zd):
    from seqeval.metrics import accuracy_score, classification_report
    from seqeval import scheme as schemes

    case = {"t": y_true, "p": y_pred, "m": mode, "s": scheme_name, "z": zd}
    kwargs = {"output_dict": True, "zero_division": zd}
    if mode == "strict":
        kwargs["mode"] = "strict"
        kwargs["scheme"] = getattr(schemes, scheme_name) if scheme_name else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
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
    seen = []
    for w in caught:
        message = str(w.message)
        if message.endswith(NE_WARNING) and message not in seen:
            seen.append(message)
    case["w"] = [] if case["e"] else seen
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            case["a"] = num(accuracy_score(y_true, y_pred))
        except (ZeroDivisionError, IndexError):
            case["a"] = None
    return case


def generate():
    rng = random.Random(SEED)
    cases = []
    strict = [None, "IOB2", "IOBES", "BILOU", "IOB1", "IOE2"]
    for i in range(NB_CASES):
        y_true, y_pred = make_case(rng)
        zd = rng.choice([0, 1])
        if i % 6 == 5:  # strict mode keeps raising on tags its scheme does not know
            cases.append(run_case(y_true, y_pred, "strict", strict[(i // 6) % len(strict)], zd))
        else:
            cases.append(run_case(y_true, y_pred, "default", None, zd))
    return cases


def differences(expected, got):
    """Human-readable differences between a fixture case and its recomputation."""
    out = []
    for key in ("e", "w"):
        if expected[key] != got[key]:
            out.append(f"{key}: fixture {expected[key]!r}, seqeval {got[key]!r}")
    if (expected["r"] is None) != (got["r"] is None):
        out.append(f"r: fixture {expected['r']!r}, seqeval {got['r']!r}")
    elif expected["r"] is not None:
        if [r[0] for r in expected["r"]] != [r[0] for r in got["r"]]:
            out.append(f"rows: fixture {[r[0] for r in expected['r']]}, "
                       f"seqeval {[r[0] for r in got['r']]}")
        else:
            for e, g in zip(expected["r"], got["r"]):
                if e[4] != g[4] or not all(close(a, b) for a, b in zip(e[1:4], g[1:4])):
                    out.append(f"row {e[0]}: fixture {e[1:]}, seqeval {g[1:]}")
    if not close(expected["a"], got["a"]):
        out.append(f"accuracy: fixture {expected['a']!r}, seqeval {got['a']!r}")
    return out


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= TOLERANCE


def check(path):
    fixture = json.loads(Path(path).read_text())
    bad = 0
    for i, case in enumerate(fixture["cases"]):
        got = run_case(case["t"], case["p"], case["m"], case["s"], case["z"])
        diff = differences(case, got)
        if diff:
            bad += 1
            if bad <= 20:
                print(f"case {i} ({case['m']}, t={case['t']}, p={case['p']}):", *diff,
                      sep="\n  ")
    n = len(fixture["cases"])
    print(f"{n - bad}/{n} cases of {path} match this seqeval")
    return 1 if bad else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", default=os.environ.get("SEQEVAL_VENV"),
                        help="venv with seqeval==1.2.2 (default: $SEQEVAL_VENV, else this python)")
    parser.add_argument("--check", nargs="?", const=str(OUT), metavar="FIXTURE",
                        help="recompute FIXTURE's cases and compare; exit 1 on any difference")
    parser.add_argument("--out", default=str(OUT), help="where to write the fixture")
    args = parser.parse_args()
    if args.venv:
        venv_reexec(args.venv)
    try:
        from importlib.metadata import version
        found = version("seqeval")
    except Exception as e:  # noqa: BLE001 - any import/metadata problem is a usage error here
        print(f"error: seqeval is not installed for {sys.executable}: {e}", file=sys.stderr)
        return 2
    if found != "1.2.2":
        print(f"error: seqeval {found} found, 1.2.2 expected", file=sys.stderr)
        return 2
    if args.check:
        return check(args.check)
    cases = generate()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"seqeval": "1.2.2", "seed": SEED, "cases": cases},
                              separators=(",", ":"), ensure_ascii=False))
    errors = sum(c["e"] for c in cases)
    warned = sum(bool(c["w"]) for c in cases)
    print(f"{len(cases)} cases ({errors} where seqeval raises, {warned} with warnings), "
          f"{out.stat().st_size} bytes -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
