#!/usr/bin/env bash
# The wheel on its own: a fresh venv (outside the checkout), `pip install` of the wheel that
# scripts/build-python.sh built (which pulls torch==2.11.0 from PyPI) plus medkit-lib 0.17 and
# pytest, then the cookbook test and the API tests with that venv's Python. The installed package
# uses nothing of .venv or target/ (the tests read their model and corpus files from the
# checkout: .venv/models, data/). The venv is removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
wheel=$(ls target/wheels/medkit_rs-*.whl 2>/dev/null | head -n 1)
if [ -z "$wheel" ]; then
  echo "test-wheel-venv: no wheel in target/wheels; run scripts/build-python.sh first" >&2
  exit 1
fi
venv=$(mktemp -d)/venv
trap 'rm -rf "$(dirname "$venv")"' EXIT
"$PYTHON" -m venv "$venv"
echo "test-wheel-venv: pip install $wheel into a fresh venv (torch==2.11.0 from PyPI)"
"$venv/bin/pip" install --quiet --disable-pip-version-check "$wheel" "medkit-lib==0.17.0" "pytest>=8,<9"
cd python/tests
# no MEDKIT_PLUGIN_PATH, no LD_LIBRARY_PATH: the package finds its plugins and libtorch itself
env -u MEDKIT_PLUGIN_PATH -u LD_LIBRARY_PATH "$venv/bin/python" -m pytest -q -p no:cacheprovider \
  test_cookbook.py test_api.py
