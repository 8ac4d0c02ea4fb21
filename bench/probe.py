#!/usr/bin/env python3
"""Machine and workload probe for bench/run.py (runs in the benchmark's Python venv).

* GEMM peak: best fp32 torch.matmul rate (FLOP/s) over square 1024/2048 products and the
  all-MiniLM-L6-v2 training shapes (T x 384 x 384, T x 384 x 1536, T x 1536 x 384, T ~ 512),
  on the benchmark's device and thread count. On CUDA, also TF32 and bf16 (for reference only:
  both implementations train in fp32, so MFU is taken against the fp32 peak).
* Token statistics of the training split as both trainers see it: the model's tokenizer.json,
  special tokens added, truncated at the max length; n = non-padding tokens per example. The
  FLOPs model needs sum(n) and sum(n^2) (attention scores grow with the sequence length).
* Model shape from config.json, versions of torch / transformers / medkit / tokenizers.

Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import time


def cpu_has_bf16() -> bool:
    try:
        flags = next(line for line in open("/proc/cpuinfo") if line.startswith("flags")).split()
    except (OSError, StopIteration):
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def gemm_peak(device: str, seconds: float) -> dict:
    import torch

    dev = torch.device(device)
    cuda = dev.type == "cuda"

    def sync():
        if cuda:
            torch.cuda.synchronize(dev)

    shapes = [(1024, 1024, 1024), (2048, 2048, 2048), (512, 384, 384), (512, 384, 1536),
              (512, 1536, 384), (2048, 384, 1536)]
    if cuda:
        shapes += [(4096, 4096, 4096), (8192, 8192, 8192), (8192, 384, 1536)]
    dtypes = [("fp32", torch.float32, False)]
    if cuda:
        dtypes += [("tf32", torch.float32, True), ("bf16", torch.bfloat16, False)]
    elif cpu_has_bf16():
        # AMX / AVX512-BF16: the peak the bf16 autocast path is measured against
        dtypes += [("bf16", torch.bfloat16, False)]
    out = {"device": device, "threads": torch.get_num_threads(), "shapes": {}}
    budget = seconds / (len(shapes) * len(dtypes))
    old_tf32 = torch.backends.cuda.matmul.allow_tf32
    try:
        for name, dtype, tf32 in dtypes:
            torch.backends.cuda.matmul.allow_tf32 = tf32
            best_all = 0.0
            for m, k, n in shapes:
                g = torch.Generator(device="cpu").manual_seed(0)
                a = torch.randn(m, k, generator=g).to(dev, dtype)
                b = torch.randn(k, n, generator=g).to(dev, dtype)
                flop = 2.0 * m * k * n
                torch.matmul(a, b)
                sync()
                # repetitions per timed sample: about 20 ms of work
                t0 = time.perf_counter()
                torch.matmul(a, b)
                sync()
                once = max(time.perf_counter() - t0, 1e-7)
                reps = max(1, int(0.02 / once))
                best = 0.0
                t_end = time.perf_counter() + budget
                samples = 0
                while samples < 3 or time.perf_counter() < t_end:
                    t0 = time.perf_counter()
                    for _ in range(reps):
                        torch.matmul(a, b)
                    sync()
                    dt = time.perf_counter() - t0
                    best = max(best, flop * reps / dt)
                    samples += 1
                    if samples >= 200:
                        break
                out["shapes"][f"{name} {m}x{k}x{n}"] = best
                best_all = max(best_all, best)
            out[f"peak_{name}_flops"] = best_all
    finally:
        torch.backends.cuda.matmul.allow_tf32 = old_tf32
    out["peak_flops"] = out["peak_fp32_flops"]
    return out


def token_stats(model_dir: str, path: str, max_length: int, max_docs: int | None) -> dict:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length)
    texts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line) if line.strip() else {}
            if "text" in rec:  # the first line is the list header
                texts.append(rec["text"])
                if max_docs is not None and len(texts) >= max_docs:
                    break
    lens = [len(e.ids) for e in tok.encode_batch(texts, add_special_tokens=True)]
    return {"docs": len(lens), "sum_n": sum(lens), "sum_n2": sum(n * n for n in lens),
            "max_n": max(lens) if lens else 0}


def model_shape(model_dir: str) -> dict:
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        c = json.load(f)
    return {"model_type": c.get("model_type"), "hidden": c.get("hidden_size", c.get("dim")),
            "intermediate": c.get("intermediate_size", c.get("hidden_dim")),
            "layers": c.get("num_hidden_layers", c.get("n_layers")),
            "heads": c.get("num_attention_heads", c.get("n_heads")),
            "vocab": c.get("vocab_size")}


def versions(device: str) -> dict:
    from importlib.metadata import PackageNotFoundError, version
    import platform
    import sys

    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for pkg in ("torch", "transformers", "tokenizers", "medkit-lib", "seqeval", "numpy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    import torch

    out["torch_full"] = torch.__version__
    out["torch_default_threads"] = torch.get_num_threads()
    if device.startswith("cuda"):
        out["cuda_device_name"] = torch.cuda.get_device_name(torch.device(device))
        out["cuda_runtime"] = torch.version.cuda
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--train", required=True)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--max-train-docs", type=int, default=None)
    ap.add_argument("--device", default="cpu", help="cpu | cuda:N")
    ap.add_argument("--gemm-seconds", type=float, default=6.0, help="time spent on the GEMM peak")
    ap.add_argument("--skip-gemm", action="store_true")
    ap.add_argument("--skip-tokens", action="store_true", help="no token statistics (GEMM peak only)")
    args = ap.parse_args()
    out = {"versions": versions(args.device), "model": model_shape(args.model)}
    if not args.skip_tokens:
        out["train_tokens"] = token_stats(args.model, args.train, args.max_length, args.max_train_docs)
    if not args.skip_gemm:
        out["gemm"] = gemm_peak(args.device, args.gemm_seconds)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
