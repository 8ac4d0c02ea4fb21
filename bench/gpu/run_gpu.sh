#!/usr/bin/env bash
# GPU checks and benchmark, one device call:
# 1. scripts/device-check.sh --staged: the HF plugin's CUDA tests and annotate cuda = cpu;
# 2. medkit-rs and Python medkit 0.17 fine-tune all-MiniLM-L6-v2 on the NCBI-disease sentence docs
#    (data/ncbi-disease, the same files as ../shared/corpora/...), iob2, max length 128, batch 16,
#    lr 5e-5, 3 epochs, on cuda:0, alternating, as many repetitions as fit (bench/run.py
#    --deadline), then annotate the test split at batch 1 and 16;
# 3. medkit-rs alone again with bf16 autocast (--rust-bf16), same workload.
# Needs .bench-gpu/ from bench/gpu/pack.sh (carry it). Results: $OUT/gpu.json, $OUT/gpu-bf16.json,
# $OUT/run.log, $OUT/logs.tgz, $OUT/nvidia-smi.txt.
#   device: bash bench/gpu/run_gpu.sh
#   local check on CPU (few docs, 1 epoch, no wheel install):
#     MEDKIT_BENCH_PYTHON=/work/.venv-anchor/bin/python bash bench/gpu/run_gpu.sh --smoke
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
SMOKE=0
[ "${1:-}" = "--smoke" ] && SMOKE=1
STAGE=${BENCH_GPU_STAGE:-.bench-gpu}
WORK=${BENCH_GPU_WORK:-/tmp/bench-gpu}
OUT=${OUT:-$ROOT/runs/gpu-out}
mkdir -p "$OUT" "$WORK"
exec > >(tee -a "$OUT/run.log") 2>&1
export PYTHONUNBUFFERED=1
T0=$(date +%s)
stamp() { echo "=== [$(($(date +%s) - T0))s] $*"; }

if [ $SMOKE = 1 ]; then
  PY=${MEDKIT_BENCH_PYTHON:?set MEDKIT_BENCH_PYTHON for --smoke}
  DEVICE=cpu EPOCHS=1 REPS=2 MAXDOCS="--max-docs 24" DEADLINE=120 STEP=120 TOTAL=300 GEMM=2 WL=smoke
  BF16_TOTAL=120 BF16_DEADLINE=60
else
  PY=python3
  DEVICE=cuda:0 EPOCHS=3 REPS=2 MAXDOCS="" DEADLINE=240 STEP=150 TOTAL=300 GEMM=6 WL=gpu
  BF16_TOTAL=100 BF16_DEADLINE=60
  stamp "wheels"
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site "$STAGE"/whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
# overrides, e.g. a shorter second call: BENCH_GPU_REPS=2 BENCH_GPU_DEADLINE=290 BENCH_GPU_TOTAL=330
WL=${BENCH_GPU_WORKLOAD:-$WL} REPS=${BENCH_GPU_REPS:-$REPS} DEADLINE=${BENCH_GPU_DEADLINE:-$DEADLINE}
TOTAL=${BENCH_GPU_TOTAL:-$TOTAL} GEMM=${BENCH_GPU_GEMM:-$GEMM} STEP=${BENCH_GPU_STEP:-$STEP}
BF16_TOTAL=${BENCH_GPU_BF16_TOTAL:-$BF16_TOTAL}

stamp "binaries: unpack"
tar -xJf "$STAGE/bins.tar.xz" -C "$STAGE" || exit 1

stamp "model: dequantize the int8 pack"
timeout 120 "$PY" bench/gpu/model_pack.py unpack "$STAGE/model" "$WORK/model" || exit 1

stamp "machine"
(nvidia-smi || echo "no nvidia-smi") >"$OUT/nvidia-smi.txt" 2>&1
cat "$OUT/nvidia-smi.txt"
lscpu | grep -E '^(Model name|CPU\(s\))' || true
TORCH_LIB=$("$PY" -c 'import torch, os; print(os.path.dirname(torch.__file__) + "/lib")')
export LD_LIBRARY_PATH=$TORCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
"$PY" -c 'import torch, transformers, medkit.training, seqeval; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), "transformers", transformers.__version__)' || exit 1
"$STAGE/bin/medkit" --version && "$STAGE/bin/medkit" --plugin-dir "$STAGE/bin" plugins | head -20

rc=0
if [ $SMOKE = 0 ]; then
  stamp "device checks"
  timeout -k 10 180 bash scripts/device-check.sh --staged "$STAGE" "$WORK/model" || rc=$?
  stamp "device checks exit $rc"
fi

bench() {  # bench OUT_JSON TOTAL_S DEADLINE_S REPS [run.py flags...]
  local out=$1 total=$2 deadline=$3 reps=$4
  shift 4
  # shellcheck disable=SC2086
  timeout -k 10 "$total" "$PY" bench/run.py --workload "$WL" --device $DEVICE --epochs $EPOCHS --reps "$reps" $MAXDOCS \
    --corpus data/ncbi-disease --model "$WORK/model" --python "$PY" --medkit-bin "$STAGE/bin/medkit" \
    --build-info "$STAGE/BUILD_INFO.json" --work "$WORK/runs" --out "$out" \
    --step-timeout $STEP --deadline "$deadline" --gemm-seconds $GEMM "$@"
}
stamp "benchmark ($WL), fp32"
bench "$OUT/gpu.json" $TOTAL $DEADLINE $REPS || rc=$?
stamp "benchmark fp32 exit $rc"
stamp "benchmark ($WL), medkit-rs with bf16 autocast"
bench "$OUT/gpu-bf16.json" $BF16_TOTAL $BF16_DEADLINE 1 --only rust --rust-bf16 || rc=$?
stamp "benchmark exit $rc"

# logs (no checkpoints, no annotated corpora) in one archive: $OUT keeps at most 8 files
(cd "$WORK" && find runs -name '*.log' -o -name '*.toml' -o -name 'result.json' -o -name 'timings.json' \
  -o -name 'history.json' -o -name 'test-metrics-*.json' | tar czf "$OUT/logs.tgz" -T -) || true
stamp "done"
exit $rc
