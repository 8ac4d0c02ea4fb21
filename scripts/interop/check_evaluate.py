#!/usr/bin/env python3
"""`medkit evaluate` (medkit-rs) gives the numbers of Python medkit 0.17's SeqEvalEvaluator.

    .venv/bin/python scripts/interop/check_evaluate.py MEDKIT_BIN WORK_DIR [--seed 0]

Generates reference and predicted documents with a fixed seed: NCBI-disease test sentences with
their gold entities and French sentences with random entities (word-aligned, some discontinuous);
predictions copy the reference with errors: boundaries moved, wrong labels, missed entities,
spurious ones, overlapping ones. The predicted file is shuffled (documents are matched by uid).
Then for each case (scheme iob2 / bilou x average micro / macro / weighted, per character and with
all-MiniLM-L6-v2's tokenizer, with and without --by-label, labels remapping) it runs
SeqEvalEvaluator.compute live and `MEDKIT_BIN evaluate`, and compares every key (same keys; equal
numbers, to 1e-12). Exits 1 naming the case and key on any difference. One known difference of
names (not of numbers) is mapped: with --average micro, medkit-rs writes overall_* keys where
medkit writes micro_* (see below); and medkit ignores labels_remapping with a tokenizer where
medkit-rs applies it (deliberate, host/src/evaluator.rs), so that case is compared with medkit on
labels remapped beforehand.
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MINILM = ROOT / ".venv" / "models" / "all-MiniLM-L6-v2"
TOL = 1e-12
FRENCH = [
    "Le patient présente une fièvre élevée et une toux sèche.",
    "Pas de céphalée ni de dyspnée d'effort ; état général conservé.",
    "Antécédents : diabète de type 2, hypertension artérielle traitée.",
    "Œdème des membres inférieurs prenant le godet, sans érythème.",
    "Fracture du fémur droit à J+2 après une chute à domicile.",
    "Éléonore, âgée de 72 ans, décrit une asthénie et une anorexie récentes.",
    "Insuffisance rénale aiguë sur chronique, créatininémie à 180 µmol/L.",
    "L'examen clinique retrouve une hépatomégalie douloureuse et un ictère.",
    "Douleur thoracique rétrosternale irradiant vers le bras gauche.",
    "Hypercholestérolémie familiale hétérozygote ; pas d'allergie connue.",
    "Pneumopathie franche lobaire aiguë droite, traitée par amoxicilline.",
    "Syndrome inflammatoire biologique : CRP à 120 mg/L, hyperleucocytose.",
]
FR_LABELS = ["signe", "maladie", "anatomie"]


def words(text):
    out, start = [], None
    for i, ch in enumerate(text + " "):
        if ch.isalnum() or ch in "'-":
            start = i if start is None else start
        elif start is not None:
            out.append((start, i))
            start = None
    return out


def make_docs(seed):
    from medkit.core.text import Entity, ModifiedSpan, Span, TextDocument
    from medkit.io.medkit_json import load_text_documents

    rng = random.Random(seed)
    refs = []
    for d in list(load_text_documents(ROOT / "data" / "ncbi-disease" / "test.jsonl"))[:60]:
        nd = TextDocument(text=d.text, uid=d.uid, metadata=d.metadata)
        for e in d.anns.entities:
            nd.anns.add(Entity(label=e.label, text=e.text, spans=list(e.spans)))
        refs.append(nd)
    for i, text in enumerate(FRENCH * 2):
        nd = TextDocument(text=text, uid=f"fr-{i}", metadata={"lang": "fr"})
        ws = words(text)
        k = 0
        while k < len(ws):
            if rng.random() < 0.3:
                n = rng.choice([1, 1, 2, 3])
                a, b = ws[k][0], ws[min(k + n, len(ws)) - 1][1]
                if n == 3 and k + 2 < len(ws) and rng.random() < 0.3:
                    # discontinuous, as BRAT makes it: first and third word, a 1-char ModifiedSpan between
                    (a1, b1), (a2, b2) = ws[k], ws[k + 2]
                    spans = [Span(a1, b1), ModifiedSpan(length=1, replaced_spans=[]), Span(a2, b2)]
                    etext = text[a1:b1] + " " + text[a2:b2]
                else:
                    spans, etext = [Span(a, b)], text[a:b]
                nd.anns.add(Entity(label=rng.choice(FR_LABELS), text=etext, spans=spans))
                k += n + 1
            else:
                k += 1
        refs.append(nd)
    preds = []
    stats = {"kept": 0, "moved": 0, "relabelled": 0, "missed": 0, "spurious": 0, "overlapping": 0}
    for d in refs:
        labels = sorted({e.label for e in d.anns.entities}) or FR_LABELS
        pd = TextDocument(text=d.text, uid=d.uid, metadata=d.metadata)
        n = len(d.text)
        for e in d.anns.entities:
            a, b = e.spans[0].start, e.spans[-1].end
            r = rng.random()
            if r < 0.15:
                stats["missed"] += 1
                continue
            if r < 0.35:
                a = max(0, min(a + rng.choice([-3, -1, 1, 2]), b - 1))
                b = min(n, max(b + rng.choice([-2, -1, 1, 4]), a + 1))
                stats["moved"] += 1
                label = e.label
            elif r < 0.5:
                label = rng.choice([x for x in labels + ["Autre"] if x != e.label])
                stats["relabelled"] += 1
            else:
                label = e.label
                stats["kept"] += 1
            pd.anns.add(Entity(label=label, text=d.text[a:b], spans=[Span(a, b)]))
            if rng.random() < 0.05:
                c = min(n, b + 3)
                pd.anns.add(Entity(label=label, text=d.text[a + 1:c], spans=[Span(a + 1, c)]))
                stats["overlapping"] += 1
        if n > 10 and rng.random() < 0.4:
            a = rng.randrange(0, n - 5)
            b = min(n, a + rng.randrange(2, 15))
            pd.anns.add(Entity(label=rng.choice(labels), text=d.text[a:b], spans=[Span(a, b)]))
            stats["spurious"] += 1
        preds.append(pd)
    return refs, preds, stats


def remapped(refs, predicted, remap):
    """Copies of the reference documents and predicted entities with labels renamed by `remap`."""
    from medkit.core.text import Entity, TextDocument

    def ent(e):
        return Entity(label=remap.get(e.label, e.label), text=e.text, spans=list(e.spans))

    docs = []
    for d in refs:
        nd = TextDocument(text=d.text, uid=d.uid)
        for e in d.anns.entities:
            nd.anns.add(ent(e))
        docs.append(nd)
    return docs, [[ent(e) for e in p] for p in predicted]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("medkit_bin")
    ap.add_argument("work_dir")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    from medkit.io.medkit_json import save_text_documents
    from medkit.text.metrics.ner import SeqEvalEvaluator
    from transformers import AutoTokenizer

    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    refs, preds, stats = make_docs(args.seed)
    save_text_documents(refs, work / "reference.jsonl")
    shuffled = preds[:]
    random.Random(args.seed + 1).shuffle(shuffled)
    save_text_documents(shuffled, work / "predicted.jsonl")
    predicted = [list(p.anns.entities) for p in preds]
    tokenizer = AutoTokenizer.from_pretrained(str(MINILM), use_fast=True)
    n_ref = sum(len(d.anns.entities) for d in refs)
    n_pred = sum(len(p) for p in predicted)
    print(f"evaluate interop: {len(refs)} docs, {n_ref} reference / {n_pred} predicted entities, errors {stats}")

    remap = {"SpecificDisease": "Disease", "DiseaseClass": "Disease", "maladie": "signe"}
    cases = []
    for scheme in ("iob2", "bilou"):
        for average in ("micro", "macro", "weighted"):
            for tok in (False, True):
                cases.append({"scheme": scheme, "average": average, "tokenizer": tok, "by_label": True, "remap": False})
        cases.append({"scheme": scheme, "average": "macro", "tokenizer": False, "by_label": False, "remap": False})
        cases.append({"scheme": scheme, "average": "macro", "tokenizer": False, "by_label": True, "remap": True})
        # medkit ignores labels_remapping with a tokenizer; medkit-rs applies it (a deliberate
        # difference, host/src/evaluator.rs): compared with medkit on labels remapped beforehand
        cases.append({"scheme": scheme, "average": "macro", "tokenizer": True, "by_label": True, "remap": True})

    errors = []
    n_values = 0
    worst = 0.0
    for c in cases:
        name = (f"--scheme {c['scheme']} --average {c['average']}" + (" --tokenizer MiniLM" if c["tokenizer"] else "")
                + (" --by-label" if c["by_label"] else "") + (" --labels-remapping" if c["remap"] else ""))
        ev = SeqEvalEvaluator(tagging_scheme=c["scheme"], return_metrics_by_label=c["by_label"],
                              average=c["average"], tokenizer=tokenizer if c["tokenizer"] else None,
                              labels_remapping=remap if c["remap"] else None)
        if c["remap"] and c["tokenizer"]:
            want = ev.compute(*remapped(refs, predicted, remap))
        else:
            want = ev.compute(refs, predicted)
        cmd = [args.medkit_bin, "evaluate", "--reference", str(work / "reference.jsonl"),
               "--predicted", str(work / "predicted.jsonl"), "--scheme", c["scheme"], "--average", c["average"]]
        if c["by_label"]:
            cmd.append("--by-label")
        if c["tokenizer"]:
            cmd += ["--tokenizer", str(MINILM / "tokenizer.json")]
        if c["remap"]:
            cmd += ["--labels-remapping", ",".join(f"{k}={v}" for k, v in remap.items())]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            errors.append(f"[{name}] medkit evaluate exited {out.returncode}: {out.stderr.strip()[-500:]}")
            continue
        got = json.loads(out.stdout)
        if c["average"] == "micro":
            # Known naming difference, not a number difference: medkit 0.17's SeqEvalEvaluator documents
            # only macro / weighted; given "micro" it names the keys micro_* / support / accuracy, while
            # medkit-rs's seqeval plugin names micro averages overall_* / overall_support / overall_acc
            # (the names the pipeline's checkpoint_metric "overall_f1-score" uses). Values compared under
            # this mapping; any other key must match by name.
            rename = {"overall_acc": "accuracy", "overall_support": "support"}
            got = {rename.get(k, "micro_" + k[len("overall_"):] if k.startswith("overall_") else k): v
                   for k, v in got.items()}
        if set(got) != set(want):
            errors.append(f"[{name}] keys: only in ours {sorted(set(got) - set(want))}, "
                          f"only in medkit {sorted(set(want) - set(got))}")
        for k in sorted(set(got) & set(want)):
            a, b = got[k], want[k]
            n_values += 1
            if isinstance(b, (int, float)) and isinstance(a, (int, float)) and not isinstance(a, bool):
                d = abs(float(a) - float(b))
                worst = max(worst, d)
                if not d <= TOL:
                    errors.append(f"[{name}] {k}: ours {a!r} / medkit {b!r}")
            elif a != b:
                errors.append(f"[{name}] {k}: ours {a!r} / medkit {b!r}")
        print(f"  {name}: {len(want)} values, {c['average']}_f1-score {want.get(c['average'] + '_f1-score'):.6f}, "
              f"accuracy {want['accuracy']:.6f}")
    print(f"evaluate interop: {len(cases)} cases, {n_values} values compared, max abs diff {worst:.1e}")
    if errors:
        print(f"FAIL: {len(errors)} difference(s) between `medkit evaluate` and SeqEvalEvaluator:")
        for e in errors[:30]:
            print("  " + e)
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main()
