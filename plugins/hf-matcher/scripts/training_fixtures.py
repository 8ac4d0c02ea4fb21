"""Python medkit's HFEntityMatcherTrainable on the tiny-ner fixture model: preprocessed features
(several tagging settings) and the eval loss/predictions of one padded batch, for
tests/matcher_training_parity.rs. Run after scripts/inference_fixtures.py, from the crate dir:
  /work/.venv-anchor/bin/python scripts/training_fixtures.py
"""

import json
import pathlib

import torch
from medkit.core.text import Entity, Span, TextDocument
from medkit.text.ner.hf_entity_matcher import HFEntityMatcher

CRATE = pathlib.Path(__file__).resolve().parent.parent
OUT = CRATE / "tests/matcher_fixtures"
MODEL = OUT / "tiny-ner"
DOCS = [
    ("Le patient présente une fièvre et un œdème aux jambes.", [("problem", "fièvre"), ("problem", "œdème aux jambes")]),
    ("Elle est sous paracétamol depuis trois jours.", [("treatment", "paracétamol")]),
    ("Il a une toux et une douleur aux jambes à l'hôpital.", [("problem", "toux"), ("problem", "douleur aux jambes")]),
    ("La sœur de la patiente a une toux, pas de fièvre.", [("problem", "toux"), ("problem", "fièvre")]),
    ("Traitement par paracétamol.", [("treatment", "Traitement par paracétamol")]),
]


def documents():
    docs = []
    for text, ents in DOCS:
        doc = TextDocument(text=text)
        pos = 0
        for label, surface in ents:
            start = text.index(surface, pos)
            pos = start + len(surface)
            doc.anns.add(Entity(label=label, spans=[Span(start, pos)], text=surface))
        docs.append(doc)
    return docs


def main():
    settings = []
    for scheme, tag_subtokens in (("iob2", False), ("iob2", True), ("bilou", False)):
        trainable = HFEntityMatcher.make_trainable(
            model_name_or_path=str(MODEL),
            labels=["problem", "treatment"],
            tagging_scheme=scheme,
            tag_subtokens=tag_subtokens,
        )
        feats = [trainable.preprocess(d) for d in documents()]
        entry = {
            "tagging_scheme": scheme,
            "tag_subtokens": tag_subtokens,
            "id_to_label": [trainable.id_to_label[i] for i in range(len(trainable.id_to_label))],
            "features": [{"input_ids": f["input_ids"], "labels": f["labels"]} for f in feats],
        }
        if scheme == "iob2" and not tag_subtokens:
            # The fixture's own head (same label set): the eval loss is comparable.
            with torch.no_grad():
                batch = trainable.collate(feats)
                out, loss = trainable.forward(batch, return_loss=True, eval_mode=True)
            preds = out["logits"].argmax(-1)
            labels = batch["labels"]
            entry["eval_loss"] = loss.item()
            entry["eval_predictions"] = [p[l != -100].tolist() for p, l in zip(preds, labels)]
        settings.append(entry)
    out = {"documents": [{"text": t, "entities": e} for t, e in DOCS], "settings": settings}
    (OUT / "training.json").write_text(json.dumps(out, ensure_ascii=False) + "\n")
    print(f"{len(settings)} settings")


if __name__ == "__main__":
    main()
