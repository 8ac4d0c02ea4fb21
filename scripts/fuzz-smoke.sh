#!/usr/bin/env bash
# Fuzz smoke for CI: builds the cargo-fuzz targets of fuzz/ (release + ASan) and runs each for
# FUZZ_SMOKE_SECONDS (default 25) from the committed seeds in fuzz/corpus/<target>/. New inputs go
# to a temporary directory, never into the committed seeds. Exits non-zero if any target finds a
# crash, panic, timeout or OOM, naming the target and its artifact (fuzz/artifacts/<target>/).
# Environment: FUZZ_SMOKE_SECONDS, FUZZ_TARGET_DIR (cargo-fuzz --target-dir, default fuzz/target).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
# cargo-fuzz passes nightly-only flags; this unlocks them on a stable toolchain
export RUSTC_BOOTSTRAP=1
secs="${FUZZ_SMOKE_SECONDS:-25}"
targets=(medkit_jsonl brat_ann pipeline_toml tags_to_entities seqeval_chunks)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz-smoke: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

dir_args=()
if [[ -n "${FUZZ_TARGET_DIR:-}" ]]; then
  dir_args=(--target-dir "$FUZZ_TARGET_DIR")
fi

start=$(date +%s)
cd fuzz
echo "fuzz-smoke: building ${#targets[@]} targets"
cargo fuzz build "${dir_args[@]}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()
for t in "${targets[@]}"; do
  mkdir -p "$work/corpus/$t"
  log="$work/$t.log"
  # -timeout: one input running over 10 s is a finding; -rss_limit_mb: so is 2 GiB of memory
  if cargo fuzz run "${dir_args[@]}" "$t" "$work/corpus/$t" "corpus/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+' || true)
    echo "fuzz-smoke: $t ok (${secs} s, ${runs:-?} runs, ${cov:-cov ?})"
  else
    echo "fuzz-smoke: $t FAILED; the end of its log:" >&2
    tail -n 60 "$log" >&2
    failed+=("$t")
  fi
done
echo "fuzz-smoke: $(($(date +%s) - start)) s in all"
if ((${#failed[@]})); then
  echo "fuzz-smoke: findings in: ${failed[*]} (inputs under fuzz/artifacts/<target>/;" \
    "reproduce with: RUSTC_BOOTSTRAP=1 cargo fuzz run <target> <artifact>)" >&2
  exit 1
fi
