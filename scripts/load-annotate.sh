#!/usr/bin/env bash
# Load check for `medkit annotate` (issue 7): generates 10,000 and 100,000 short medkit documents,
# annotates each corpus with the tiny random BERT fixture and prints the peak RSS of both runs.
# Streaming means the two peaks are about equal. Not a timed test: run it by hand
# (`scripts/load-annotate.sh [WORKDIR]`); figures are in RELIABILITY.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/target/release/medkit"
model="$root/plugins/hf-matcher/tests/fixtures/tiny_bert"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
[ -x "$bin" ] || (cd "$root" && cargo build --release --workspace --lib --bins)

gen() { # N FILE: short documents, three sentence shapes
    python3 - "$1" "$2" <<'PY'
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
texts = ["Le patient présente une fièvre et une toux depuis trois jours.",
         "Pas d'antécédent notable, traitement par paracétamol.",
         "Examen clinique normal."]
with open(path, "w", encoding="utf-8") as f:
    f.write('{"version": "0.2", "content_type": "text_document_list"}\n')
    for i in range(n):
        d = {"uid": f"d{i}", "text": f"{texts[i % 3]} Dossier {i}.", "metadata": {}, "anns": [],
             "_class_name": "medkit.core.text.document.TextDocument"}
        f.write(json.dumps(d, ensure_ascii=False) + "\n")
PY
}

peak_kb() { # prints the peak RSS (KiB) of `medkit annotate` on $1
    local log="$work/time-$2.txt"
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -v "$bin" annotate --model "$model" --input "$1" --output "$work/out-$2.jsonl" \
            --batch-size 16 2>"$log" >/dev/null
        awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$log"
    else # no GNU time: poll VmHWM from /proc
        "$bin" annotate --model "$model" --input "$1" --output "$work/out-$2.jsonl" --batch-size 16 \
            2>"$log" >/dev/null &
        local pid=$! hwm=0 v
        while kill -0 "$pid" 2>/dev/null; do
            v=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
            [ -n "$v" ] && hwm=$v
            sleep 0.05
        done
        wait "$pid"
        echo "$hwm"
    fi
}

for n in 10000 100000; do
    gen "$n" "$work/docs-$n.jsonl"
    start=$(date +%s.%N)
    kb=$(peak_kb "$work/docs-$n.jsonl" "$n")
    secs=$(echo "$(date +%s.%N) - $start" | bc)
    lines=$(wc -l <"$work/out-$n.jsonl")
    size=$(du -m "$work/docs-$n.jsonl" | cut -f1)
    out=$(du -m "$work/out-$n.jsonl" | cut -f1)
    printf '%7d documents (input %s MB, output %s MB, %d lines): peak RSS %d MiB, %.1f s\n' \
        "$n" "$size" "$out" "$lines" "$((kb / 1024))" "$secs"
done
