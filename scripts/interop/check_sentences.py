#!/usr/bin/env python3
"""Sentence segmentation against Python medkit 0.17's SentenceTokenizer, on generated texts.

    .venv/bin/python scripts/interop/check_sentences.py MEDKIT_BIN TINY_MODEL_DIR [WORKDIR]

Writes random texts (fixed seed: French words with accents, the end punctuation, commas, runs of
spaces, \\n and \\r, emoji) as medkit JSONL, then for each option set:
- `medkit annotate --segments L --segmentation sentence-tokenizer --segmentation-opt ...`: the
  segments of the output must be, in order, SentenceTokenizer(...).run([doc.raw_segment])'s
  (label, text, spans);
- `medkit convert --split-sentences --punct-chars ... --keep-punct ... --split-on-newlines ...`:
  the mini-documents' texts must be the sentences' texts.
Exit 1 naming the first document and option set that differ; prints the counts compared.
"""
import json
import os
import random
import subprocess
import sys
import tempfile

from medkit.core.text import TextDocument
from medkit.io.medkit_json import save_text_documents
from medkit.text.segmentation import SentenceTokenizer

WORDS = ["fièvre", "aiguë", "toux", "sèche", "hépatite", "traitée", "paracétamol", "Évolution",
         "état", "à", "J2", "1", "g", "l'enfant", "dyspnée", "œdème", "naïf", "ça", "x", "42"]
SEPS = [" ", " ", " ", "  ", ". ", ".", "; ", "? ", "!", "!! ", "...", ", ", "\n", "\n\n", "\r\n",
        " \n ", "\r", " . ", "🙂", "😷 ", "?!"]

OPTION_SETS = [
    {},
    {"keep_punct": True},
    {"punct_chars": ["?", "!"]},
    {"split_on_newlines": False, "keep_punct": True, "output_label": "phrase"},
    {"punct_chars": [";"], "split_on_newlines": False},
]


def texts(n, seed=12):
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.randint(0, 30)):
            parts.append(rng.choice(WORDS))
            parts.append(rng.choice(SEPS))
        if rng.random() < 0.3:
            parts.insert(0, rng.choice(SEPS))
        out.append("".join(parts))
    return out


def expected(docs, opts):
    tok = SentenceTokenizer(**opts)
    return [tok.run([d.raw_segment]) for d in docs]


def spans_of(seg_dict):
    return [(s["start"], s["end"]) for s in seg_dict["spans"]]


def main():
    medkit_bin, model = sys.argv[1], sys.argv[2]
    work = sys.argv[3] if len(sys.argv) > 3 else tempfile.mkdtemp(prefix="sentences_")
    docs = [TextDocument(text=t, uid=f"d{i}") for i, t in enumerate(texts(300))]
    src = os.path.join(work, "texts.jsonl")
    save_text_documents(docs, src)
    compared = {"segments": 0, "documents": 0}
    for k, opts in enumerate(OPTION_SETS):
        want = expected(docs, opts)
        label = opts.get("output_label", "sentence")
        out = os.path.join(work, f"annotated{k}.jsonl")
        cmd = [medkit_bin, "annotate", "--model", model, "--input", src, "--output", out,
               "--segments", label, "--segmentation", "sentence-tokenizer"]
        for key, v in opts.items():
            cmd += ["--segmentation-opt", f"{key}={json.dumps(v, ensure_ascii=False)}"]
        subprocess.run(cmd, check=True, capture_output=True)
        with open(out, encoding="utf-8") as f:
            got = [json.loads(line) for line in f.readlines()[1:]]
        for d, w in zip(got, want):
            segs = [a for a in d["anns"] if a["_class_name"].endswith(".Segment")]
            mine = [(s["label"], s["text"], spans_of(s)) for s in segs]
            theirs = [(s.label, s.text, [(sp.start, sp.end) for sp in s.spans]) for s in w]
            if mine != theirs:
                print(f"FAIL annotate {opts}: document {d['uid']} {d['text']!r}\n  medkit-rs: {mine}\n  medkit:    {theirs}")
                return 1
            compared["segments"] += len(mine)

        split = os.path.join(work, f"split{k}.jsonl")
        punct = "".join(opts.get("punct_chars", [".", ";", "?", "!"]))
        cmd = [medkit_bin, "convert", "--from", "medkit", "--to", "medkit", "--input", src,
               "--output", split, "--split-sentences", "--punct-chars", punct,
               "--keep-punct", str(opts.get("keep_punct", False)).lower(),
               "--split-on-newlines", str(opts.get("split_on_newlines", True)).lower()]
        subprocess.run(cmd, check=True, capture_output=True)
        with open(split, encoding="utf-8") as f:
            mine = [json.loads(line)["text"] for line in f.readlines()[1:]]
        theirs = [s.text for w in want for s in w]
        if mine != theirs:
            first = next((i for i, (a, b) in enumerate(zip(mine, theirs)) if a != b), min(len(mine), len(theirs)))
            print(f"FAIL convert {opts}: sentence {first}: medkit-rs {mine[first:first + 2]!r} medkit {theirs[first:first + 2]!r}")
            return 1
        compared["documents"] += len(mine)
    print(f"OK sentences: {len(docs)} texts x {len(OPTION_SETS)} option sets; {compared['segments']} "
          f"segments (label, text, spans) and {compared['documents']} split documents equal medkit's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
