#!/usr/bin/env python3
"""Checks that models saved by medkit-plugin-hf (TokenClassifier::save + HfTokenizer::save) load in
Python transformers and give the same tokens and logits.

    /work/.venv-anchor/bin/python scripts/encoder_check_saved.py [EXPORT_DIR]

Without EXPORT_DIR, runs the ignored Rust test `encoder_save_export` into a temporary directory.
For each exported model: AutoTokenizer / AutoModelForTokenClassification.from_pretrained(dir),
tokenize the fixture sentences as the Rust side did, compare input ids exactly and logits to 1e-4.
"""
import json
import os
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import load_file
from transformers import AutoModelForTokenClassification, AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "plugins", "hf-matcher", "tests", "fixtures")
TOL = 1e-4


def export(out):
    env = dict(os.environ, ENCODER_EXPORT_DIR=out)
    cmd = ["cargo", "test", "-q", "-p", "medkit-plugin-hf", "--test", "encoder_save_export", "--", "--ignored", "--nocapture"]
    subprocess.run(cmd, cwd=ROOT, env=env, check=True)


@torch.no_grad()
def check(d, sentences):
    rust = load_file(os.path.join(d, "rust_logits.safetensors"))
    tok = AutoTokenizer.from_pretrained(d)
    model = AutoModelForTokenClassification.from_pretrained(d).eval()
    cfg = json.load(open(os.path.join(d, "config.json")))
    max_len = rust["input_ids"].shape[1] if "tiny" in os.path.basename(d) else None
    batch = tok(sentences, padding=True, truncation=max_len is not None, max_length=48 if max_len else None, return_tensors="pt")
    ids_ok = torch.equal(batch["input_ids"], rust["input_ids"]) and torch.equal(batch["attention_mask"], rust["attention_mask"])
    logits = model(input_ids=rust["input_ids"], attention_mask=rust["attention_mask"]).logits
    diff = float((logits - rust["logits"]).abs().max())
    labels_ok = [model.config.id2label[i] for i in range(model.config.num_labels)] == [cfg["id2label"][str(i)] for i in range(len(cfg["id2label"]))]
    ok = ids_ok and diff < TOL and labels_ok
    print(f"{'OK  ' if ok else 'FAIL'} {os.path.basename(d):28s} {type(model).__name__:34s} {type(tok).__name__:22s} ids {'same' if ids_ok else 'DIFFER'}  logits max abs diff {diff:.2e}  labels {model.config.id2label}")
    return ok


def main():
    sentences = json.load(open(os.path.join(FIXTURES, "sentences.json"), encoding="utf-8"))
    if len(sys.argv) > 1:
        out = sys.argv[1]
    else:
        out = tempfile.mkdtemp(prefix="encoder_saved_")
        export(out)
    results = [check(os.path.join(out, d), sentences) for d in sorted(os.listdir(out))]
    print(f"{sum(results)}/{len(results)} saved models reload identically in transformers")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
