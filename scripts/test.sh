#!/usr/bin/env bash
# The test command: set-up (idempotent), then format check, clippy and every test, in release mode
# (one build serves the binaries and the tests), then the interop checks against Python medkit 0.17
# and transformers (scripts/test-interop.sh, which installs what they need into .venv), then the
# Python package's tests (scripts/test-python.sh: wheel built and installed into .venv, pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
command -v chromium >/dev/null || scripts/setup-chromium.sh  # headless browser for tests/tests/report_html.rs
cargo fmt --all --check
cargo clippy --release --workspace --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --release -p medkit-sdk --no-deps  # the SDK's docs are the author's guide
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --release --workspace "$@" 2>&1 | tee "$log"
ignored=$(sed -n 's/^test result: .* \([0-9][0-9]*\) ignored;.*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
scripts/test-interop.sh
scripts/test-python.sh  # the Python package: wheel built and installed into .venv, then pytest
cat <<MSG
test: all passed. The main cargo test run ignored $ignored test(s); they run with:
  scripts/test-interop.sh     interop with Python medkit 0.17 / transformers (interop_medkit,
                              interop_transformers, checkpoint_export, encoder_save_export): run above
  scripts/device-check.sh     CUDA tests (encoder_cuda), on a machine with a GPU
  cargo test --release -p medkit-tests --test corpus_shared -- --ignored
                              round trips of the reference corpora in ../shared (not shipped)
Timings are benchmarks, not tests (BENCHMARKS.md, "How to run"):
  python3 bench/run.py [--quick]                             the side-by-side harness
  cargo bench -p medkit-plugin-hf --bench encoder_bench      MiniLM train step / inference
  cargo bench -p medkit-plugin-hf --bench matcher_bench      training throughput (inputs: the
                              header of plugins/hf-matcher/benches/matcher_bench.rs)
MSG
