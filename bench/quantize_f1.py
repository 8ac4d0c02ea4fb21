#!/usr/bin/env python3
"""int8 against fp32 annotation on one checkpoint: entity-level F1 and docs/s.

    python3 bench/quantize_f1.py --model CHECKPOINT --test TEST.jsonl [--name ncbi] [--reps 2]
        [--out bench/results/quantize-DATE.json]

For each repetition, alternating fp32 then int8 (`medkit annotate --quantize int8`), at batch 1
and 16: the test documents annotated (their entities dropped first), then scored against the
reference with `medkit evaluate` (seqeval on character tags: entity level; iob2; micro and macro).
Results are appended to --out under --name (other corpora already there are kept).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from cli_log import annotated  # bench/ is the script folder, first on sys.path

ROOT = Path(__file__).resolve().parent.parent
MEDKIT = ROOT / "target" / "release" / "medkit"


def annotate(model: str, test: str, out: Path, batch: int, quantize: str) -> dict:
    cmd = [str(MEDKIT), "--log-level", "info", "annotate", "--model", model, "--input", test,
           "--output", str(out), "--batch-size", str(batch), "--drop-existing-entities",
           "--quantize", quantize]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log, _ = p.communicate()
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{log[-2000:]}")
    done = annotated(log)
    if done is None:
        sys.exit(f"no 'Annotated …' line in the log of {' '.join(cmd)}:\n{log[-2000:]}")
    return done


def f1(test: str, predicted: Path, average: str) -> float:
    r = subprocess.run([str(MEDKIT), "evaluate", "--reference", test, "--predicted", str(predicted),
                        "--scheme", "iob2", "--average", average], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"medkit evaluate failed:\n{r.stderr[-2000:]}")
    m = re.search(rf"(?:{average}|overall)_f1-score\W+([\d.]+)", r.stdout + r.stderr)
    if not m:
        sys.exit(f"no F1 in medkit evaluate's output:\n{(r.stdout + r.stderr)[-2000:]}")
    return float(m.group(1))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--name", default="corpus")
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / f"quantize-{dt.date.today()}.json"))
    a = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="quantize-f1-"))
    runs = {q: {1: [], 16: []} for q in ("none", "int8")}
    scores = {}
    for rep in range(a.reps):
        for batch in (1, 16):
            for q in ("none", "int8"):
                out = work / f"{q}-{batch}.jsonl"
                r = annotate(a.model, a.test, out, batch, q)
                runs[q][batch].append(r)
                if rep == 0:
                    scores[(q, batch)] = {avg: f1(a.test, out, avg) for avg in ("micro", "macro")}
                print(f"rep {rep + 1} batch {batch} {q}: {r} {scores[(q, batch)]}", file=sys.stderr)
    summary = {}
    for q in runs:
        for batch in (1, 16):
            summary[f"{q}_b{batch}"] = {
                "docs_per_s_median": statistics.median(r["docs_per_s"] for r in runs[q][batch]),
                "entities": runs[q][batch][0]["entities"], **{f"f1_{k}": v for k, v in scores[(q, batch)].items()}}
    for batch in (1, 16):
        s32, s8 = summary[f"none_b{batch}"], summary[f"int8_b{batch}"]
        summary[f"int8_vs_fp32_b{batch}"] = {
            "speedup": s8["docs_per_s_median"] / s32["docs_per_s_median"],
            "f1_micro_points": 100 * (s8["f1_micro"] - s32["f1_micro"]),
            "f1_macro_points": 100 * (s8["f1_macro"] - s32["f1_macro"])}
    lscpu = subprocess.run(["sh", "-c", "lscpu | sed -n 's/^Model name: *//p'"], capture_output=True, text=True)
    doc = json.loads(Path(a.out).read_text()) if Path(a.out).exists() else {}
    doc[a.name] = {
        "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip(),
        "cpu": lscpu.stdout.strip(), "loadavg_at_end": os.getloadavg(),
        "model": a.model, "test": a.test, "reps": a.reps, "summary": summary,
        "runs": {q: {str(b): v for b, v in r.items()} for q, r in runs.items()}}
    Path(a.out).write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
