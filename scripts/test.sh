#!/usr/bin/env bash
# The test command: set-up (idempotent), then format check, clippy and every test, in release mode
# (one build serves the binaries and the tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --all --check
cargo clippy --release --workspace --all-targets -- -D warnings
cargo test --release --workspace "$@"
