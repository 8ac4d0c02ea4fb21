#!/usr/bin/env bash
# GPU checks, for a machine with a CUDA GPU (the normal test run has none): the CUDA tests of the
# HF plugin, the ignored ones included (encoder_cuda: GPU logits = CPU logits, bf16 autocast, a
# training step; device_cuda_hooks: libtorch_cuda.so loaded before the CUDA hooks are built), then
# a short annotate on cuda. Needs scripts/setup.sh done. A missing GPU is a failure, not a skip.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
nvidia-smi -L
cargo test --release -p medkit-plugin-hf --test encoder_cuda --test device_cuda_hooks -- --include-ignored --nocapture
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
target/release/medkit annotate --model plugins/hf-matcher/tests/fixtures/tiny_bert \
  --input tests/data/e2e/validation.jsonl --output "$tmp/cuda.jsonl" --device cuda --batch-size 4
target/release/medkit annotate --model plugins/hf-matcher/tests/fixtures/tiny_bert \
  --input tests/data/e2e/validation.jsonl --output "$tmp/cpu.jsonl" --device cpu --batch-size 4
python3 - "$tmp/cpu.jsonl" "$tmp/cuda.jsonl" <<'PY'
import json, sys
def ents(p):
    return [[(a["label"], a["spans"][0]["start"], a["spans"][-1]["end"]) for a in json.loads(l).get("anns", [])]
            for l in open(p, encoding="utf-8").read().splitlines()[1:]]
cpu, gpu = ents(sys.argv[1]), ents(sys.argv[2])
n = sum(map(len, cpu))
print(f"device-check: annotate on cuda vs cpu: {n} / {sum(map(len, gpu))} annotations, same: {cpu == gpu}")
sys.exit(0 if cpu == gpu else 1)
PY
echo "device-check: OK"
