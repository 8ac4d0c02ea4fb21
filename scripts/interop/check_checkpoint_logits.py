#!/usr/bin/env python3
"""Python transformers loads checkpoints that medkit-rs's trainer saved, with our logits.

    .venv/bin/python scripts/interop/check_checkpoint_logits.py [--labels A,B,...] CHECKPOINT_DIR...

Each CHECKPOINT_DIR holds rust_logits.safetensors (input ids, attention mask and logits that
medkit-rs computed on plugins/hf-matcher/tests/fixtures/sentences.json, written by the ignored test
plugins/hf-matcher/tests/checkpoint_export.rs). For each: AutoTokenizer and
AutoModelForTokenClassification.from_pretrained(dir) with no missing or unexpected weights; the
tokenizer gives the same ids (truncation at 48 tokens, padding); the logits equal ours within 1e-4;
id2label is O then B-/I- per label (with --labels). Exits 1 on any difference.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import torch
from safetensors.torch import load_file
from transformers import AutoModelForTokenClassification, AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SENTENCES = os.path.join(ROOT, "plugins", "hf-matcher", "tests", "fixtures", "sentences.json")
TOL = 1e-4
MAX_LENGTH = 48  # as checkpoint_export.rs


@torch.no_grad()
def check(d: str, sentences: list[str], labels: list[str] | None) -> tuple[bool, float]:
    errors = []
    rust = load_file(os.path.join(d, "rust_logits.safetensors"))
    tok = AutoTokenizer.from_pretrained(d)
    model, info = AutoModelForTokenClassification.from_pretrained(d, output_loading_info=True)
    model.eval()
    for k in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs"):
        if info.get(k):
            errors.append(f"{k}: {info[k]}")
    enc = tok(sentences, padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
    if not torch.equal(enc["input_ids"], rust["input_ids"]):
        bad = [i for i in range(len(sentences))
               if enc["input_ids"].shape != rust["input_ids"].shape or not torch.equal(enc["input_ids"][i], rust["input_ids"][i])]
        errors.append(f"input ids differ (sentences {bad[:5]}: {[sentences[i] for i in bad[:3]]})")
    if not torch.equal(enc["attention_mask"], rust["attention_mask"]):
        errors.append("attention masks differ")
    logits = model(input_ids=rust["input_ids"], attention_mask=rust["attention_mask"]).logits
    if logits.shape != rust["logits"].shape:
        errors.append(f"logits shape: transformers {tuple(logits.shape)} / ours {tuple(rust['logits'].shape)}")
        diff = float("inf")
    else:
        mask = rust["attention_mask"].bool()
        diff = float((logits - rust["logits"]).abs()[mask].max())
        if not diff < TOL:
            errors.append(f"logits max abs diff {diff:.3e} >= {TOL}")
    id2label = [model.config.id2label[i] for i in range(model.config.num_labels)]
    if labels is not None:
        want = ["O"] + [f"{p}-{lab}" for lab in labels for p in ("B", "I")]
        if id2label != want:
            errors.append(f"id2label {id2label} != {want}")
    with open(os.path.join(d, "config.json"), encoding="utf-8") as f:
        arch = json.load(f).get("architectures")
    ok = not errors
    print(f"{'OK  ' if ok else 'FAIL'} {d}: {type(model).__name__} (config architectures {arch}), "
          f"{type(tok).__name__}, {len(sentences)} sentences, logits max abs diff {diff:.2e}, labels {id2label}")
    for e in errors:
        print(f"     {d}: {e}")
    return ok, diff


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--labels", default=None, help="the pipeline's labels, comma-separated (checks id2label)")
    args = ap.parse_args(argv)
    with open(SENTENCES, encoding="utf-8") as f:
        sentences = json.load(f)
    labels = args.labels.split(",") if args.labels else None
    results = [check(d, sentences, labels) for d in args.dirs]
    worst = max(r[1] for r in results)
    n_ok = sum(r[0] for r in results)
    print(f"transformers interop: {n_ok}/{len(results)} trainer checkpoints reload in transformers "
          f"with our logits (max abs diff {worst:.2e}, tolerance {TOL})")
    sys.exit(0 if n_ok == len(results) else 1)


if __name__ == "__main__":
    main()
