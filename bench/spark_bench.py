#!/usr/bin/env python3
"""medkit_rs.spark against `medkit annotate` on the same documents, checkpoint and cores.

    .venv/bin/python bench/spark_bench.py [--model CHECKPOINT] [--copies 4] [--reps 3]
        [--out bench/results/spark-DATE.json]

Documents: the NCBI-disease test sentences (data/ncbi-disease/test.jsonl) repeated --copies times
(new uids). Without --model, a checkpoint is fine-tuned first (`medkit run`, 1 epoch on 1,000
training sentences: throughput does not depend on how good it is). Per repetition, one after the
other:

  cli        `medkit annotate --batch-size B` (its own docs/s line: the annotation stage, file
             reading and writing included), its peak RSS
  local[1]   a local[1] session, 1 task at a time with 2 libtorch threads
  local[2]   a local[2] session, 2 tasks at a time with 1 libtorch thread each

For Spark: the documents DataFrame is read and cached first; then `annotate(...)` is written to
the `noop` sink twice: the first run includes each Python worker's start and model load, the
second is the steady state (workers reused). Reported: docs/s of both, the overhead per document
against the CLI (steady state: 1/spark_docs_per_s - 1/cli_docs_per_s, and its share of the CLI's
time per document), and the peak RSS (VmHWM) of the Python worker processes.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cli_log import annotated  # bench/ is the script folder, first on sys.path

ROOT = Path(__file__).resolve().parent.parent
MEDKIT = ROOT / "target" / "release" / "medkit"
DATA = ROOT / "data" / "ncbi-disease"
LABELS = ["CompositeMention", "DiseaseClass", "Modifier", "SpecificDisease"]


def log(msg):
    print(f"[spark-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def documents(copies: int, work: Path) -> Path:
    lines = (DATA / "test.jsonl").read_text(encoding="utf-8").splitlines()
    out = work / "docs.jsonl"
    with open(out, "w", encoding="utf-8") as f:
        f.write(lines[0] + "\n")
        for c in range(copies):
            for line in lines[1:]:
                d = json.loads(line)
                d["uid"] = f"{d['uid']}-{c}"
                d["anns"] = []
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
    return out


def fine_tune(work: Path) -> str:
    pipeline = work / "train.toml"
    pipeline.write_text(f"""
[corpus]
train = {json.dumps(str(DATA / "train.jsonl"))}
validation = {json.dumps(str(DATA / "validation.jsonl"))}
max_documents = 1000

[train.trainable]
operation = "hf-entity-matcher"
model_name_or_path = {json.dumps(str(ROOT / ".venv/models/all-MiniLM-L6-v2"))}
labels = {json.dumps(LABELS)}
tagging_scheme = "iob2"
tokenizer_max_length = 128

[train.trainer]
output_dir = {json.dumps(str(work / "model"))}
overwrite_output_dir = true
learning_rate = 1e-4
nb_training_epochs = 1
batch_size = 16
seed = 0
""", encoding="utf-8")
    subprocess.run([str(MEDKIT), "run", str(pipeline)], check=True, capture_output=True)
    return str(sorted((work / "model").glob("checkpoint_*"))[-1])


def run_cli(model: str, docs: Path, batch: int, work: Path) -> dict:
    cmd = [str(MEDKIT), "--log-level", "info", "annotate", "--model", model, "--input", str(docs),
           "--output", str(work / "cli.jsonl"), "--batch-size", str(batch)]
    t0 = time.perf_counter()
    log_path = work / "cli.log"
    with open(log_path, "w") as f:
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT)
        _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    out = log_path.read_text(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("medkit annotate failed:\n" + out[-2000:])
    done = annotated(out)
    if done is None:
        sys.exit("no 'Annotated …' line in medkit annotate's log:\n" + out[-2000:])
    return {**done, "wall_s": wall, "peak_rss_mb": ru.ru_maxrss / 1024.0}


def worker_peak_rss_mb(driver_pid: int) -> list[float]:
    """VmHWM of the Python worker processes (pyspark.daemon / worker) now alive."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == driver_pid:
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if "pyspark" not in cmd or "java" in cmd.split(" ")[0]:
                continue
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        m = re.search(r"VmHWM:\s+(\d+) kB", status)
        if m:
            out.append(int(m.group(1)) / 1024.0)
    return out


def run_spark(master: str, threads: int, model: str, docs: Path, batch: int) -> dict:
    from pyspark.sql import SparkSession

    from medkit_rs import spark as mks

    os.environ["PYSPARK_PYTHON"] = sys.executable
    spark = (SparkSession.builder.master(master).appName("medkit_rs spark bench")
             .config("spark.ui.enabled", "false")
             .config("spark.python.worker.reuse", "true")
             .config("spark.sql.execution.arrow.maxRecordsPerBatch", "1024")
             .getOrCreate())
    try:
        df = mks.read_medkit_jsonl(spark, docs).select("uid", "text")
        parts = int(master.split("[")[1].rstrip("]")) * 2
        df = df.repartition(parts).cache()
        n = df.count()
        runs = []
        for _ in range(2):
            t0 = time.perf_counter()
            mks.annotate(df, model, batch_size=batch, threads_per_task=threads).write.format("noop") \
                .mode("overwrite").save()
            runs.append(time.perf_counter() - t0)
        rss = worker_peak_rss_mb(os.getpid())
        entities = mks.annotate(df, model, batch_size=batch, threads_per_task=threads).count()
    finally:
        spark.stop()
    return {"docs": n, "entities_rows": entities, "first_s": runs[0], "steady_s": runs[1],
            "first_docs_per_s": n / runs[0], "docs_per_s": n / runs[1],
            "worker_peak_rss_mb": max(rss) if rss else None, "workers_seen": len(rss)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None)
    ap.add_argument("--copies", type=int, default=4)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / f"spark-{dt.date.today()}.json"))
    a = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="spark-bench-"))
    docs = documents(a.copies, work)
    model = a.model or fine_tune(work)
    log(f"{docs} ({a.copies} x 1,015 documents), model {model}")
    results = {"cli": [], "local[1]": [], "local[2]": []}
    for rep in range(a.reps):
        for side in results:
            log(f"rep {rep + 1}/{a.reps}: {side}")
            if side == "cli":
                r = run_cli(model, docs, a.batch_size, work)
            else:
                r = run_spark(side, 2 if side == "local[1]" else 1, model, docs, a.batch_size)
            log(f"  {r}")
            results[side].append(r)

    def med(side, key):
        xs = [r[key] for r in results[side] if r.get(key) is not None]
        return statistics.median(xs) if xs else None

    cli = med("cli", "docs_per_s")
    summary = {"cli_docs_per_s": cli, "cli_peak_rss_mb": med("cli", "peak_rss_mb")}
    for side in ("local[1]", "local[2]"):
        s = med(side, "docs_per_s")
        summary[side] = {
            "docs_per_s": s, "first_run_docs_per_s": med(side, "first_docs_per_s"),
            "vs_cli": s / cli, "overhead_ms_per_doc": 1000 * (1 / s - 1 / cli),
            "overhead_share_of_cli_time_per_doc": (1 / s - 1 / cli) * cli,
            "worker_peak_rss_mb": med(side, "worker_peak_rss_mb"),
        }
    summary["local2_vs_local1"] = summary["local[2]"]["docs_per_s"] / summary["local[1]"]["docs_per_s"]
    doc = {"generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
           "command": " ".join(sys.argv), "cpu": platform.processor() or platform.machine(),
           "lscpu_model": subprocess.run(["sh", "-c", "lscpu | sed -n 's/^Model name: *//p'"],
                                         capture_output=True, text=True).stdout.strip(),
           "loadavg_at_end": os.getloadavg(),
           "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                 text=True).stdout.strip(),
           "settings": {"documents": str(docs), "copies": a.copies, "batch_size": a.batch_size, "reps": a.reps},
           "summary": summary, "runs": results}
    Path(a.out).write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
