"""The cookbook "Fine-tuning a Transformers model with medkit", with only its medkit imports of
the matcher, trainer and metrics changed to medkit_rs (NCBI-disease sentence documents and
all-MiniLM-L6-v2 instead of CASM2 and DrBERT, 1 epoch)."""

from conftest import LABELS, MODEL


def test_cookbook_trains_and_annotates(small_corpus, tmp_path, caplog):
    import logging

    caplog.set_level(logging.INFO)
    # --- the cookbook's code, imports changed from medkit to medkit_rs ---
    from torch.utils.data import Dataset
    from medkit.io.medkit_json import load_text_documents

    class CorpusCASM2(Dataset):
        """A dataset of clinical cases from the CORPUS CAS(medkit--version)"""

        def __init__(self, split):
            print(f"Creating CorpusCASM2 corpus {split}")
            self.labels_set = LABELS
            data_path = small_corpus[split]  # the cookbook: f"{split}.jsonl"
            self.documents = [doc for doc in load_text_documents(data_path)]

        def __getitem__(self, idx):
            return self.documents[idx]

        def __len__(self):
            return len(self.documents)

    train_dataset = CorpusCASM2(split="train")
    val_dataset = CorpusCASM2(split="validation")

    from medkit_rs.text.ner.hf_entity_matcher import HFEntityMatcher

    hf_config = dict(
        model_name_or_path=str(MODEL),  # the cookbook: "Dr-BERT/DrBERT-4GB-CP-PubMedBERT"
        labels=LABELS,
        tokenizer_max_length=128,
        tagging_scheme="iob2",
        tag_subtokens=False,
    )
    hf_trainable = HFEntityMatcher.make_trainable(**hf_config)

    from medkit_rs.training import Trainer, TrainerConfig

    trainer_config = TrainerConfig(
        output_dir=str(tmp_path / "DrBert-CASM2"),
        batch_size=4,
        do_metrics_in_training=False,
        learning_rate=3e-4,  # the cookbook: 5e-6 over 5 epochs
        nb_training_epochs=1,
        seed=0,
        log_step_interval=100,
    )

    from medkit_rs.text.metrics.ner import SeqEvalMetricsComputer

    mc_seqeval = SeqEvalMetricsComputer(
        id_to_label=hf_trainable.id_to_label,  # the cookbook writes hf_matcher (undefined there)
        tagging_scheme=hf_trainable.tagging_scheme,
        return_metrics_by_label=True,
    )
    trainer_with_metrics = Trainer(
        component=hf_trainable,
        config=trainer_config,
        train_data=train_dataset,
        eval_data=val_dataset,
        metrics_computer=mc_seqeval,
    )
    history_with_metrics = trainer_with_metrics.train()

    from medkit.core.text import TextDocument

    checkpoint = trainer_with_metrics.last_checkpoint
    matcher = HFEntityMatcher(model=checkpoint)
    test_doc = TextDocument("Germline mutations in BRCA1 predispose to hereditary breast and ovarian cancer.")
    detected_entities = matcher.run([test_doc.raw_segment])
    msg = "|".join(f"'{entity.label}':{entity.text}" for entity in detected_entities)
    print(f"Text: '{test_doc.text}'\n{msg}")
    # --- end of the cookbook's code ---

    # medkit's history: one epoch, train loss, eval loss and seqeval metrics by label
    assert len(history_with_metrics) == 1
    epoch = history_with_metrics[0]
    assert set(epoch) == {"train", "eval"}
    assert 0 < epoch["train"]["loss"] < 5 and 0 < epoch["eval"]["loss"] < 5
    # medkit 0.17's keys (the cookbook's log shows an older medkit's overall_*)
    for key in ("macro_precision", "macro_recall", "macro_f1-score", "accuracy", "SpecificDisease_f1-score"):
        assert 0.0 <= epoch["eval"][key] <= 1.0, key
    # the default printer logged medkit's lines through Python's logging
    printed = [r.getMessage() for r in caplog.records]
    assert any("Evaluation metrics" in m for m in printed), printed[-5:]

    # one epoch on 300 sentences learns some diseases; every entity is a medkit Entity with a
    # score attribute, its text what its span covers
    from medkit.core.text import Entity

    for e in detected_entities:
        assert isinstance(e, Entity)
        assert e.label in LABELS
        (span,) = e.spans
        assert test_doc.text[span.start : span.end] == e.text
        (score,) = e.attrs.get(label="score")
        assert 0.0 < score.value <= 1.0

    # the annotations load back as medkit entities: add them to documents, save, load
    from medkit.io.medkit_json import save_text_documents

    test_docs = [TextDocument(text=d.text, uid=d.uid) for d in load_text_documents(small_corpus["test"])]
    for doc in test_docs:
        for e in matcher.run([doc.raw_segment]):
            doc.anns.add(e)
    out = tmp_path / "annotated.jsonl"
    save_text_documents(test_docs, out)
    back = list(load_text_documents(out))
    found = sum(len(d.anns.entities) for d in back)
    assert found > 10, found
    assert [e.to_dict() for d in back for e in d.anns.entities] == [
        e.to_dict() for d in test_docs for e in d.anns.entities
    ]
