#!/usr/bin/env bash
# Stages what the GPU benchmark needs beside the tracked tree into .bench-gpu/ (ignored through
# .git/info/exclude; carried by the device tool with carry=[".bench-gpu"]):
#   bins.tar.xz  bin/: stripped target/release/medkit + plugin .so files (built here, x86-64);
#                tests/: the CUDA test executables of the HF plugin (scripts/device-check.sh --staged);
#                xz-compressed so that everything fits the device's 64 MiB working-tree limit
#   model/  all-MiniLM-L6-v2 packed (int8 rows + fp16 vectors, bench/gpu/model_pack.py)
#   whl/    medkit-lib 0.17.0 and those of its needs that the device image lacks (Python 3.12)
#   BUILD_INFO.json  rustc, git commit / dirty files, time of the build
# Usage: bench/gpu/pack.sh [--no-build]   (PY: a Python with numpy + safetensors + pip; default .venv's)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
STAGE=.bench-gpu
PY=${PY:-$ROOT/.venv/bin/python}
grep -qxF "/$STAGE/" .git/info/exclude 2>/dev/null || { mkdir -p .git/info; echo "/$STAGE/" >>.git/info/exclude; }

CUDA_TESTS=(--test encoder_cuda --test device_cuda_hooks)
if [ "${1:-}" != "--no-build" ]; then
  cargo build --release --workspace
  cargo test --release -p medkit-plugin-hf "${CUDA_TESTS[@]}" --no-run
fi
rm -rf "$STAGE/bin" "$STAGE/tests" && mkdir -p "$STAGE/bin" "$STAGE/tests"
for f in target/release/medkit target/release/libmedkit_plugin_*.so; do
  strip -o "$STAGE/bin/$(basename "$f")" "$f"
done
cargo test --release -p medkit-plugin-hf "${CUDA_TESTS[@]}" --no-run --message-format=json 2>/dev/null |
  "$PY" -c 'import json, sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] == ["test"]:
        print(m["target"]["name"], m["executable"])' |
  while read -r name exe; do strip -o "$STAGE/tests/$name" "$exe"; done
[ "$(ls "$STAGE/tests" | wc -l)" = 2 ] || { echo "pack.sh: CUDA test executables not found" >&2; exit 1; }
tar -cJf "$STAGE/bins.tar.xz" -C "$STAGE" bin tests && rm -rf "$STAGE/bin" "$STAGE/tests"

if [ ! -f "$STAGE/model/weights.npz" ]; then
  "$PY" bench/gpu/model_pack.py pack .venv/models/all-MiniLM-L6-v2 "$STAGE/model"
  # only what a token-classification load needs
  rm -f "$STAGE"/model/{README.md,.gitattributes,data_config.json,modules.json,sentence_bert_config.json,config_sentence_transformers.json}
fi

mkdir -p "$STAGE/whl"
if [ -z "$(ls "$STAGE"/whl/medkit_lib-0.17.0-*.whl 2>/dev/null)" ]; then
  plat=""
  for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 \
           manylinux1_x86_64 manylinux_2_24_x86_64 manylinux_2_31_x86_64 manylinux_2_34_x86_64 any; do
    plat="$plat --platform $p"
  done
  # medkit-lib's Requires-Dist that the image lacks (it has numpy, requests, tqdm, typing-extensions,
  # PyYAML, wrapt, sortedcontainers, scikit-learn, torch, transformers), plus seqeval and cffi
  # shellcheck disable=SC2086
  "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp $plat \
    -d "$STAGE/whl" medkit-lib==0.17.0 anyascii==0.3.3 duptextfinder==0.3.0 intervaltree==3.2.1 \
    pyaml==26.7.0 pysimstring==1.3.0 smart-open==9.0.2 soundfile==0.14.0 cffi==2.1.1 pycparser==3.12
  # sdist-only, pure Python: built into wheels here
  "$PY" -m pip wheel -q --no-deps -w "$STAGE/whl" flashtext==2.7 seqeval==1.2.2
fi

dirty=$(git status --porcelain --untracked-files=no | awk '{print $2}' | paste -sd, -)
cat >"$STAGE/BUILD_INFO.json" <<EOF
{"root": "$ROOT", "rustc": "$(rustc -V)", "git_commit": "$(git rev-parse HEAD)", "git_dirty": $([ -n "$dirty" ] && echo true || echo false),
 "git_dirty_files": "$dirty", "built_at": "$(date -u +%FT%TZ)", "built_on": "$(uname -m), $(nproc) CPUs"}
EOF
du -sh "$STAGE"/*
echo "staged: $(du -sb "$STAGE" | cut -f1) bytes in $STAGE (+ tracked tree ~$(git ls-files -z | du -cb --files0-from=- | tail -1 | cut -f1) bytes)"
