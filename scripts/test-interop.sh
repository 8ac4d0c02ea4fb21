#!/usr/bin/env bash
# Interop checks against the Python originals: Python medkit-lib 0.17 loads every medkit JSONL
# file we write (same content, same bytes), our matcher finds the entities of a checkpoint that
# Python medkit's Trainer saved, `medkit evaluate` = SeqEvalEvaluator, and transformers loads the
# checkpoints and models we save with our logits. First installs the prerequisites into .venv
# (scripts/setup-interop.sh, idempotent), then runs the ignored interop tests, one at a time
# (they train small models; 2 cores). Extra arguments go to the test binaries (e.g. a test name).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/setup-interop.sh
# --workspace (not -p medkit-tests): the main `cargo test --release --workspace` run's features,
# so scripts/test.sh reuses its build instead of rebuilding libraries with other features.
cargo test --release --workspace --test interop_medkit --test interop_transformers \
  -- --ignored --test-threads=1 --nocapture "$@"
echo "test-interop: passed in $(( $(date +%s) - start )) s"
