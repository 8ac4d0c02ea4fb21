#!/usr/bin/env python3
"""Python medkit 0.17 fine-tunes a checkpoint and annotates documents with it, for the check that
medkit-rs's matcher loads a Trainer checkpoint of Python medkit and finds the same entities.

    .venv/bin/python scripts/interop/medkit_train_annotate.py OUT_DIR [--train-docs 300] [--docs 100]

HFEntityMatcher.make_trainable (all-MiniLM-L6-v2 from .venv/models, iob2, NCBI-disease labels) +
Trainer(TrainerConfig(1 epoch, batch 8, lr 3e-4, seed 0)) on the first --train-docs sentence
documents with entities of data/ncbi-disease/train.jsonl (eval on 32 validation docs), as
../shared/anchor/run_medkit_finetune.py does (seeded before the head is made, so runs repeat).
Then HFEntityMatcher(model=CHECKPOINT) (batch 1, aggregation max: medkit's defaults) annotates the
first --docs documents of data/ncbi-disease/test.jsonl. Writes into OUT_DIR:
  checkpoint.txt    the checkpoint directory Trainer saved
  docs.jsonl        the documents to annotate (their gold entities removed)
  python.jsonl      the same documents with HFEntityMatcher's entities (score attribute included)
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LABELS = ["CompositeMention", "DiseaseClass", "Modifier", "SpecificDisease"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    ap.add_argument("--train-docs", type=int, default=300)
    ap.add_argument("--docs", type=int, default=100)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--model", default=str(ROOT / ".venv" / "models" / "all-MiniLM-L6-v2"))
    args = ap.parse_args(argv)

    import torch
    from medkit.core.text import TextDocument
    from medkit.io.medkit_json import load_text_documents, save_text_documents
    from medkit.text.metrics.ner import SeqEvalMetricsComputer
    from medkit.text.ner.hf_entity_matcher import HFEntityMatcher
    from medkit.training import Trainer, TrainerConfig
    from medkit.training.callbacks import TrainerCallback
    from medkit.training.trainer import set_seed

    class Quiet(TrainerCallback):
        # medkit 0.17's base on_epoch_end is declared with `epoch_time` but called with `epoch_duration=`
        def on_epoch_end(self, metrics, epoch, epoch_duration):
            pass

    torch.set_num_threads(min(2, os.cpu_count() or 1))
    out = Path(args.out_dir)
    if (out / "run").exists():
        import shutil

        shutil.rmtree(out / "run")
    out.mkdir(parents=True, exist_ok=True)
    data = ROOT / "data" / "ncbi-disease"
    # sentences with at least one entity, so that one short epoch learns to predict some
    train = [d for d in load_text_documents(data / "train.jsonl") if d.anns.entities][: args.train_docs]
    val = list(load_text_documents(data / "validation.jsonl"))[:32]
    test = list(load_text_documents(data / "test.jsonl"))[: args.docs]

    t0 = time.perf_counter()
    set_seed(0)
    trainable = HFEntityMatcher.make_trainable(
        model_name_or_path=args.model, labels=LABELS, tagging_scheme="iob2",
        tag_subtokens=False, tokenizer_max_length=128, device=-1)
    config = TrainerConfig(output_dir=str(out / "run"), batch_size=args.batch_size, learning_rate=args.lr,
                           nb_training_epochs=1, seed=0, checkpoint_period=1)
    metrics = SeqEvalMetricsComputer(id_to_label=trainable.id_to_label, tagging_scheme="iob2")
    history = Trainer(component=trainable, config=config, train_data=train, eval_data=val,
                      metrics_computer=metrics, callback=Quiet()).train()
    ckpts = sorted((out / "run").glob("checkpoint_*"))
    assert len(ckpts) == 1, ckpts
    ckpt = str(ckpts[0])
    train_s = time.perf_counter() - t0

    # the documents to annotate, without their gold entities (medkit-rs gets the same file)
    docs = [TextDocument(text=d.text, uid=d.uid, metadata=d.metadata) for d in test]
    save_text_documents(docs, out / "docs.jsonl")
    t0 = time.perf_counter()
    matcher = HFEntityMatcher(model=ckpt)
    n = 0
    for d in docs:
        for e in matcher.run([d.raw_segment]):
            d.anns.add(e)
            n += 1
    save_text_documents(docs, out / "python.jsonl")
    (out / "checkpoint.txt").write_text(ckpt)
    print(f"medkit Trainer: {len(train)} train docs, 1 epoch in {train_s:.1f}s, eval macro F1 {float(history[-1]['eval']['macro_f1-score']):.3f}, "
          f"train loss {history[-1]['train']['loss']:.4f}, checkpoint {ckpt}")
    print(f"medkit HFEntityMatcher: {n} entities in {len(docs)} docs ({time.perf_counter() - t0:.1f}s)")
    if n == 0:
        raise SystemExit("the Python checkpoint predicts no entity: raise the learning rate or train docs")


if __name__ == "__main__":
    main()
