"""Third-party plugins from Python, operations by name, Python callbacks, logging, pipelines."""

import json
import logging

import pytest

from conftest import LABELS, MODEL, write_pipeline


def docs(path, n=None):
    from medkit.io.medkit_json import load_text_documents

    return list(load_text_documents(path))[:n]


class Recorder:
    """A callback written in Python with medkit's TrainerCallback methods."""

    def __init__(self):
        self.events = []

    def on_train_begin(self, config):
        self.events.append(("train_begin", config["batch_size"]))

    def on_epoch_end(self, metrics, epoch, epoch_duration):
        self.events.append(("epoch_end", epoch, sorted(metrics["eval"])))

    def on_save(self, checkpoint_dir):
        self.events.append(("save", checkpoint_dir))

    def on_train_end(self):
        self.events.append(("train_end",))


def test_third_party_plugin_and_python_callback(template_plugin_dir, small_corpus, tmp_path, caplog):
    import medkit_rs
    from medkit_rs import HFEntityMatcher, MedkitError, operation
    from medkit_rs.metrics import SeqEvalMetricsComputer
    from medkit_rs.training import DefaultPrinterCallback, Trainer, TrainerConfig

    with pytest.raises(MedkitError, match="no metrics operation named 'token-accuracy'"):
        operation("token-accuracy", kind="metrics")
    with pytest.raises(MedkitError, match="does not exist"):
        medkit_rs.load_plugins(tmp_path / "nowhere")
    assert medkit_rs.load_plugins(template_plugin_dir) == 1
    assert medkit_rs.load_plugins(template_plugin_dir) == 0  # already loaded
    assert ("metrics", "token-accuracy") in medkit_rs.operations()

    caplog.set_level(logging.INFO)
    trainable = HFEntityMatcher.make_trainable(str(MODEL), LABELS, "iob2", tokenizer_max_length=64)
    recorder = Recorder()
    epochs_file = tmp_path / "epochs.txt"
    trainer = Trainer(
        component=trainable,
        config=TrainerConfig(output_dir=str(tmp_path / "run"), batch_size=8, learning_rate=3e-4,
                             nb_training_epochs=2, seed=1),
        train_data=docs(small_corpus["train"], 64),
        eval_data=docs(small_corpus["validation"], 16),
        metrics_computer=[SeqEvalMetricsComputer(trainable.id_to_label, "iob2"),
                          operation("token-accuracy", kind="metrics")],
        callback=[DefaultPrinterCallback(), operation("epoch-file", kind="callback", path=str(epochs_file)), recorder],
    )
    history = trainer.train()

    assert len(history) == 2
    assert "macro_f1-score" in history[0]["eval"]
    assert any(k.startswith("token-accuracy") or k == "token_accuracy" for k in history[0]["eval"]), history[0]["eval"]
    assert len(epochs_file.read_text().splitlines()) == 2
    kinds = [e[0] for e in recorder.events]
    assert kinds[0] == "train_begin" and recorder.events[0][1] == 8
    assert kinds.count("epoch_end") == 2 and kinds.count("save") >= 1 and kinds[-1] == "train_end"
    assert recorder.events[1][1] == 1 and "loss" in recorder.events[1][2]
    # plugins' log records reach Python's logging, one logger per plugin crate
    names = {r.name.split(".")[0] for r in caplog.records}
    assert "medkit_plugin_callbacks" in names, names


def test_run_pipeline_with_overrides(small_corpus, tmp_path):
    import medkit_rs

    pipeline = write_pipeline(tmp_path / "p.toml", small_corpus, {"output_dir": "run", "nb_training_epochs": 3},
                              max_length=64, max_documents=40)
    medkit_rs.run_pipeline(pipeline, overrides={"train.trainer.nb_training_epochs": 1, "train.trainer.batch_size": 8})
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert len(history) == 1
    with pytest.raises(medkit_rs.MedkitError, match="nb_trainig_epochs"):
        medkit_rs.run_pipeline(pipeline, overrides={"train.trainer.nb_trainig_epochs": 1})
    with pytest.raises(medkit_rs.MedkitError, match="missing.toml"):
        medkit_rs.run_pipeline(tmp_path / "missing.toml")
