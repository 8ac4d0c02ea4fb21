#!/usr/bin/env bash
# Installs what the interop checks (scripts/test-interop.sh) need into the project venv .venv:
# Python medkit-lib 0.17.0 (with the hf-entity-matcher, training and metrics-ner extras) and
# transformers, pinned to the versions known to work with medkit 0.17 (the anchor's lock,
# ../shared/anchor/requirements-anchor-tf5.lock.txt). torch==2.11.0 is pinned in the same pip
# command so pip never replaces the torch that .venv already holds (the libtorch tch links to).
# Idempotent: a second run only checks. Not part of scripts/setup.sh (the runtime set-up stays lean).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  echo "setup-interop: .venv missing; run scripts/setup.sh first" >&2
  exit 1
fi
MEDKIT_LIB=0.17.0
TRANSFORMERS=5.24.0
TORCH=2.11.0
if .venv/bin/python - "$MEDKIT_LIB" "$TRANSFORMERS" "$TORCH" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
want_medkit, want_tf, want_torch = sys.argv[1:]
ok = (version("medkit-lib") == want_medkit and version("transformers") == want_tf
      and version("torch").split("+")[0] == want_torch)
import medkit.io.medkit_json, medkit.training, medkit.text.metrics.ner, seqeval  # extras importable
from medkit.text.ner.hf_entity_matcher import HFEntityMatcher  # noqa: F401
sys.exit(0 if ok else 1)
PY
then
  exit 0
fi
echo "setup-interop: installing medkit-lib==$MEDKIT_LIB, transformers==$TRANSFORMERS into .venv (torch stays $TORCH)"
.venv/bin/pip install --quiet --disable-pip-version-check \
  "torch==$TORCH" "medkit-lib[hf-entity-matcher,training,metrics-ner]==$MEDKIT_LIB" \
  "transformers==$TRANSFORMERS" "tokenizers==0.23.3" "seqeval==1.2.2"
