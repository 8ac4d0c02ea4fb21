"""Training throughput of Python medkit's HFEntityMatcherTrainable (non-padding tokens/s), on a
synthetic corpus it also writes for the Rust benchmark (benches/matcher_bench.rs).

  /work/.venv-anchor/bin/python scripts/bench_training.py MODEL_DIR CORPUS_JSON [THREADS]
"""

import json
import random
import sys
import time

import torch
from medkit.core.text import Entity, Span, TextDocument
from medkit.text.ner.hf_entity_matcher import HFEntityMatcher

BATCH, WARMUP, STEPS = 8, 2, 12
LABELS = ["problem", "treatment", "test"]
PARTS = {
    "problem": ["fièvre", "toux sèche", "œdème des membres inférieurs", "douleur thoracique", "dyspnée"],
    "treatment": ["paracétamol", "amoxicilline", "kinésithérapie respiratoire", "furosémide"],
    "test": ["radiographie thoracique", "échographie cardiaque", "NFS", "scanner abdominal"],
}
TEMPLATES = [
    "Le patient présente une {problem} depuis trois jours.",
    "Un traitement par {treatment} a été débuté.",
    "La {test} ne montre pas d'anomalie particulière.",
    "Pas de {problem} rapportée, poursuite du {treatment}.",
    "Au total, {problem} traitée par {treatment} après {test}.",
]


def corpus(n=64, seed=0):
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        text, ents = "", []
        for _ in range(rng.randint(3, 7)):
            tpl = rng.choice(TEMPLATES)
            while "{" in tpl:
                a = tpl.index("{")
                b = tpl.index("}")
                label = tpl[a + 1 : b]
                surface = rng.choice(PARTS[label])
                start = len(text) + a
                ents.append({"label": label, "start": start, "end": start + len(surface)})
                tpl = tpl[:a] + surface + tpl[b + 1 :]
            text += tpl + " "
        docs.append({"uid": f"doc{i}", "text": text.strip(), "entities": ents})
    return docs


def main():
    model, path = sys.argv[1], sys.argv[2]
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    docs = corpus()
    with open(path, "w") as f:
        json.dump(docs, f, ensure_ascii=False)
    trainable = HFEntityMatcher.make_trainable(model_name_or_path=model, labels=LABELS, tagging_scheme="iob2")
    feats = []
    for d in docs:
        doc = TextDocument(text=d["text"])
        for e in d["entities"]:
            doc.anns.add(Entity(label=e["label"], spans=[Span(e["start"], e["end"])], text=d["text"][e["start"] : e["end"]]))
        feats.append(trainable.preprocess(doc))
    optimizer = trainable.configure_optimizer(5e-5)
    batches = [feats[i : i + BATCH] for i in range(0, len(feats), BATCH)]
    tokens, elapsed, rates = 0, 0.0, []
    for step in range(WARMUP + STEPS):
        batch = batches[step % len(batches)]
        t0 = time.perf_counter()
        data = trainable.collate(batch)
        _, loss = trainable.forward(data, return_loss=True, eval_mode=False)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if step >= WARMUP:
            seconds = time.perf_counter() - t0
            n = sum(len(f["input_ids"]) for f in batch)
            elapsed += seconds
            tokens += n
            rates.append(n / seconds)
    rates.sort()
    # The median and best step rates resist the noise of a shared machine better than the mean.
    print(
        json.dumps(
            {
                "impl": "python-medkit",
                "threads": threads,
                "tokens_per_s": tokens / elapsed,
                "median_step_tokens_per_s": rates[len(rates) // 2],
                "best_step_tokens_per_s": rates[-1],
            }
        )
    )


if __name__ == "__main__":
    main()
