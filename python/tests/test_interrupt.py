"""Ctrl-C during Trainer.train(): a KeyboardInterrupt naming a resumable checkpoint, after the
trainer stopped at a step boundary; train(resume=True) finishes the run."""

import os
import signal

import pytest

from conftest import LABELS, MODEL


class CtrlCAtStep:
    def __init__(self, step):
        self.step = step
        self.sent = False

    def on_step_end(self, step_idx, nb_batches, phase):
        if phase == "train" and step_idx >= self.step and not self.sent:
            self.sent = True
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_stops_with_a_resumable_checkpoint(small_corpus, tmp_path):
    from medkit.io.medkit_json import load_text_documents

    from medkit_rs import HFEntityMatcher
    from medkit_rs.training import Trainer, TrainerConfig

    train = list(load_text_documents(small_corpus["train"]))[:96]
    val = list(load_text_documents(small_corpus["validation"]))[:16]
    config = TrainerConfig(output_dir=str(tmp_path / "run"), batch_size=8, nb_training_epochs=2, seed=3)

    def make():
        return HFEntityMatcher.make_trainable(str(MODEL), LABELS, "iob2", tokenizer_max_length=64)

    trainer = Trainer(make(), config, train, val, callback=CtrlCAtStep(3))
    with pytest.raises(KeyboardInterrupt, match="resumable checkpoint"):
        trainer.train()
    assert list((tmp_path / "run").glob("*step*")), list((tmp_path / "run").iterdir())

    history = Trainer(make(), config, train, val).train(resume=True)
    assert len(history) == 2
    assert all(e["train"]["loss"] > 0 for e in history)
