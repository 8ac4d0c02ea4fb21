"""The Python API's shape: medkit 0.17's names and defaults, and the host's trainer keys."""

import dataclasses
import inspect
import json


def test_trainer_config_is_medkits_plus_the_hosts_keys():
    from medkit_rs import _native
    from medkit_rs.training import TrainerConfig

    fields = {f.name: f.default for f in dataclasses.fields(TrainerConfig)}
    assert fields.pop("output_dir") is dataclasses.MISSING
    # every key of the host's [train.trainer] table, with the same default
    assert fields == json.loads(_native.trainer_config_defaults())
    # medkit 0.17's fields and defaults
    medkit = dict(learning_rate=1e-5, nb_training_epochs=3, dataloader_nb_workers=0, batch_size=1, seed=None,
                  gradient_accumulation_steps=1, do_metrics_in_training=False, metric_to_track_lr="loss",
                  checkpoint_period=1, checkpoint_metric="loss", minimize_checkpoint_metric=True)
    assert {k: fields[k] for k in medkit} == medkit
    assert "log_step_interval" in fields


def test_medkit_signatures():
    from medkit_rs import HFEntityMatcher
    from medkit_rs.metrics import SeqEvalMetricsComputer
    from medkit_rs.training import Trainer

    def params(f):
        return list(inspect.signature(f).parameters)

    assert params(HFEntityMatcher.__init__)[1:10] == [
        "model", "aggregation_strategy", "attrs_to_copy", "device", "batch_size", "hf_auth_token",
        "cache_dir", "name", "uid"]
    # medkit-rs's own arguments come after medkit's, keyword only
    extras = list(inspect.signature(HFEntityMatcher.__init__).parameters.values())[10:]
    assert [(p.name, p.kind) for p in extras] == [
        ("bf16", inspect.Parameter.KEYWORD_ONLY), ("quantize", inspect.Parameter.KEYWORD_ONLY)]
    assert params(HFEntityMatcher.make_trainable) == [
        "model_name_or_path", "labels", "tagging_scheme", "tag_subtokens", "tokenizer_max_length",
        "hf_auth_token", "device"]
    assert params(Trainer.__init__)[1:8] == [
        "component", "config", "train_data", "eval_data", "metrics_computer", "lr_scheduler_builder", "callback"]
    assert params(SeqEvalMetricsComputer.__init__)[1:] == [
        "id_to_label", "tagging_scheme", "return_metrics_by_label", "average"]


def test_trainable_exposes_medkits_label_maps():
    from conftest import LABELS, MODEL

    from medkit_rs import HFEntityMatcher

    t = HFEntityMatcher.make_trainable(str(MODEL), LABELS, "bilou", tokenizer_max_length=32)
    assert t.tagging_scheme == "bilou"
    assert t.id_to_label[0] == "O"
    assert len(t.id_to_label) == 1 + 4 * len(LABELS)
    assert {t.label_to_id[v]: v for v in t.label_to_id} == t.id_to_label
    assert "U-Modifier" in t.label_to_id


def test_packaged_plugins_load_without_environment():
    import medkit_rs

    ops = set(medkit_rs.operations())
    for op in [("ner", "hf-entity-matcher"), ("trainable", "hf-entity-matcher"), ("metrics", "seqeval"),
               ("callback", "default-printer"), ("tagging-scheme", "iob2"), ("segmentation", "sentence-tokenizer")]:
        assert op in ops, op


def test_a_segmentation_operation_by_name():
    import pytest

    from medkit_rs import operation

    op = operation("sentence-tokenizer", kind="segmentation", output_label="phrase")
    text = "Noël a de la fièvre. Pas de céphalée ! État général conservé"
    (segments,) = op.run([text])
    assert [s["label"] for s in segments] == ["phrase"] * 3
    for s in segments:
        (span,) = s["spans"]
        assert text[span["start"] : span["end"]] == s["text"]  # code point offsets
    assert segments[1]["text"] == "Pas de céphalée "  # medkit's SentenceTokenizer keeps that space
    with pytest.raises(TypeError, match="list of str"):
        op.run("one text")


def test_the_matchers_threads_key_sets_libtorchs_threads(tmp_path):
    """`threads` (what medkit_rs.spark sets per task) is libtorch's thread count of the process:
    torch, whose libtorch the plugin uses, sees it."""
    import subprocess
    import sys

    from conftest import LABELS, MODEL

    code = f"""
import medkit_rs, torch
t = medkit_rs.HFEntityMatcher.make_trainable({str(MODEL)!r}, {LABELS!r}, "iob2")
t.save({str(tmp_path / "m")!r})
medkit_rs.operation("hf-entity-matcher", kind="ner", model={str(tmp_path / "m")!r}, threads=1)
print(torch.get_num_threads())
"""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**__import__("os").environ, "OMP_NUM_THREADS": "2"})
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split()[-1] == "1"


def test_import_bounds_onednns_primitive_cache_unless_the_user_set_it():
    """As the CLI: 16 oneDNN primitives by default (BENCHMARKS.md, "oneDNN's primitive cache"),
    the user's value kept."""
    import os
    import subprocess
    import sys

    code = "import os, medkit_rs; print(os.environ['ONEDNN_PRIMITIVE_CACHE_CAPACITY'])"
    env = {k: v for k, v in os.environ.items() if k != "ONEDNN_PRIMITIVE_CACHE_CAPACITY"}
    for given, expected in ((None, "16"), ("1024", "1024")):
        run_env = env if given is None else {**env, "ONEDNN_PRIMITIVE_CACHE_CAPACITY": given}
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=run_env)
        assert r.returncode == 0, r.stderr[-2000:]
        assert r.stdout.split()[-1] == expected


def test_matcher_bf16_and_int8_reach_the_operation(trained_checkpoint, small_corpus):
    """``HFEntityMatcher(bf16=True)`` / ``(quantize="int8")`` give the entities of the matcher
    operation with that key, other scores than fp32; bad values raise."""
    import pytest

    from medkit_rs import HFEntityMatcher, MedkitError, operation

    with open(small_corpus["test"], encoding="utf-8") as f:
        texts = [d["text"] for d in map(json.loads, f) if "text" in d][:40]

    def found(matcher):
        return [[(e.label, e.spans[0].start, e.spans[-1].end, e.attrs.get(label="score")[0].value)
                 for e in matcher.run([t])] for t in texts]

    fp32 = found(HFEntityMatcher(model=trained_checkpoint))
    assert sum(map(len, fp32)) > 0
    for key, value in (("bf16", True), ("quantize", "int8")):
        mine = found(HFEntityMatcher(model=trained_checkpoint, **{key: value}))
        theirs = found(operation("hf-entity-matcher", kind="ner", model=trained_checkpoint, **{key: value}))
        assert mine == theirs, key
        assert mine != fp32, f"{key} did not reach the matcher"
    with pytest.raises(TypeError, match="bf16"):
        HFEntityMatcher(model=trained_checkpoint, bf16="yes")
    with pytest.raises(TypeError, match="quantize"):
        HFEntityMatcher(model=trained_checkpoint, quantize=8)
    with pytest.raises(MedkitError, match="int4"):
        HFEntityMatcher(model=trained_checkpoint, quantize="int4")
    with pytest.raises(MedkitError, match="bf16"):
        HFEntityMatcher(model=trained_checkpoint, bf16=True, quantize="int8")
