"""Bad input from Python raises a clear exception naming what is wrong; the interpreter lives."""

import json
import subprocess
import sys

import pytest

from conftest import LABELS, MODEL


@pytest.fixture(scope="module")
def trainable():
    from medkit_rs import HFEntityMatcher

    return HFEntityMatcher.make_trainable(str(MODEL), LABELS, "iob2", tokenizer_max_length=64)


def doc(text, entities=()):
    from medkit.core.text import Entity, Span, TextDocument

    d = TextDocument(text)
    for label, start, end in entities:
        d.anns.add(Entity(label=label, spans=[Span(start, end)], text=text[start:end]))
    return d


def test_missing_model_dir(tmp_path):
    from medkit_rs import HFEntityMatcher, MedkitError

    with pytest.raises(MedkitError, match="does-not-exist"):
        HFEntityMatcher(model=str(tmp_path / "does-not-exist"))
    with pytest.raises(MedkitError, match="does-not-exist"):
        HFEntityMatcher.make_trainable(str(tmp_path / "does-not-exist"), LABELS, "iob2")


def test_wrong_types():
    from medkit_rs import HFEntityMatcher
    from medkit_rs.training import Trainer, TrainerConfig

    with pytest.raises(TypeError, match="batch_size"):
        HFEntityMatcher(model=str(MODEL), batch_size="16")
    with pytest.raises(TypeError, match="labels"):
        HFEntityMatcher.make_trainable(str(MODEL), "Disease", "iob2")
    with pytest.raises(TypeError, match="component"):
        Trainer(component="model", config=TrainerConfig(output_dir="x"), train_data=[], eval_data=[])
    matcher = HFEntityMatcher(model=str(MODEL))
    with pytest.raises(TypeError, match="list of segments"):
        matcher.run("a text, not a list")
    with pytest.raises(TypeError, match=r"segments\[1\]"):
        matcher.run([doc("one").raw_segment, 42])


def test_bad_config_values(trainable, tmp_path):
    from medkit_rs import HFEntityMatcher, MedkitError, operation
    from medkit_rs.training import Trainer, TrainerConfig

    with pytest.raises(MedkitError, match="aggregation"):
        HFEntityMatcher(model=str(MODEL), aggregation_strategy="median")
    with pytest.raises(MedkitError, match="tagging_scheme"):
        HFEntityMatcher.make_trainable(str(MODEL), LABELS, "bioes")
    with pytest.raises(TypeError, match="unexpected keyword argument 'nb_epochs'"):
        TrainerConfig(output_dir="x", nb_epochs=3)
    with pytest.raises(MedkitError, match="unknown field `weight_decy`"):
        Trainer(trainable, TrainerConfig(output_dir=str(tmp_path / "o")), [doc("a")], [doc("b")],
                optimizer={"weight_decy": 0.1}).train()
    with pytest.raises(MedkitError, match="batch_size must be > 0"):
        Trainer(trainable, TrainerConfig(output_dir=str(tmp_path / "o"), batch_size=0), [doc("a")], [doc("b")]).train()
    with pytest.raises(MedkitError, match="threads must be positive"):
        operation("hf-entity-matcher", kind="ner", model=str(MODEL), threads=0)
    with pytest.raises(MedkitError, match="no metrics operation named 'f1'"):
        operation("f1", kind="metrics")
    with pytest.raises(ValueError, match="unknown operation kind"):
        operation("seqeval", kind="metric")
    with pytest.raises(TypeError, match="lr_scheduler_builder"):
        Trainer(trainable, TrainerConfig(output_dir="x"), [], [], lr_scheduler_builder=lambda opt: None)


def test_documents_that_disagree_with_their_spans(trainable, tmp_path):
    from medkit.core.text import Entity, Span

    from medkit_rs import MedkitError
    from medkit_rs.training import Trainer, TrainerConfig

    good = doc("Familial adenomatous polyposis.", [("SpecificDisease", 0, 30)])
    bad = doc("A case of cystic fibrosis.")
    # medkit checks the length of an entity's text against its spans, not the characters
    bad.anns.add(Entity(label="SpecificDisease", spans=[Span(0, 6)], text="cystic"))
    bad_json = json.loads(json.dumps(bad.to_dict()))
    assert bad_json["anns"][0]["text"] != bad.text[0:6]
    # the span [30, 40) is past the end of a 26-character text
    past = doc("A case of cystic fibrosis.")
    past.anns.add(Entity(label="SpecificDisease", spans=[Span(30, 40)], text="x" * 10))
    trainer = Trainer(trainable, TrainerConfig(output_dir=str(tmp_path / "o")), [good, good, past], [good])
    with pytest.raises(MedkitError, match=r"train_data\[2\].*not within the document text"):
        trainer.train()
    with pytest.raises(TypeError, match=r"eval_data\[0\]: expected a medkit TextDocument, got str"):
        Trainer(trainable, TrainerConfig(output_dir=str(tmp_path / "o")), [good], ["text"]).train()
    assert not list((tmp_path / "o").glob("checkpoint_*")), "nothing is trained from bad data"


def test_a_panicking_plugin_is_an_exception(faulty_plugin_dir, trained_checkpoint, tmp_path):
    """The faulty plugin panics in a constructor and in a metrics call: MedkitErrors, and the
    interpreter goes on."""
    import medkit_rs
    from medkit_rs import MedkitError, operation
    from medkit_rs.training import Trainer, TrainerConfig

    medkit_rs.load_plugins(faulty_plugin_dir)
    with pytest.raises(MedkitError, match="panic in plugin: deliberate panic in constructor"):
        operation("faulty-constructor", kind="ner")
    trainable = medkit_rs.HFEntityMatcher.make_trainable(str(MODEL), LABELS, "iob2", tokenizer_max_length=32)
    d = doc("Familial adenomatous polyposis.", [("SpecificDisease", 0, 30)])
    trainer = Trainer(trainable, TrainerConfig(output_dir=str(tmp_path / "o")), [d], [d],
                      metrics_computer=operation("faulty-metrics", kind="metrics"))
    with pytest.raises(MedkitError, match="deliberate panic in prepare_batch"):
        trainer.train()
    assert medkit_rs.HFEntityMatcher(model=trained_checkpoint).run(["still alive"]) is not None


def test_strings_without_medkit_give_dicts(trained_checkpoint):
    code = r"""
import sys
for m in ("medkit", "medkit.core", "medkit.core.text"):
    sys.modules[m] = None  # medkit not installed
import json, medkit_rs
matcher = medkit_rs.HFEntityMatcher(model=sys.argv[1])
out = matcher.run(["Familial adenomatous polyposis is a disease.", "Noël a une maladie."])
print(json.dumps(out))
"""
    r = subprocess.run([sys.executable, "-c", code, trained_checkpoint], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout.strip().splitlines()[-1])
    assert rows, "the trained checkpoint finds the diseases"
    for row in rows:
        assert set(row) == {"label", "start", "end", "text", "score"}


def test_an_import_without_libtorch_fails_naming_the_plugin(tmp_path):
    """The package copied away from the torch package its plugins find libtorch in: the import
    fails, naming the plugin and the library it lacks (nothing half-loaded)."""
    import os
    import shutil
    from pathlib import Path

    import medkit_rs

    shutil.copytree(Path(medkit_rs.__file__).parent, tmp_path / "medkit_rs")
    env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    r = subprocess.run([sys.executable, "-c", "import medkit_rs"], env={**env, "PYTHONPATH": str(tmp_path)},
                       cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode != 0
    assert "MedkitError" in r.stderr and "libmedkit_plugin_hf.so" in r.stderr, r.stderr[-2000:]
    assert "cannot open shared object file" in r.stderr, r.stderr[-2000:]
