#!/usr/bin/env python3
"""Python medkit side of the benchmark harness (bench/run.py).

Copied from ../shared/anchor/run_medkit_finetune.py (the project's reference runner); bench additions:
  * --skip-corpus-stats: no pre-tokenisation of the corpora for statistics (the harness reads the
    non-padding token counts of the collated training batches instead, and times the whole process)
  * per epoch "eval_full_s" = epoch_s - train_s (eval loop + train/eval metrics computation, like the
    Rust trainer's eval_seconds) next to "eval_s" (the eval loop alone)
  * CUDA: torch.cuda.synchronize() before each phase's clock is read; env["cuda_device_name"]

Original description follows.

Anchor benchmark: fine-tune a HF token-classification model with medkit, time it, run inference.

Reproduces the medkit 0.17.0 workflow
    HFEntityMatcher.make_trainable(...) + medkit.training.Trainer + SeqEvalMetricsComputer
on medkit JSONL corpora, and records:
  * the Trainer history (train loss, eval loss + seqeval metrics, per epoch),
  * wall time per epoch, split into the train phase (includes lazy tokenisation /
    preprocessing done by the DataLoader, forward, backward, AdamW step) and the eval phase,
    plus the checkpoint-saving time,
  * training throughput (examples/s and non-padding tokens/s of the train phase),
  * inference with HFEntityMatcher(model=<checkpoint>) over the test docs (docs/s), and
    seqeval metrics of those predictions against the gold test entities.

Everything is printed and written as JSON (--json-out).

Additions (2026-11, do not change the default behaviour):
  * --inference-batch-sizes 1,16 : test inference timed/scored once per HFEntityMatcher batch size
  * padded-token counts per epoch (what the model really processes: batch x longest row) next to the
    non-padding counts, recorded by wrapping the component's collate()
  * truncation accounting: docs longer than tokenizer_max_length and gold entities that the truncated
    encoding loses completely ("lost") or cuts ("clipped"), for train/val (as the Trainer sees them) and
    for test (as the HF pipeline, which truncates at the saved model_max_length, sees them)
  * peak RSS of the process (resource.getrusage) in result["peak_rss_mb"]

Example:
    python run_medkit_finetune.py \
        --train corpus/train.jsonl --val corpus/validation.jsonl --test corpus/test.jsonl \
        --model models/all-MiniLM-L6-v2 --labels problem,treatment,test \
        --output-dir ckpt --epochs 3 --batch-size 8 --learning-rate 5e-5 \
        --json-out result.json
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import sys
import time
from pathlib import Path


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", default=None, help="medkit JSONL (text_document_list) training file")
    ap.add_argument("--val", default=None, help="medkit JSONL validation file (Trainer eval_data)")
    ap.add_argument("--test", default=None, help="medkit JSONL test file for inference timing/metrics")
    ap.add_argument("--model", default=None, help="local HF model dir (config.json + tokenizer.json + weights)")
    ap.add_argument("--labels", default=None,
                    help="comma-separated entity labels; default: sorted labels found in --train")
    ap.add_argument("--output-dir", default=None, help="Trainer output_dir (checkpoints)")
    ap.add_argument("--clean-output-dir", action="store_true", help="delete --output-dir first")
    ap.add_argument("--epochs", type=int, default=3, help="TrainerConfig.nb_training_epochs")
    ap.add_argument("--batch-size", type=int, default=8, help="TrainerConfig.batch_size")
    ap.add_argument("--learning-rate", type=float, default=5e-5, help="TrainerConfig.learning_rate")
    ap.add_argument("--seed", type=int, default=0, help="TrainerConfig.seed")
    ap.add_argument("--init-seed", type=int, default=0,
                    help="seed torch/numpy/random BEFORE make_trainable, so the new classifier head is "
                         "initialised reproducibly (medkit only seeds inside Trainer(), after the head is "
                         "created, and torch's startup seed is random); -1 = don't (plain medkit behaviour)")
    ap.add_argument("--checkpoint-period", type=int, default=1, help="TrainerConfig.checkpoint_period")
    ap.add_argument("--max-length", type=int, default=128, help="tokenizer_max_length")
    ap.add_argument("--tagging-scheme", choices=["iob2", "bilou"], default="iob2")
    ap.add_argument("--tag-subtokens", action="store_true", help="tag_subtokens=True (default False)")
    ap.add_argument("--device", type=int, default=-1, help="-1 = CPU, N = cuda:N")
    ap.add_argument("--metrics-average", choices=["macro", "weighted"], default="macro")
    ap.add_argument("--num-threads", type=int, default=None,
                    help="torch.set_num_threads(N); default: leave torch's default")
    ap.add_argument("--max-train-docs", type=int, default=None)
    ap.add_argument("--max-val-docs", type=int, default=None)
    ap.add_argument("--max-test-docs", type=int, default=None)
    ap.add_argument("--inference-checkpoint", choices=["last", "best"], default="last",
                    help="checkpoint used for HFEntityMatcher inference (best = lowest eval loss)")
    ap.add_argument("--inference-batch-size", type=int, default=1, help="HFEntityMatcher batch_size")
    ap.add_argument("--inference-batch-sizes", default=None, metavar="B1,B2,...",
                    help="run the test inference once per batch size (e.g. 1,16); result['inference'] keeps the "
                         "first one (same layout as with --inference-batch-size), result['inference_runs'] has all. "
                         "Default: just --inference-batch-size")
    ap.add_argument("--aggregation-strategy", default="max",
                    choices=["none", "simple", "first", "average", "max"])
    ap.add_argument("--skip-inference", action="store_true")
    ap.add_argument("--inference-only", default=None, metavar="CHECKPOINT_DIR",
                    help="skip training; run HFEntityMatcher(model=CHECKPOINT_DIR) on --test only")
    ap.add_argument("--skip-corpus-stats", action="store_true",
                    help="skip the token/truncation statistics that tokenise every corpus once more "
                         "(bench: keeps the process wall time comparable)")
    ap.add_argument("--quiet", action="store_true", help="no per-epoch log / progress bars from medkit")
    ap.add_argument("--json-out", default=None, help="write the result JSON here")
    ap.add_argument("--bf16", action="store_true",
                    help="training and inference under torch.autocast(dtype=torch.bfloat16): the bf16 "
                         "kernels (AMX / AVX512-BF16 on CPU) that medkit-rs's bf16 = true uses")
    args = ap.parse_args(argv)
    if args.inference_only is None:
        missing = [n for n in ("train", "val", "model", "output_dir") if getattr(args, n) is None]
        if missing:
            ap.error("required unless --inference-only: " + ", ".join("--" + m.replace("_", "-") for m in missing))
    elif args.test is None:
        ap.error("--inference-only needs --test")
    return args


def truncation_stats(docs, encode):
    """Gold entities lost / clipped by a truncating encoder (encode(text) -> tokenizers Encoding).

    An entity is 'lost' when none of its characters maps to a kept token (medkit's
    transform_entities_to_tags then silently skips it), 'clipped' when it starts before the end of
    the last kept token but ends after it.
    """
    from medkit.core.text import span_utils

    out = {"docs_full_tokens_gt_max": 0, "entities_lost_to_truncation": 0, "entities_clipped_by_truncation": 0,
           "entities_total": 0, "docs_with_lost_entities": 0}
    for d in docs:
        enc = encode(d.text)
        kept_end = 0
        for (a, b), special in zip(enc.offsets, enc.special_tokens_mask):
            if not special:
                kept_end = max(kept_end, b)
        lost_here = 0
        for e in d.anns.entities:
            out["entities_total"] += 1
            ns = span_utils.normalize_spans(e.spans)
            if not ns:
                continue
            start, end = ns[0].start, ns[-1].end
            if start >= kept_end:
                lost_here += 1
            elif end > kept_end:
                out["entities_clipped_by_truncation"] += 1
        out["entities_lost_to_truncation"] += lost_here
        out["docs_with_lost_entities"] += 1 if lost_here else 0
        if kept_end < len(d.text.rstrip()):
            out["docs_full_tokens_gt_max"] += 1
    return out


def main(argv=None):
    args = parse_args(argv)
    t_script0 = time.perf_counter()

    import torch
    import transformers

    import medkit
    from medkit.io.medkit_json import load_text_documents
    from medkit.text.metrics.ner import SeqEvalEvaluator, SeqEvalMetricsComputer
    from medkit.text.ner.hf_entity_matcher import HFEntityMatcher
    from medkit.training import Trainer, TrainerConfig
    from medkit.training.callbacks import DefaultPrinterCallback, TrainerCallback

    def bf16_region(cache: bool):
        """torch.autocast bf16 where --bf16 (medkit has no mixed-precision switch: a user wraps
        trainer.train() and matcher.run(), as transformers' Trainer wraps each step).

        Training goes without autocast's weight-cast cache: it is cleared only when the
        outermost region exits, so one region around training would keep using the first step's
        bf16 weights (the model never learns). Each weight is cast once per forward either way.
        Inference keeps the cache (fixed weights: cast once per region)."""
        if not args.bf16:
            return contextlib.nullcontext()
        return torch.autocast(device_type="cpu" if args.device < 0 else "cuda",
                              dtype=torch.bfloat16, cache_enabled=cache)

    default_threads = torch.get_num_threads()
    if args.num_threads is not None:
        torch.set_num_threads(args.num_threads)

    env = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "medkit": getattr(medkit, "__version__", None),
        "torch_default_num_threads": default_threads,
        "torch_num_threads": torch.get_num_threads(),
        "torch_num_interop_threads": torch.get_num_interop_threads(),
        "device": "cpu" if args.device < 0 else f"cuda:{args.device}",
        "autocast_bf16": args.bf16,
    }
    if args.device >= 0:
        env["cuda_device_name"] = torch.cuda.get_device_name(args.device)

    def sync():
        if args.device >= 0:
            torch.cuda.synchronize(args.device)
    try:
        import tokenizers
        env["tokenizers"] = tokenizers.__version__
        import seqeval  # noqa: F401
        from importlib.metadata import version as _v
        env["seqeval"] = _v("seqeval")
        env["medkit"] = env["medkit"] or _v("medkit-lib")
    except Exception:  # pragma: no cover - informational only
        pass

    # ---------------------------------------------------------------- data
    t0 = time.perf_counter()
    train_docs = list(load_text_documents(args.train))[: args.max_train_docs] if args.train else []
    val_docs = list(load_text_documents(args.val))[: args.max_val_docs] if args.val else []
    test_docs = list(load_text_documents(args.test))[: args.max_test_docs] if args.test else []
    load_s = time.perf_counter() - t0

    if args.labels:
        labels = [x.strip() for x in args.labels.split(",") if x.strip()]
    else:
        labels = sorted({e.label for d in train_docs for e in d.anns.entities})

    def corpus_stats(docs):
        return {
            "docs": len(docs),
            "entities": sum(len(d.anns.entities) for d in docs),
            "chars": sum(len(d.text) for d in docs),
        }

    if not args.inference_only:
        # ---------------------------------------------------------------- component
        if args.init_seed >= 0:
            from medkit.training.trainer import set_seed
            set_seed(args.init_seed)
        t0 = time.perf_counter()
        trainable = HFEntityMatcher.make_trainable(
            model_name_or_path=args.model,
            labels=labels,
            tagging_scheme=args.tagging_scheme,
            tag_subtokens=args.tag_subtokens,
            tokenizer_max_length=args.max_length,
            device=args.device,
        )
        make_trainable_s = time.perf_counter() - t0
        n_params = sum(p.numel() for p in trainable._model.parameters())

        # token counts (outside any timed region): what the Trainer's DataLoader will feed the model
        def count_tokens(docs):
            lens = [len(trainable.preprocess(d)["input_ids"]) for d in docs]
            return {"tokens": sum(lens), "max_len": max(lens) if lens else 0,
                    "truncated_docs": sum(1 for x in lens if x >= args.max_length),
                    **truncation_stats(docs, trainable._encode_text)}

        if args.skip_corpus_stats:
            train_tok, val_tok = {"tokens": None}, {"tokens": None}
        else:
            train_tok = count_tokens(train_docs)
            val_tok = count_tokens(val_docs)

        metrics_computer = SeqEvalMetricsComputer(
            id_to_label=trainable.id_to_label,
            tagging_scheme=args.tagging_scheme,
            return_metrics_by_label=True,
            average=args.metrics_average,
        )

        # ---------------------------------------------------------------- timing callback
        base_cb = TrainerCallback if args.quiet else DefaultPrinterCallback

        class TimingCallback(base_cb):
            def __init__(self):
                super().__init__()
                self.epochs = []
                self._cur = None
                self._phase_t0 = None
                self._save_t0 = None

            def on_epoch_begin(self, epoch):
                self._close_save()  # the previous epoch's checkpoint save ends here
                super().on_epoch_begin(epoch)
                self._cur = {"epoch": epoch, "t_begin": time.perf_counter()}

            def on_step_begin(self, step_idx, nb_batches, phase):
                if step_idx == 0:
                    sync()
                    self._phase_t0 = time.perf_counter()
                super().on_step_begin(step_idx, nb_batches, phase)

            def on_step_end(self, step_idx, nb_batches, phase):
                super().on_step_end(step_idx, nb_batches, phase)
                if step_idx + 1 == nb_batches:
                    sync()
                    self._cur[f"{phase}_s"] = time.perf_counter() - self._phase_t0
                    self._cur[f"{phase}_batches"] = nb_batches

            def on_epoch_end(self, metrics, epoch, epoch_duration):
                self._cur["epoch_s"] = time.perf_counter() - self._cur.pop("t_begin")
                self._cur["medkit_epoch_duration_s"] = epoch_duration
                self.epochs.append(self._cur)
                # NB: medkit 0.17's base TrainerCallback.on_epoch_end is declared with `epoch_time`
                # but Trainer.train() calls it with `epoch_duration=`; only the printer accepts that.
                if base_cb is DefaultPrinterCallback:
                    super().on_epoch_end(metrics=metrics, epoch=epoch, epoch_duration=epoch_duration)

            def on_save(self, checkpoint_dir):
                super().on_save(checkpoint_dir)
                # the Trainer saves right after this callback; the save time is measured as
                # (this moment -> next epoch begin / train end)
                self._save_t0 = time.perf_counter()
                self.epochs[-1]["checkpoint_dir"] = checkpoint_dir

            def _close_save(self):
                if self._save_t0 is not None:
                    self.epochs[-1]["save_s"] = time.perf_counter() - self._save_t0
                    self._save_t0 = None

            def on_train_end(self):
                self._close_save()
                super().on_train_end()

        cb = TimingCallback()

        # count padded tokens (rows x longest row) and non-padding tokens of every collated batch, per phase;
        # the phase switches to "eval" when the last train step ends (the eval DataLoader starts after that)
        _orig_collate = trainable.collate
        tok_counter = {"phase": "train", "train": [0, 0], "eval": [0, 0]}

        def counting_collate(batch):
            out = _orig_collate(batch)
            ids = out["input_ids"]
            c = tok_counter[tok_counter["phase"]]
            c[0] += int(ids.numel())
            c[1] += int(out["attention_mask"].sum())
            return out

        trainable.collate = counting_collate
        _orig_epoch_begin = cb.on_epoch_begin
        _orig_step_end = cb.on_step_end
        _orig_epoch_end = cb.on_epoch_end

        def _eb(epoch):
            tok_counter.update({"phase": "train", "train": [0, 0], "eval": [0, 0]})
            _orig_epoch_begin(epoch)

        def _se(step_idx, nb_batches, phase):
            _orig_step_end(step_idx, nb_batches, phase)
            if phase == "train" and step_idx + 1 == nb_batches:
                tok_counter["phase"] = "eval"

        def _ee(metrics, epoch, epoch_duration):
            _orig_epoch_end(metrics=metrics, epoch=epoch, epoch_duration=epoch_duration)
            cb.epochs[-1]["train_padded_tokens"], cb.epochs[-1]["train_nonpad_tokens_collated"] = tok_counter["train"]
            cb.epochs[-1]["eval_padded_tokens"], cb.epochs[-1]["eval_nonpad_tokens_collated"] = tok_counter["eval"]

        cb.on_epoch_begin, cb.on_step_end, cb.on_epoch_end = _eb, _se, _ee

        if args.clean_output_dir and Path(args.output_dir).exists():
            shutil.rmtree(args.output_dir)
        Path(args.output_dir).parent.mkdir(parents=True, exist_ok=True)

        config = TrainerConfig(
            output_dir=args.output_dir,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            nb_training_epochs=args.epochs,
            seed=args.seed,
            checkpoint_period=args.checkpoint_period,
        )
        trainer = Trainer(
            component=trainable,
            config=config,
            train_data=train_docs,
            eval_data=val_docs,
            metrics_computer=metrics_computer,
            callback=cb,
        )
        t0 = time.perf_counter()
        with bf16_region(cache=False):
            history = trainer.train()
        train_total_s = time.perf_counter() - t0

        epochs = []
        for rec, hist in zip(cb.epochs, history):
            tr_s = rec.get("train_s")
            rec = dict(rec)
            rec["train_examples_per_s"] = len(train_docs) / tr_s if tr_s else None
            nonpad = train_tok["tokens"] if train_tok["tokens"] is not None else rec.get("train_nonpad_tokens_collated")
            rec["train_tokens_per_s"] = nonpad / tr_s if tr_s and nonpad is not None else None
            rec["eval_full_s"] = rec["epoch_s"] - tr_s if tr_s else None
            rec["train_padded_tokens_per_s"] = rec.get("train_padded_tokens", 0) / tr_s if tr_s else None
            ev_s = rec.get("eval_s")
            rec["eval_examples_per_s"] = len(val_docs) / ev_s if ev_s else None
            rec["train_loss"] = hist["train"]["loss"]
            rec["eval_loss"] = hist["eval"]["loss"]
            rec["eval_f1"] = hist["eval"].get(f"{args.metrics_average}_f1-score")
            rec["eval_accuracy"] = hist["eval"].get("accuracy")
            epochs.append(rec)

        # ---------------------------------------------------------------- checkpoints
        def epoch_of(p):
            m = re.match(r"checkpoint_(\d+)_", Path(p).name)
            return int(m.group(1)) if m else -1

        ckpts = sorted((str(p) for p in Path(args.output_dir).glob("checkpoint_*")), key=epoch_of)
        last_ckpt = ckpts[-1] if ckpts else None
        # best = lowest eval loss among checkpoints still on disk (TrainerConfig default checkpoint_metric)
        best_ckpt = None
        if ckpts:
            by_epoch = {e["epoch"]: e["eval_loss"] for e in epochs}
            best_ckpt = min(ckpts, key=lambda p: by_epoch.get(epoch_of(p), float("inf")))

        result = {
            "args": vars(args),
            "env": env,
            "labels": labels,
            "id_to_label": {str(k): v for k, v in trainable.id_to_label.items()},
            "model_params": n_params,
            "corpus": {
                "train": {**corpus_stats(train_docs), **train_tok},
                "val": {**corpus_stats(val_docs), **val_tok},
                "test": corpus_stats(test_docs),
            },
            "timings": {
                "load_corpus_s": load_s,
                "make_trainable_s": make_trainable_s,
                "train_total_s": train_total_s,
            },
            "epochs": epochs,
            "history": history,
            "checkpoints": ckpts,
            "last_checkpoint": last_ckpt,
            "best_checkpoint": best_ckpt,
        }

    else:
        # inference only: evaluate an existing checkpoint (e.g. with another --inference-batch-size)
        last_ckpt = best_ckpt = args.inference_only
        result = {
            "args": vars(args),
            "env": env,
            "corpus": {"test": corpus_stats(test_docs)},
            "timings": {"load_corpus_s": load_s},
            "epochs": [],
        }
        n_params = None
        train_tok = {"tokens": 0}
        epochs = []

    # ---------------------------------------------------------------- inference
    if args.inference_batch_sizes:
        inf_batch_sizes = [int(x) for x in args.inference_batch_sizes.split(",") if x.strip()]
    else:
        inf_batch_sizes = [args.inference_batch_size]
    if test_docs and not args.skip_inference and last_ckpt:
        ckpt = last_ckpt if args.inference_checkpoint == "last" else best_ckpt
        n_chars = sum(len(d.text) for d in test_docs)
        from transformers import AutoTokenizer
        tok = AutoTokenizer.from_pretrained(ckpt, use_fast=True)
        evaluator = SeqEvalEvaluator(
            tagging_scheme=args.tagging_scheme,
            return_metrics_by_label=True,
            average=args.metrics_average,
            tokenizer=tok,
        )
        evaluator_chr = SeqEvalEvaluator(
            tagging_scheme=args.tagging_scheme,
            return_metrics_by_label=True,
            average=args.metrics_average,
        )
        # what the HF pipeline sees: truncation at the checkpoint's model_max_length
        _mml = tok.model_max_length

        def _encode_like_pipeline(text):
            return tok(text, truncation=bool(_mml and _mml > 0), return_special_tokens_mask=True).encodings[0]

        if not args.skip_corpus_stats:
            test_trunc = truncation_stats(test_docs, _encode_like_pipeline)
            test_trunc["model_max_length"] = _mml
            test_lens = [len(tok(d.text)["input_ids"]) for d in test_docs]
            result["corpus"]["test"].update({"tokens_untruncated": sum(test_lens),
                                             "max_len_untruncated": max(test_lens) if test_lens else 0,
                                             **test_trunc})
        runs = []
        first_pred_sig = None
        for bs in inf_batch_sizes:
            t0 = time.perf_counter()
            matcher = HFEntityMatcher(
                model=ckpt,
                device=args.device,
                batch_size=bs,
                aggregation_strategy=args.aggregation_strategy,
            )
            load_matcher_s = time.perf_counter() - t0

            segments = [d.raw_segment for d in test_docs]
            sync()
            t0 = time.perf_counter()
            with bf16_region(cache=True):
                if bs == 1:
                    # public API, one call per doc, so each predicted entity is attributed to its doc
                    predicted = [matcher.run([seg]) for seg in segments]
                else:
                    # HFEntityMatcher.run() returns one flat list for all segments; to keep the
                    # batching and still group entities per doc, do exactly what run() does minus
                    # the flattening
                    all_matches = list(matcher._pipeline(s.text for s in segments))
                    predicted = [list(matcher._matches_to_entities(m, s))
                                 for m, s in zip(all_matches, segments)]
            sync()
            infer_s = time.perf_counter() - t0

            t0 = time.perf_counter()
            test_metrics_tok = evaluator.compute(test_docs, predicted)
            test_metrics_chr = evaluator_chr.compute(test_docs, predicted)
            metrics_s = time.perf_counter() - t0
            pred_sig = [[(e.label, e.spans[0].start, e.spans[-1].end) for e in p] for p in predicted]
            if first_pred_sig is None:
                first_pred_sig = pred_sig
            runs.append({
                "checkpoint": ckpt,
                "matcher_load_s": load_matcher_s,
                "infer_s": infer_s,
                "docs": len(test_docs),
                "docs_per_s": len(test_docs) / infer_s if infer_s else None,
                "chars_per_s": n_chars / infer_s if infer_s else None,
                "predicted_entities": sum(len(p) for p in predicted),
                "gold_entities": sum(len(d.anns.entities) for d in test_docs),
                "batch_size": bs,
                "aggregation_strategy": args.aggregation_strategy,
                "same_predictions_as_first_run": pred_sig == first_pred_sig,
                "docs_with_different_predictions_than_first_run": sum(
                    1 for a, b in zip(pred_sig, first_pred_sig) if a != b),
                "metrics_s": metrics_s,
                "test_metrics_token_level": test_metrics_tok,
                "test_metrics_char_level": test_metrics_chr,
                "sample_predictions": [
                    {"text": test_docs[i].text,
                     "pred": [(e.label, e.text, e.spans[0].start, e.spans[0].end) for e in predicted[i]],
                     "gold": [(e.label, e.text, e.spans[0].start, e.spans[0].end)
                              for e in test_docs[i].anns.entities]}
                    for i in range(min(2, len(test_docs)))
                ],
            })
            del matcher
        result["inference"] = runs[0]
        if args.inference_batch_sizes:
            result["inference_runs"] = runs

    result["timings"]["script_total_s"] = time.perf_counter() - t_script0
    import resource
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    def _clean(o):
        if isinstance(o, dict):
            return {str(k): _clean(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [_clean(v) for v in o]
        if hasattr(o, "item") and callable(o.item):
            return o.item()
        return o

    result = _clean(result)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    if args.json_out:
        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_out).write_text(text)

    # ---------------------------------------------------------------- summary
    print("\n===== SUMMARY =====")
    print(f"torch {env['torch']} threads={env['torch_num_threads']} (default {default_threads}); "
          f"transformers {env['transformers']}; medkit {env['medkit']}")
    if not args.inference_only:
        print(f"model {args.model}  params={n_params}  labels={labels}")
        print(f"train docs={len(train_docs)} tokens={train_tok['tokens']}  val docs={len(val_docs)}")
    for e in epochs:
        print(f"epoch {e['epoch']}: epoch_s={e['epoch_s']:.2f} train_s={e.get('train_s', 0):.2f} "
              f"eval_s={e.get('eval_s', 0):.2f} save_s={e.get('save_s', 0):.2f} "
              f"train_ex/s={e['train_examples_per_s']:.2f} train_tok/s={e['train_tokens_per_s']:.0f} "
              f"train_loss={e['train_loss']:.4f} eval_loss={e['eval_loss']:.4f} "
              f"eval_{args.metrics_average}_f1={e['eval_f1']} eval_acc={e['eval_accuracy']}")
    for inf in result.get("inference_runs", [result["inference"]] if "inference" in result else []):
        print(f"inference (batch_size={inf['batch_size']}): {inf['docs']} docs in {inf['infer_s']:.3f}s = "
              f"{inf['docs_per_s']:.2f} docs/s "
              f"(matcher load {inf['matcher_load_s']:.2f}s); "
              f"test {args.metrics_average}_f1 token-level="
              f"{inf['test_metrics_token_level'].get(args.metrics_average + '_f1-score')} "
              f"char-level={inf['test_metrics_char_level'].get(args.metrics_average + '_f1-score')}")
    if args.json_out:
        print(f"JSON written to {args.json_out}")


if __name__ == "__main__":
    main()
