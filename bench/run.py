#!/usr/bin/env python3
"""Side-by-side benchmark: medkit-rs (target/release/medkit) against Python medkit 0.17.

One run, one machine: for each repetition both implementations fine-tune the same model on the
same corpus with the same hyperparameters, then annotate the test split at batch size 1
(HFEntityMatcher's default) and 16 and score it. The two alternate (R P, P R, R P, ... so that a
drift of the machine's speed hits both alike). Reported per implementation: median and min/max of

  train_tokens_per_s   non-padding tokens (attention-mask ones, special tokens included) per second
                       of pure training time (forward + backward + optimizer, all epochs)
  train_examples_per_s training examples per second of the same time
  train_s_per_epoch    that time divided by the epochs
  eval_s               eval phase per epoch (eval loop + metrics)
  annotate_b1_docs_per_s, annotate_b16_docs_per_s   test-split annotation throughput
  peak_rss_mb          peak resident memory of the training process (and of the batch-16
                       annotation process for Rust, which runs it separately)
  wall_s               wall time of the whole run (process start to end, all stages)
  eval_f1              macro F1 (seqeval, iob2) on the validation split after the last epoch
  test_f1_b1, test_f1_b16  token-level macro F1 of the test annotations (the model's tokenizer)
  train_tflops, mfu    achieved training FLOP/s on non-padding tokens, and its fraction of the
                       measured fp32 GEMM peak (see bench/probe.py and BENCHMARKS.md for the model);
                       with --rust-bf16 (--python-bf16) on a bf16 CPU, also that side's
                       mfu_vs_bf16_peak (the bf16 GEMM peak)

The result file records the CPU model and its AVX-512 / AMX / VNNI flags, and the fp32 (and, on a
CPU with AMX or AVX512-BF16, bf16) GEMM peaks. --rust-quantize int8 annotates with the int8 model.

and the Rust/Python ratios (speedups for times and throughputs, R/P for memory, R-P for F1).
Markdown on stdout, JSON in --out (other workloads already in that file are kept).

Usage: python3 bench/run.py [--quick] [--reps 3] [--python PATH] [--out bench/results/latest.json]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from cli_log import annotated  # bench/ is the script folder, first on sys.path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LABELS = ["CompositeMention", "DiseaseClass", "Modifier", "SpecificDisease"]
PIP_PACKAGES = ["torch==2.11.0", "medkit-lib[training,hf-entity-matcher,metrics-ner]==0.17.0"]

# figure -> (how the ratio is formed, unit, label for the table)
FIGURES = {
    "train_tokens_per_s": ("R/P", "tok/s", "train non-padding tokens/s"),
    "train_examples_per_s": ("R/P", "ex/s", "train examples/s"),
    "train_s_per_epoch": ("P/R", "s", "train s per epoch"),
    "eval_s": ("P/R", "s", "eval s per epoch"),
    "annotate_b1_docs_per_s": ("R/P", "docs/s", "annotation docs/s, batch 1"),
    "annotate_b16_docs_per_s": ("R/P", "docs/s", "annotation docs/s, batch 16"),
    "peak_rss_mb": ("R/P", "MB", "peak RSS (MB)"),
    "wall_s": ("P/R", "s", "wall time of the whole run (s)"),
    "train_tflops": ("R/P", "TFLOP/s", "training TFLOP/s (non-padding)"),
    "mfu": ("R/P", "", "MFU vs measured fp32 GEMM peak"),
    "eval_f1": ("R-P", "", "eval macro F1 (last epoch)"),
    "test_f1_b1": ("R-P", "", "test macro F1, token level, batch 1"),
    "test_f1_b16": ("R-P", "", "test macro F1, token level, batch 16"),
}
RATIO_MEANING = {
    "R/P": "Rust / Python (higher = Rust faster; for peak_rss_mb lower = Rust leaner)",
    "P/R": "Python / Rust time = Rust speedup",
    "R-P": "Rust minus Python",
}


# ---------------------------------------------------------------------------- helpers

def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run_proc(cmd: list[str], log_path: Path, env: dict | None = None, timeout: float | None = None,
             cwd: Path | None = None) -> dict:
    """Runs cmd (stdout+stderr to log_path); returns rc, wall seconds and the child's peak RSS."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as logf:
        logf.write("$ " + " ".join(shlex.quote(c) for c in cmd) + "\n")
        logf.flush()
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                             start_new_session=True)
        timed_out = False
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if timeout is not None and time.perf_counter() - t0 > timeout:
                timed_out = True
                os.killpg(p.pid, signal.SIGKILL)
                pid, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
    return {"rc": p.returncode, "wall_s": wall, "peak_rss_mb": ru.ru_maxrss / 1024.0,
            "timed_out": timed_out, "log": str(log_path)}


def tail(path: str, n: int = 15) -> str:
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def median_min_max(values: list[float]) -> dict:
    vals = [v for v in values if v is not None]
    if not vals:
        return {"median": None, "min": None, "max": None, "n": 0, "values": values}
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals),
            "values": values}


def cmd_out(cmd: list[str], cwd: Path | None = None) -> str | None:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=60,
                              check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def write_subset(src: Path, dst: Path, max_docs: int | None) -> int:
    """Copies a medkit JSONL file (header line + documents), keeping the first max_docs docs."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as g:
        for line in f:
            if not line.strip():
                continue
            is_doc = '"_class_name"' in line and json.loads(line).get("text") is not None
            if is_doc:
                if max_docs is not None and n >= max_docs:
                    break
                n += 1
            g.write(line if line.endswith("\n") else line + "\n")
    return n


# ---------------------------------------------------------------------------- python venv

def ensure_python(arg: str | None) -> str:
    """The Python with medkit 0.17: --python, $MEDKIT_BENCH_PYTHON, else bench/.venv-medkit
    (created and filled with the pinned packages when missing)."""
    check = ("import torch, transformers, seqeval, medkit.training; "
             "from importlib.metadata import version; "
             "assert version('medkit-lib') == '0.17.0', version('medkit-lib'); "
             "assert torch.__version__.split('+')[0] == '2.11.0', torch.__version__")
    chosen = arg or os.environ.get("MEDKIT_BENCH_PYTHON")
    if chosen:
        if subprocess.run([chosen, "-c", check]).returncode != 0:
            sys.exit(f"{chosen}: lacks torch 2.11.0 / medkit-lib 0.17.0 / transformers / seqeval")
        return chosen
    venv = BENCH / ".venv-medkit"
    py = venv / "bin" / "python"
    if py.exists() and subprocess.run([str(py), "-c", check], capture_output=True).returncode == 0:
        return str(py)
    log(f"creating {venv} with {' '.join(PIP_PACKAGES)} (PyPI's torch is the ~5 GB CUDA build)")
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
    subprocess.run([str(py), "-m", "pip", "install", *PIP_PACKAGES], check=True)
    if subprocess.run([str(py), "-c", check]).returncode != 0:
        sys.exit(f"{py}: the installed packages do not pass the version check")
    return str(py)


# ---------------------------------------------------------------------------- rust side

def rust_pipeline(a, splits: dict, work: Path) -> str:
    dev = a.device
    return f"""# generated by bench/run.py
[corpus]
train = {json.dumps(str(splits['train']))}
validation = {json.dumps(str(splits['validation']))}
test = {json.dumps(str(splits['test']))}

[train.trainable]
operation = "hf-entity-matcher"
model_name_or_path = {json.dumps(str(a.model))}
labels = {json.dumps(LABELS)}
tagging_scheme = {json.dumps(a.scheme)}
tag_subtokens = false
tokenizer_max_length = {a.max_length}
device = {json.dumps(dev)}
bf16 = {str(a.rust_bf16).lower()}

[train.trainer]
output_dir = {json.dumps(str(work / 'out'))}
overwrite_output_dir = true
learning_rate = {a.lr!r}
nb_training_epochs = {a.epochs}
batch_size = {a.batch_size}
seed = {a.seed}
checkpoint_period = 1

[train.metrics]
operation = "seqeval"
tagging_scheme = {json.dumps(a.scheme)}
average = "macro"
return_metrics_by_label = true

[[train.callbacks]]
operation = "default-printer"
log_step_interval = 50

[annotate]
input = "test"
output = {json.dumps(str(work / 'test-annotated-b1.jsonl'))}
batch_size = 64  # documents per call, as `medkit annotate`; the model runs them one at a time
drop_existing_entities = true

[annotate.matcher]
operation = "hf-entity-matcher"
model = "@last"
aggregation_strategy = "max"
batch_size = 1
device = {json.dumps(dev)}
bf16 = {str(a.rust_bf16).lower()}
quantize = {json.dumps(a.rust_quantize)}

[[evaluate]]
name = "test (token level)"
reference = "test"
predicted = "@annotate"
tokenizer = "@model"
scheme = {json.dumps(a.scheme)}
average = "macro"
by_label = true
output = {json.dumps(str(work / 'test-metrics-b1.json'))}
"""


def run_rust(a, splits: dict, work: Path, env: dict, timeout: float | None) -> dict:
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    cfg = work / "pipeline.toml"
    cfg.write_text(rust_pipeline(a, splits, work))
    base = [str(a.medkit_bin), "--plugin-dir", str(a.plugin_dir)]
    t0 = time.perf_counter()
    r = run_proc(base + ["run", str(cfg)], work / "run.log", env=env, timeout=timeout)
    res = {"ok": False, "procs": {"run": r}}
    if r["rc"] != 0:
        res["error"] = f"medkit run exited {r['rc']}{' (timeout)' if r['timed_out'] else ''}: " + tail(r["log"])
        return res
    text = Path(r["log"]).read_text(errors="replace")
    timings = json.loads((work / "out" / "timings.json").read_text())
    history = json.loads((work / "out" / "history.json").read_text())
    m = re.search(r"^train: last checkpoint (.+)$", text, re.M)
    ckpt = m.group(1).strip() if m else None
    if ckpt is None:  # the log line changed: the newest checkpoint of the run's output_dir
        found = sorted((work / "out").glob("checkpoint_*"))
        ckpt = str(found[-1]) if found else None
    if ckpt is None:
        res["error"] = "no checkpoint found in " + str(work / "out")
        return res
    m = re.search(r"^annotate: (\d+) documents, (\d+) entities in ([\d.]+)s \(([\d.]+) docs/s\)", text, re.M)
    b1 = {"docs": int(m.group(1)), "entities": int(m.group(2)), "docs_per_s": float(m.group(4))} if m else {}
    f1_b1 = json.loads((work / "test-metrics-b1.json").read_text()).get("macro_f1-score")
    # batch 16: the CLI on the same checkpoint, then the same scoring
    out16 = work / "test-annotated-b16.jsonl"
    r16 = run_proc(base + ["--log-level", "info", "annotate", "--model", ckpt, "--input",
                           str(splits["test"]), "--output", str(out16), "--batch-size", "16",
                           "--aggregation", "max", "--device", a.device, "--drop-existing-entities"]
                   + (["--bf16"] if a.rust_bf16 else []) + ["--quantize", a.rust_quantize],
                   work / "annotate-b16.log", env=env, timeout=timeout)
    res["procs"]["annotate_b16"] = r16
    b16, f1_b16 = {}, None
    if r16["rc"] == 0:
        t16 = Path(r16["log"]).read_text(errors="replace")
        b16 = annotated(t16) or {}
        ev = subprocess.run(base + ["evaluate", "--reference", str(splits["test"]), "--predicted",
                                    str(out16), "--scheme", a.scheme, "--average", "macro",
                                    "--tokenizer", str(Path(ckpt) / "tokenizer.json")],
                            capture_output=True, text=True, env=env)
        if ev.returncode == 0:
            f1_b16 = json.loads(ev.stdout).get("macro_f1-score")
        else:
            res["error_b16_evaluate"] = ev.stderr[-2000:]
    else:
        res["error_b16"] = tail(r16["log"])
    res["rust_wall_s"] = time.perf_counter() - t0
    trained = trainer_figures(timings, history)
    res.update({
        "ok": True,
        "epochs": trained.pop("epochs"),
        "checkpoint": ckpt,
        "annotate_b1": b1, "annotate_b16": b16,
        "figures": {
            **trained.pop("figures"),
            "annotate_b1_docs_per_s": b1.get("docs_per_s"),
            "annotate_b16_docs_per_s": b16.get("docs_per_s"),
            "peak_rss_mb": max(r["peak_rss_mb"], r16["peak_rss_mb"]),
            "wall_s": r["wall_s"] + r16["wall_s"],
            "test_f1_b1": f1_b1,
            "test_f1_b16": f1_b16,
        },
        **trained,
    })
    return res


def trainer_figures(timings: list, history: list) -> dict:
    """What the host's trainer reports (timings.json, history.json) as the harness's epochs,
    training figures and totals."""
    train_s = sum(t["train_seconds"] for t in timings)
    return {
        "epochs": [{"epoch": t["epoch"], "train_s": t["train_seconds"], "eval_s": t["eval_seconds"],
                    "train_examples": t["train_examples"], "train_tokens": t["train_tokens"],
                    "eval_f1": h["eval"].get("macro_f1-score"), "train_loss": h["train"].get("loss"),
                    "eval_loss": h["eval"].get("loss")} for t, h in zip(timings, history)],
        "figures": {
            "train_tokens_per_s": sum(t["train_tokens"] for t in timings) / train_s,
            "train_examples_per_s": sum(t["train_examples"] for t in timings) / train_s,
            "train_s_per_epoch": train_s / len(timings),
            "eval_s": statistics.mean(t["eval_seconds"] for t in timings),
            "eval_f1": history[-1]["eval"].get("macro_f1-score") if history else None,
        },
        "train_tokens_total": sum(t["train_tokens"] for t in timings),
        "train_seconds_total": train_s,
    }


# ---------------------------------------------------------------------------- python side

def run_python(a, splits: dict, work: Path, env: dict, timeout: float | None) -> dict:
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    dev = -1 if a.device == "cpu" else int(a.device.split(":")[1]) if ":" in a.device else 0
    out_json = work / "result.json"
    cmd = [a.python, str(BENCH / "medkit_runner.py"), "--train", str(splits["train"]),
           "--val", str(splits["validation"]), "--test", str(splits["test"]), "--model", str(a.model),
           "--labels", ",".join(LABELS), "--output-dir", str(work / "ckpt"), "--clean-output-dir",
           "--epochs", str(a.epochs), "--batch-size", str(a.batch_size), "--learning-rate", repr(a.lr),
           "--seed", str(a.seed), "--max-length", str(a.max_length), "--tagging-scheme", a.scheme,
           "--device", str(dev), "--metrics-average", "macro", "--inference-batch-sizes", "1,16",
           "--aggregation-strategy", "max", "--skip-corpus-stats", "--json-out", str(out_json)]
    if a.threads:
        cmd += ["--num-threads", str(a.threads)]
    if a.python_bf16:
        cmd.append("--bf16")
    r = run_proc(cmd, work / "run.log", env=env, timeout=timeout)
    res = {"ok": False, "procs": {"run": r}}
    if r["rc"] != 0 or not out_json.exists():
        res["error"] = f"medkit_runner exited {r['rc']}{' (timeout)' if r['timed_out'] else ''}: " + tail(r["log"])
        return res
    j = json.loads(out_json.read_text())
    ep = j["epochs"]
    runs = {x["batch_size"]: x for x in j.get("inference_runs", [])}
    train_s = sum(e["train_s"] for e in ep)
    tokens = sum(e["train_nonpad_tokens_collated"] for e in ep)
    n_train = j["corpus"]["train"]["docs"]

    def inf(bs, key):
        x = runs.get(bs)
        if not x:
            return None
        return x["docs_per_s"] if key == "docs_per_s" else x["test_metrics_token_level"].get("macro_f1-score")

    res.update({
        "ok": True,
        "env": j.get("env"),
        "epochs": [{"epoch": e["epoch"], "train_s": e["train_s"], "eval_s": e.get("eval_full_s"),
                    "eval_loop_s": e.get("eval_s"), "train_examples": n_train,
                    "train_tokens": e["train_nonpad_tokens_collated"],
                    "train_padded_tokens": e.get("train_padded_tokens"), "eval_f1": e.get("eval_f1"),
                    "train_loss": e.get("train_loss"), "eval_loss": e.get("eval_loss")} for e in ep],
        "annotate": [{k: v for k, v in x.items() if k not in ("sample_predictions", "test_metrics_token_level",
                                                              "test_metrics_char_level")}
                     for x in j.get("inference_runs", [])],
        "figures": {
            "train_tokens_per_s": tokens / train_s,
            "train_examples_per_s": n_train * len(ep) / train_s,
            "train_s_per_epoch": train_s / len(ep),
            "eval_s": statistics.mean(e["eval_full_s"] for e in ep),
            "annotate_b1_docs_per_s": inf(1, "docs_per_s"),
            "annotate_b16_docs_per_s": inf(16, "docs_per_s"),
            "peak_rss_mb": r["peak_rss_mb"],
            "wall_s": r["wall_s"],
            "eval_f1": ep[-1].get("eval_f1") if ep else None,
            "test_f1_b1": inf(1, "f1"),
            "test_f1_b16": inf(16, "f1"),
        },
        "train_tokens_total": tokens,
        "train_seconds_total": train_s,
    })
    return res


# ---------------------------------------------------------------------------- medkit-rs from Python

def run_pyapi(a, splits: dict, work: Path, env: dict, timeout: float | None) -> dict:
    """medkit_rs (the Python package, installed into .venv by scripts/build-python.sh) on the
    same workload: bench/pyapi_runner.py."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    out_json = work / "result.json"
    cmd = [str(ROOT / ".venv/bin/python"), str(BENCH / "pyapi_runner.py"), "--train", str(splits["train"]),
           "--val", str(splits["validation"]), "--test", str(splits["test"]), "--model", str(a.model),
           "--labels", ",".join(LABELS), "--output-dir", str(work / "out"), "--epochs", str(a.epochs),
           "--batch-size", str(a.batch_size), "--learning-rate", repr(a.lr), "--seed", str(a.seed),
           "--max-length", str(a.max_length), "--tagging-scheme", a.scheme, "--device", a.device,
           "--json-out", str(out_json)]
    r = run_proc(cmd, work / "run.log", env=env, timeout=timeout)
    res = {"ok": False, "procs": {"run": r}}
    if r["rc"] != 0 or not out_json.exists():
        res["error"] = f"pyapi_runner exited {r['rc']}{' (timeout)' if r['timed_out'] else ''}: " + tail(r["log"])
        return res
    j = json.loads(out_json.read_text())
    runs = {x["batch_size"]: x for x in j["annotate"]}
    trained = trainer_figures(j["epochs"], j["history"])
    res.update({
        "ok": True,
        "epochs": trained.pop("epochs"),
        "checkpoint": j["checkpoint"],
        "annotate": j["annotate"],
        "figures": {
            **trained.pop("figures"),
            "annotate_b1_docs_per_s": runs.get(1, {}).get("docs_per_s"),
            "annotate_b16_docs_per_s": runs.get(16, {}).get("docs_per_s"),
            "peak_rss_mb": r["peak_rss_mb"],
            "wall_s": r["wall_s"],
            "test_f1_b1": None,
            "test_f1_b16": None,
        },
        **trained,
    })
    return res


# ---------------------------------------------------------------------------- flops

def mkl_avx512_shim(work: Path) -> Path | None:
    """A preloadable library answering MKL's vendor check with yes (what medkit-rs's plugin does
    on AVX-512 CPUs), so the GEMM peak (and, with --python-mkl-avx512, Python medkit) runs MKL's
    AVX-512 kernels on AMD too. None without a C compiler."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        log("no C compiler: GEMM peak with MKL's vendor-dispatched kernels only")
        return None
    work.mkdir(parents=True, exist_ok=True)
    src, lib = work / "mkl_avx512_shim.c", work / "libmkl_avx512_shim.so"
    src.write_text("int mkl_serv_intel_cpu_true(void) { return 1; }\n")
    if subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", str(lib), str(src)]).returncode != 0:
        return None
    return lib


def flops_model(probe: dict, labels: int) -> dict:
    """Training FLOPs of a BERT encoder + token-classification head, per non-padding token.

    Forward, per layer and token: 2*(4*h^2 + 2*h*i) for the Q/K/V/O and the two FFN matmuls,
    plus 2*2*L*h for the attention scores (QK^T) and their product with V, L being the example's
    own length (non-padding); head: 2*h*C. Training = 3 x forward (backward = 2 x forward).
    Over a corpus, the attention term uses sum(n^2)/sum(n). Embeddings, layer norms, softmax,
    GELU and the optimizer are not counted (they are not matmuls).
    """
    m = probe["model"]
    h, i, layers = m["hidden"], m["intermediate"], m["layers"]
    t = probe["train_tokens"]
    l_eff = t["sum_n2"] / t["sum_n"] if t["sum_n"] else 0.0
    dense = layers * 2 * (4 * h * h + 2 * h * i)
    attn = layers * 4 * l_eff * h
    head = 2 * h * labels
    fwd = dense + attn + head
    return {
        "formula": "train FLOPs/token = 3 * (layers*2*(4h^2 + 2hi) + layers*4*L_eff*h + 2*h*C), "
                   "L_eff = sum(n^2)/sum(n) over the training examples (non-padding lengths)",
        "hidden": h, "intermediate": i, "layers": layers, "labels_C": labels, "L_eff": l_eff,
        "forward_flops_per_token": fwd, "train_flops_per_token": 3 * fwd,
        "forward_dense_flops_per_token": dense, "forward_attention_flops_per_token": attn,
    }


# ---------------------------------------------------------------------------- report

def fmt(v, unit: str = "") -> str:
    if v is None:
        return "–"
    if unit in ("", "mfu") and abs(v) < 10:
        return f"{v:.3f}"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"


def ratio(kind: str, r, p):
    if r is None or p is None:
        return None
    if kind == "R/P":
        return r / p if p else None
    if kind == "P/R":
        return p / r if r else None
    return r - p


def table(wl: dict) -> str:
    rows = ["| figure | medkit-rs median [min–max] | Python medkit median [min–max] | Rust vs Python |",
            "| --- | --- | --- | --- |"]
    for key, (kind, unit, label) in FIGURES.items():
        r, p = wl["rust"]["figures"].get(key), wl["python"]["figures"].get(key)
        if not r or not p:
            continue

        def cell(x):
            if x["median"] is None:
                return "–"
            u = "" if key == "mfu" else unit
            if key == "mfu":
                return f"{100 * x['median']:.1f}% [{100 * x['min']:.1f}–{100 * x['max']:.1f}]"
            return f"{fmt(x['median'], u)} [{fmt(x['min'], u)}–{fmt(x['max'], u)}]"

        rt = wl["ratios"].get(key, {}).get("value")
        rs = "–" if rt is None else (f"{rt:+.3f}" if kind == "R-P" else f"{rt:.2f}×")
        rows.append(f"| {label} | {cell(r)} | {cell(p)} | {rs} |")
    return "\n".join(rows)


def pyapi_table(wl: dict) -> str:
    rows = ["| figure | medkit_rs (Python) | medkit CLI | Python medkit | Python API vs CLI | Python API vs medkit |",
            "| --- | --- | --- | --- | --- | --- |"]
    for key, (kind, unit, label) in FIGURES.items():
        y, r, p = (wl[s]["figures"].get(key, {}).get("median") for s in ("pyapi", "rust", "python"))
        if y is None:
            continue

        def rt(v):
            return "–" if v is None else (f"{v:+.3f}" if kind == "R-P" else f"{v:.2f}×")

        u = "" if key == "mfu" else unit
        rows.append(f"| {label} | {fmt(y, u)} | {fmt(r, u)} | {fmt(p, u)} | {rt(ratio(kind, y, r))} | "
                    f"{rt(ratio(kind, y, p))} |")
    return "\n".join(rows)


# ---------------------------------------------------------------------------- main

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="~5 min on 2 idle cores: the first 512 docs of each split, 1 epoch (reps unchanged)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions (each runs both implementations)")
    ap.add_argument("--epochs", type=int, default=None, help="default 3 (1 with --quick)")
    ap.add_argument("--max-docs", type=int, default=None,
                    help="first N documents of each split (default: all; 512 with --quick)")
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared/corpora/ncbi_disease/medkit/sentences"),
                    help="folder with train.jsonl, validation.jsonl, test.jsonl (medkit JSONL)")
    ap.add_argument("--model", default=str(ROOT / ".venv/models/all-MiniLM-L6-v2"))
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scheme", default="iob2", choices=["iob2", "bilou"])
    ap.add_argument("--device", default="cpu", help="cpu | cuda:N (both implementations)")
    ap.add_argument("--threads", type=int, default=None,
                    help="OMP_NUM_THREADS for both (and torch.set_num_threads in Python); default: "
                         "libtorch's default (the physical cores)")
    ap.add_argument("--rust-quantize", choices=["none", "int8"], default="none",
                    help="Rust side annotation quantized (`quantize` of the matcher); workload name gets -int8")
    ap.add_argument("--rust-bf16", action="store_true",
                    help="Rust side with bf16 autocast (training and annotation); workload name gets -bf16")
    ap.add_argument("--python-bf16", action="store_true",
                    help="Python medkit under torch.autocast bf16 (the same bf16 kernels as --rust-bf16: "
                         "the same-kernels comparison on a CPU with AMX / AVX512-BF16)")
    ap.add_argument("--python-mkl-avx512", action="store_true",
                    help="Python side with MKL's vendor check off (LD_PRELOAD shim), as medkit-rs runs "
                         "MKL on AVX-512 CPUs; workload name gets -py-mkl-avx512")
    ap.add_argument("--omp-wait-policy", default="default", choices=["default", "PASSIVE", "ACTIVE"],
                    help="default: each implementation's own (medkit-rs sets GOMP_SPINCOUNT=1000, "
                         "Python leaves libgomp's default)")
    ap.add_argument("--python", default=None,
                    help="Python with torch 2.11.0 + medkit-lib 0.17.0 (also $MEDKIT_BENCH_PYTHON); "
                         "default bench/.venv-medkit, created with the pinned packages if missing")
    ap.add_argument("--medkit-bin", default=str(ROOT / "target/release/medkit"))
    ap.add_argument("--plugin-dir", default=None, help="default: the folder of --medkit-bin")
    ap.add_argument("--only", choices=["rust", "python", "pyapi"], default=None, help="run one side only")
    ap.add_argument("--pyapi", action="store_true",
                    help="also run medkit-rs from Python (medkit_rs, scripts/build-python.sh) as a third side")
    ap.add_argument("--work", default=str(ROOT / "runs/bench"), help="scratch folder (checkpoints, logs)")
    ap.add_argument("--out", default=str(BENCH / "results/latest.json"))
    ap.add_argument("--workload", default=None, help="name in the JSON (default: quick / default / custom)")
    ap.add_argument("--step-timeout", type=float, default=None, help="kill a run after this many seconds")
    ap.add_argument("--deadline", type=float, default=None,
                    help="start no run that, judged by the last run of its side, would end after this "
                         "many seconds from the start")
    ap.add_argument("--keep-checkpoints", action="store_true",
                    help="keep each run's checkpoints in --work (default: deleted after the run)")
    ap.add_argument("--gemm-seconds", type=float, default=6.0)
    ap.add_argument("--build-info", default=None,
                    help="JSON with rustc/git facts when the binaries were built elsewhere (GPU script)")
    a = ap.parse_args(argv)
    if a.epochs is None:
        a.epochs = 1 if a.quick else 3
    if a.max_docs is None and a.quick:
        a.max_docs = 512
    if a.workload is None:
        preset = (512, 1) if a.quick else (None, 3)
        a.workload = ("quick" if a.quick else "default") if (a.max_docs, a.epochs) == preset else "custom"
        if a.device != "cpu":
            a.workload += "-" + a.device.replace(":", "")
        if a.rust_bf16:
            a.workload += "-bf16"
        if a.rust_quantize != "none":
            a.workload += "-" + a.rust_quantize
        if a.python_mkl_avx512:
            a.workload += "-py-mkl-avx512"
        if a.python_bf16:
            a.workload += "-py-bf16"
    a.model = Path(os.path.abspath(a.model))
    a.medkit_bin = Path(a.medkit_bin).resolve()
    a.plugin_dir = Path(a.plugin_dir).resolve() if a.plugin_dir else a.medkit_bin.parent
    return a


def machine_info(probe: dict) -> dict:
    info = {"platform": platform.platform(), "cpus_online": os.cpu_count()}
    lscpu = cmd_out(["lscpu"]) or ""
    for key in ("Model name", "Thread(s) per core", "Core(s) per socket", "Socket(s)", "Hypervisor vendor"):
        m = re.search(rf"^{re.escape(key)}:\s*(.+)$", lscpu, re.M)
        if m:
            info[key.lower().replace("(s)", "s").replace(" ", "_")] = m.group(1).strip()
    flags = set((re.search(r"^Flags:\s*(.+)$", lscpu, re.M) or [None, ""])[1].split())
    # what decides the CPU kernels: AVX-512 (MKL fp32), AVX512-BF16 / AMX (bf16), VNNI / AMX-INT8
    info["cpu_flags"] = sorted(flags & {"avx2", "avx512f", "avx512_bf16", "avx512_vnni", "avx512_fp16",
                                        "amx_bf16", "amx_int8", "amx_tile"})
    try:
        mem = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
        info["mem_gib"] = round(int(mem) / 1024 / 1024, 1)
    except (OSError, IndexError, ValueError):
        pass
    try:
        info["loadavg_at_start"] = os.getloadavg()
    except OSError:
        pass
    if probe.get("versions", {}).get("cuda_device_name"):
        info["gpu"] = probe["versions"]["cuda_device_name"]
        smi = cmd_out(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"])
        if smi:
            info["nvidia_smi"] = smi
    return info


def rust_versions(a) -> dict:
    v = {}
    if a.build_info and Path(a.build_info).exists():
        v.update(json.loads(Path(a.build_info).read_text()))
    v.setdefault("rustc", cmd_out(["rustc", "-V"]))
    v.setdefault("git_commit", cmd_out(["git", "rev-parse", "HEAD"], cwd=ROOT))
    if "git_dirty" not in v:
        st = cmd_out(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT)
        v["git_dirty"] = bool(st) if st is not None else None
    v["medkit"] = cmd_out([str(a.medkit_bin), "--version"])
    try:
        lock = (ROOT / "Cargo.lock").read_text()
        m = re.search(r'name = "tch"\nversion = "([^"]+)"', lock)
        v["tch"] = m.group(1) if m else None
    except OSError:
        pass
    return v


def main(argv=None) -> int:
    a = parse_args(argv)
    t_start = time.perf_counter()
    command = " ".join(shlex.quote(x) for x in [sys.executable, *sys.argv]) if argv is None else None
    corpus = Path(a.corpus)
    for s in ("train", "validation", "test"):
        if not (corpus / f"{s}.jsonl").exists():
            sys.exit(f"{corpus}/{s}.jsonl not found (--corpus; data/ncbi-disease holds the same NCBI files)")
    if a.only != "python" and not a.medkit_bin.exists():
        sys.exit(f"{a.medkit_bin} not found: cargo build --release --workspace")
    a.python = ensure_python(a.python)  # the probe needs its torch even with --only rust
    work = Path(a.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    splits = {}
    counts = {}
    for s in ("train", "validation", "test"):
        splits[s] = work / "corpus" / f"{s}.jsonl"
        counts[s] = write_subset(corpus / f"{s}.jsonl", splits[s], a.max_docs)
    log(f"corpus {corpus}: {counts} docs; {a.epochs} epoch(s), {a.reps} rep(s), device {a.device}")

    env = dict(os.environ)
    if a.threads:
        env["OMP_NUM_THREADS"] = str(a.threads)
        env["MKL_NUM_THREADS"] = str(a.threads)
    if a.omp_wait_policy != "default":
        env["OMP_WAIT_POLICY"] = a.omp_wait_policy
    else:
        env.pop("OMP_WAIT_POLICY", None)

    log("probe: versions, token statistics, GEMM peak")
    probe_cmd = [a.python, str(BENCH / "probe.py"), "--model", str(a.model), "--train", str(splits["train"]),
                 "--max-length", str(a.max_length), "--device", a.device, "--gemm-seconds", str(a.gemm_seconds)]
    pr = subprocess.run(probe_cmd, capture_output=True, text=True, env=env)
    if pr.returncode != 0:
        sys.exit("probe failed:\n" + pr.stderr[-3000:])
    probe = json.loads(pr.stdout)
    flops = flops_model(probe, labels=(2 * len(LABELS) + 1) if a.scheme == "iob2" else (4 * len(LABELS) + 1))
    peak = probe.get("gemm", {}).get("peak_flops")
    flops["gemm"] = probe.get("gemm")
    # The machine's fp32 peak: MKL's best kernels, which medkit-rs selects on non-Intel AVX-512
    # CPUs (plugins/hf-matcher/src/mkl_dispatch.rs) but MKL by itself does not.
    shim = mkl_avx512_shim(Path(a.work)) if a.device == "cpu" else None
    if a.python_mkl_avx512 and not shim:
        sys.exit("--python-mkl-avx512 needs a C compiler (cc) and --device cpu")
    if shim:
        pr = subprocess.run(probe_cmd + ["--skip-tokens"], capture_output=True, text=True,
                            env={**env, "LD_PRELOAD": str(shim)})
        if pr.returncode == 0:
            g = json.loads(pr.stdout).get("gemm", {})
            flops["gemm_mkl_vendor_check_off"] = g
            flops["gemm_peak_fp32_mkl_default_flops"] = peak
            peak = max(peak or 0.0, g.get("peak_flops") or 0.0)
    flops["gemm_peak_fp32_flops"] = peak
    log(f"train FLOPs/token {flops['train_flops_per_token'] / 1e6:.1f} M; fp32 GEMM peak "
        f"{(peak or 0) / 1e9:.1f} GFLOP/s; bf16 {(flops['gemm'] or {}).get('peak_bf16_flops', 0) / 1e9:.1f}")

    sides = [s for s in ("rust", "python", "pyapi") if a.only == s or (a.only is None and (s != "pyapi" or a.pyapi))]
    results = {s: [] for s in sides}
    last_wall = {}
    out = Path(a.out)
    doc = {
        "schema": 1,
        "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "machine": machine_info(probe),
        "versions": {"rust": rust_versions(a), "python": probe["versions"]},
    }
    stopped = None

    def build_workload() -> dict:
        wl = {
            "settings": {"corpus": str(corpus), "docs": counts, "model": str(a.model), "scheme": a.scheme,
                         "max_length": a.max_length, "batch_size": a.batch_size, "learning_rate": a.lr,
                         "epochs": a.epochs, "seed": a.seed, "device": a.device,
                         "threads": a.threads or probe["versions"].get("torch_default_threads"),
                         "omp_wait_policy": a.omp_wait_policy, "reps_asked": a.reps,
                         "python_mkl_avx512": a.python_mkl_avx512,
                         "python_bf16": a.python_bf16,
                         "order": "alternating: the sides in order (rust, python[, pyapi]), then reversed, ...",
                         "python": a.python, "medkit_bin": str(a.medkit_bin)},
            "flops": flops,
            "stopped_early": stopped,
        }
        for s in sides:
            ok = [r for r in results[s] if r.get("ok")]
            figs = {k: median_min_max([r["figures"].get(k) for r in ok]) for k in FIGURES
                    if k not in ("train_tflops", "mfu")}
            tfl = [r["train_tokens_total"] * flops["train_flops_per_token"] / r["train_seconds_total"] / 1e12
                   for r in ok]
            figs["train_tflops"] = median_min_max(tfl)
            figs["mfu"] = median_min_max([x * 1e12 / peak for x in tfl] if peak else [])
            bf16_peak = (flops.get("gemm") or {}).get("peak_bf16_flops")
            if bf16_peak and ((s == "rust" and a.rust_bf16) or (s == "python" and a.python_bf16)):
                # bf16 autocast runs its GEMMs in bf16: its MFU against the bf16 peak too
                figs["mfu_vs_bf16_peak"] = median_min_max([x * 1e12 / bf16_peak for x in tfl])
            wl[s] = {"figures": figs, "runs": results[s], "reps_ok": len(ok), "reps_failed": len(results[s]) - len(ok)}
        if "pyapi" in sides and "rust" in sides:
            # the Python API against the CLI on the same workload: R/P with R = medkit_rs, P = CLI
            wl["pyapi_vs_cli"] = {}
            for k, (kind, _, label) in FIGURES.items():
                y = wl["pyapi"]["figures"].get(k, {}).get("median")
                r = wl["rust"]["figures"].get(k, {}).get("median")
                wl["pyapi_vs_cli"][k] = {"value": ratio(kind, y, r), "kind": kind,
                                         "meaning": "medkit_rs (Python) vs the medkit CLI: " + RATIO_MEANING[kind]}
        if "rust" in sides and "python" in sides:
            wl["ratios"] = {}
            for k, (kind, _, label) in FIGURES.items():
                r = wl["rust"]["figures"].get(k, {}).get("median")
                p = wl["python"]["figures"].get(k, {}).get("median")
                wl["ratios"][k] = {"value": ratio(kind, r, p), "kind": kind, "meaning": RATIO_MEANING[kind]}
        return wl

    def save():
        merged = {}
        if out.exists():
            try:
                old = json.loads(out.read_text())
                if old.get("schema") == 1:
                    merged = old.get("workloads", {})
            except (OSError, ValueError):
                merged = {}
        merged[a.workload] = {**build_workload(), "generated": doc["generated"], "command": command,
                              "machine": doc["machine"], "versions": doc["versions"]}
        body = {**doc, "workloads": merged}
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
        tmp.replace(out)

    for rep in range(a.reps):
        order = sides if rep % 2 == 0 else list(reversed(sides))
        for s in order:
            elapsed = time.perf_counter() - t_start
            if a.deadline and s in last_wall and elapsed + last_wall[s] > a.deadline:
                stopped = f"deadline {a.deadline:.0f}s: {s} rep {rep + 1} not started at {elapsed:.0f}s"
                log(stopped)
                continue
            log(f"rep {rep + 1}/{a.reps}: {s}")
            t0 = time.perf_counter()
            fn = {"rust": run_rust, "python": run_python, "pyapi": run_pyapi}[s]
            side_env = {**env, "LD_PRELOAD": str(shim)} if s == "python" and a.python_mkl_avx512 else env
            r = fn(a, splits, work / f"{s}-rep{rep + 1}", side_env, a.step_timeout)
            r["rep"] = rep + 1
            last_wall[s] = time.perf_counter() - t0
            if not a.keep_checkpoints:
                for d in (work / f"{s}-rep{rep + 1}").glob("*/checkpoint_*"):
                    shutil.rmtree(d, ignore_errors=True)
            results[s].append(r)
            if r.get("ok"):
                f = r["figures"]
                log(f"  {s}: train {f['train_tokens_per_s']:.0f} tok/s, {f['train_examples_per_s']:.1f} ex/s; "
                    f"eval {f['eval_s']:.2f}s; annotate b1 {f['annotate_b1_docs_per_s']} b16 "
                    f"{f['annotate_b16_docs_per_s']} docs/s; RSS {f['peak_rss_mb']:.0f} MB; "
                    f"F1 eval {f['eval_f1']} test {f['test_f1_b1']}")
            else:
                log(f"  {s} FAILED: {r.get('error', '')[-1500:]}")
            save()

    try:
        doc["machine"]["loadavg_at_end"] = os.getloadavg()
    except OSError:
        pass
    save()
    wl = build_workload()
    print(f"\n## {a.workload}: {counts['train']} train / {counts['validation']} validation / "
          f"{counts['test']} test docs, {a.epochs} epoch(s), batch {a.batch_size}, lr {a.lr:g}, "
          f"max length {a.max_length}, {a.scheme}, device {a.device}, threads "
          f"{wl['settings']['threads']}, reps {a.reps}\n")
    if "rust" in sides and "python" in sides:
        print(table(wl))
        if "pyapi" in sides:
            print()
            print(pyapi_table(wl))
    else:
        s = sides[0]
        for k, v in wl[s]["figures"].items():
            print(f"{k}: {v['median']} [{v['min']}–{v['max']}]")
    print(f"\ntrain FLOPs per non-padding token: {flops['train_flops_per_token'] / 1e6:.1f} M "
          f"(L_eff {flops['L_eff']:.1f}); fp32 GEMM peak {(peak or 0) / 1e9:.1f} GFLOP/s "
          f"({probe['gemm']['threads']} threads, {a.device}"
          + (f"; MKL's own vendor dispatch: {flops['gemm_peak_fp32_mkl_default_flops'] / 1e9:.1f}"
             if flops.get("gemm_peak_fp32_mkl_default_flops") else "") + ")")
    print(f"JSON: {out}")
    fails = sum(w["reps_failed"] for k, w in wl.items() if k in ("rust", "python", "pyapi"))
    return 1 if fails or any(not wl[s]["reps_ok"] for s in sides) else 0


if __name__ == "__main__":
    sys.exit(main())
