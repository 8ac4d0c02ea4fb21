#!/usr/bin/env python3
"""medkit-rs's Python API (`medkit_rs`) on bench/run.py's workload: the cookbook's calls
(HFEntityMatcher.make_trainable, Trainer, SeqEvalMetricsComputer, then HFEntityMatcher.run on the
test documents' raw segments at batch 1 and 16), timed as bench/run.py times the CLI:

  epochs     per epoch the trainer's own train/eval seconds and train volume (Trainer.timings,
             the figures `medkit run` writes to timings.json)
  annotate   per batch size: documents, entities, seconds of HFEntityMatcher.run over every test
             document (one call, as a medkit user makes it: medkit objects in and out), docs/s
  peak_rss_mb  of this process

    .venv/bin/python bench/pyapi_runner.py --train T --val V --test S --model M --labels a,b
        --output-dir D --epochs 3 --batch-size 16 --learning-rate 5e-5 --seed 0 --json-out R.json
"""
from __future__ import annotations

import argparse
import json
import resource
import time


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for k in ("train", "val", "test", "model", "labels", "output-dir", "json-out"):
        ap.add_argument(f"--{k}", required=True)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--learning-rate", type=float, default=5e-5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--tagging-scheme", default="iob2")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--inference-batch-sizes", default="1,16")
    a = ap.parse_args(argv)

    from medkit.core.text import TextDocument
    from medkit.io.medkit_json import load_text_documents

    from medkit_rs import HFEntityMatcher
    from medkit_rs.metrics import SeqEvalMetricsComputer
    from medkit_rs.training import DefaultPrinterCallback, Trainer, TrainerConfig

    labels = a.labels.split(",")
    trainable = HFEntityMatcher.make_trainable(
        a.model, labels, a.tagging_scheme, tokenizer_max_length=a.max_length, device=a.device)
    trainer = Trainer(
        component=trainable,
        config=TrainerConfig(output_dir=a.output_dir, learning_rate=a.learning_rate,
                             nb_training_epochs=a.epochs, batch_size=a.batch_size, seed=a.seed,
                             overwrite_output_dir=True),
        train_data=list(load_text_documents(a.train)),
        eval_data=list(load_text_documents(a.val)),
        metrics_computer=SeqEvalMetricsComputer(trainable.id_to_label, a.tagging_scheme, average="macro"),
        callback=DefaultPrinterCallback(log_step_interval=50),
    )
    history = trainer.train()

    docs = [TextDocument(text=d.text, uid=d.uid) for d in load_text_documents(a.test)]
    annotate = []
    for bs in (int(x) for x in a.inference_batch_sizes.split(",")):
        matcher = HFEntityMatcher(model=trainer.last_checkpoint, batch_size=bs, device=a.device)
        t0 = time.perf_counter()
        found = matcher.run([d.raw_segment for d in docs])
        s = time.perf_counter() - t0
        annotate.append({"batch_size": bs, "docs": len(docs), "entities": len(found), "seconds": s,
                         "docs_per_s": len(docs) / s})
    out = {"history": history, "epochs": trainer.timings, "checkpoint": trainer.last_checkpoint,
           "annotate": annotate, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}
    with open(a.json_out, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
