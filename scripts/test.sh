#!/usr/bin/env bash
# The test command: set-up (idempotent), then format check, clippy and every test, in release mode
# (one build serves the binaries and the tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
command -v chromium >/dev/null || scripts/setup-chromium.sh  # headless browser for tests/tests/report_html.rs
cargo fmt --all --check
cargo clippy --release --workspace --all-targets -- -D warnings
cargo test --release --workspace "$@"
