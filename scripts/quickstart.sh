#!/usr/bin/env bash
# The main job: set-up (idempotent), then the quickstart pipeline (fine-tune all-MiniLM-L6-v2 on
# NCBI-disease sentences, evaluate, annotate the test split, evaluate the annotations, write
# runs/quickstart/report.html).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec target/release/medkit run configs/quickstart.toml "$@"
