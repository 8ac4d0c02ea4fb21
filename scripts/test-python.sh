#!/usr/bin/env bash
# The Python package's tests: `medkit_rs` built and installed into .venv (scripts/build-python.sh,
# as scripts/setup.sh does; again here, so that the tests see the checkout's code), then pytest on
# python/tests (they need medkit-lib 0.17 in .venv: scripts/setup-interop.sh), then the wheel alone
# in a fresh venv (scripts/test-wheel-venv.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-interop.sh
scripts/build-python.sh
# pytest, and pyspark for medkit_rs.spark's tests (Java 17 runs it; pandas < 3: pyspark 4.x
# supports pandas 2)
.venv/bin/python -c "import pytest, pyspark, pyarrow, pandas" 2>/dev/null ||
  .venv/bin/pip install --quiet --disable-pip-version-check "pytest>=8,<9" "pyspark>=3.5,<5" \
    "pandas>=2,<3" "pyarrow>=15"
cd python/tests
../../.venv/bin/python -m pytest -q -rfEsxXp -p no:cacheprovider "$@"  # -r…p: PASSED lines for scripts/reliability-status.py
cd ../..
scripts/test-wheel-venv.sh  # the wheel in a fresh venv: pip install, then the cookbook test
