"""The same training from Python and from `medkit run`, and the same annotation from Python and
from `medkit annotate`: same losses and metrics, same entities."""

import json
import subprocess

from conftest import LABELS, MEDKIT, MODEL, write_pipeline

SETTINGS = dict(learning_rate=3e-4, nb_training_epochs=2, batch_size=8, seed=7)


def cli_run(tmp_path, corpus):
    out = tmp_path / "cli"
    pipeline = write_pipeline(
        tmp_path / "pipeline.toml",
        corpus,
        {"output_dir": out, **SETTINGS},
        extra='[train.metrics]\noperation = "seqeval"\ntagging_scheme = "iob2"\naverage = "macro"\n',
    )
    subprocess.run([str(MEDKIT), "run", str(pipeline)], check=True, capture_output=True)
    history = json.loads((out / "history.json").read_text(encoding="utf-8"))
    return out, history


def close(a, b, what):
    assert a.keys() == b.keys(), (what, set(a) ^ set(b))
    for k in a:
        assert abs(a[k] - b[k]) <= 1e-6 * max(1.0, abs(a[k])), f"{what}.{k}: {a[k]} vs {b[k]}"


def test_python_training_and_annotation_equal_the_cli(small_corpus, tmp_path):
    from medkit.io.medkit_json import load_text_documents

    from medkit_rs import HFEntityMatcher
    from medkit_rs.metrics import SeqEvalMetricsComputer
    from medkit_rs.training import Trainer, TrainerConfig

    cli_dir, cli_history = cli_run(tmp_path, small_corpus)

    trainable = HFEntityMatcher.make_trainable(
        model_name_or_path=str(MODEL), labels=LABELS, tagging_scheme="iob2", tokenizer_max_length=128
    )
    trainer = Trainer(
        component=trainable,
        config=TrainerConfig(output_dir=str(tmp_path / "py"), **SETTINGS),
        train_data=list(load_text_documents(small_corpus["train"])),
        eval_data=list(load_text_documents(small_corpus["validation"])),
        metrics_computer=SeqEvalMetricsComputer(trainable.id_to_label, tagging_scheme="iob2"),
    )
    history = trainer.train()

    assert len(history) == len(cli_history) == 2
    for i, (py_epoch, cli_epoch) in enumerate(zip(history, cli_history)):
        close(py_epoch["train"], cli_epoch["train"], f"epoch {i} train")
        close(py_epoch["eval"], cli_epoch["eval"], f"epoch {i} eval")

    # both checkpoints record what produced them; the Python one the documents' hash
    from pathlib import Path

    record = json.loads((Path(trainer.last_checkpoint) / "provenance.json").read_text())
    assert record["data"]["train_data"]["documents"] == 300
    assert len(record["data"]["train_data"]["sha256"]) == 64
    assert record["config"]["trainer"]["seed"] == SETTINGS["seed"]
    assert record["config"]["trainable"]["operation"] == "hf-entity-matcher"
    assert record["versions"]["runtime"]["libtorch"].startswith("2.11")
    names = {p["name"] for p in record["versions"]["plugins"]}
    assert {"medkit-plugin-hf", "medkit-plugin-metrics"} <= names, names

    # annotation: Python's matcher on the Python checkpoint = `medkit annotate` on the CLI's
    cli_out = tmp_path / "cli-annotated.jsonl"
    subprocess.run(
        [str(MEDKIT), "annotate", "--model", f"{cli_dir}@last", "--input", str(small_corpus["test"]),
         "--output", str(cli_out), "--drop-existing-entities"],
        check=True,
        capture_output=True,
    )
    cli_docs = list(load_text_documents(cli_out))
    matcher = HFEntityMatcher(model=trainer.last_checkpoint)
    n = 0
    for doc in cli_docs:
        mine = matcher.run([doc.raw_segment])
        theirs = doc.anns.entities
        assert [(e.label, e.text, [(s.start, s.end) for s in e.spans]) for e in mine] == [
            (e.label, e.text, [(s.start, s.end) for s in e.spans]) for e in theirs
        ], doc.uid
        for a, b in zip(mine, theirs):
            assert abs(a.attrs.get(label="score")[0].value - b.attrs.get(label="score")[0].value) <= 1e-6
        n += len(mine)
    assert n > 0
