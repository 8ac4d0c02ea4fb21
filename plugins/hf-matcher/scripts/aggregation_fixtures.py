"""Expected outputs of transformers' TokenClassificationPipeline.postprocess on hand-made logits.

Writes tests/matcher_fixtures/aggregation.json for tests/matcher_aggregation.rs. Run from the crate
directory with the anchor venv:  /work/.venv-anchor/bin/python scripts/aggregation_fixtures.py
The tokenizer is a WordPiece over the tiny test BERT's vocabulary (src/testing.rs).
"""

import json
import pathlib
import re
import tempfile
import types

import numpy as np
import torch
import transformers
from tokenizers import BertWordPieceTokenizer
from transformers import PreTrainedTokenizerFast
from transformers.pipelines.token_classification import AggregationStrategy, TokenClassificationPipeline

CRATE = pathlib.Path(__file__).resolve().parent.parent
TINY = (CRATE / "src/testing.rs").read_text()
VOCAB = re.findall(r'"([^"]+)"', TINY.split("pub const VOCAB")[1].split("];")[0])

IOB2 = ["O", "B-problem", "I-problem", "B-treatment", "I-treatment"]
BILOU = ["O", "B-problem", "I-problem", "L-problem", "U-problem"]
TEXTS = [
    "Le patient présente une fièvre et un œdème aux jambes.",
    "Elle est sous paracétamol depuis trois jours, xyz.",
    "Il a une toux et une douleur aux jambes à l'hôpital.",
]


def tokenizer():
    d = tempfile.mkdtemp()
    (pathlib.Path(d) / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    # What HfTokenizer builds from vocab.txt (BertNormalizer without accent stripping, WordPiece "##").
    wp = BertWordPieceTokenizer(f"{d}/vocab.txt", lowercase=True, strip_accents=False)
    return PreTrainedTokenizerFast(
        tokenizer_object=wp._tokenizer,
        unk_token="[UNK]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        mask_token="[MASK]",
    )


def pipeline(tok, labels):
    pipe = object.__new__(TokenClassificationPipeline)
    pipe.model = types.SimpleNamespace(config=types.SimpleNamespace(id2label=dict(enumerate(labels))))
    pipe.tokenizer = tok
    return pipe


def windows(tok, text, stride):
    kwargs = dict(return_offsets_mapping=True, return_special_tokens_mask=True)
    if stride is not None:
        kwargs.update(max_length=8, truncation=True, stride=stride, return_overflowing_tokens=True, padding=True)
    enc = tok(text, **kwargs)
    if stride is None:
        return [{k: enc[k] for k in ("input_ids", "offset_mapping", "special_tokens_mask")}]
    return [
        {k: enc[k][i] for k in ("input_ids", "offset_mapping", "special_tokens_mask")}
        for i in range(len(enc["input_ids"]))
    ]


def main():
    tok = tokenizer()
    rng = np.random.default_rng(0)
    cases = []
    for labels in (IOB2, BILOU):
        pipe = pipeline(tok, labels)
        for text in TEXTS:
            for stride in (None, 2):
                wins = windows(tok, text, stride)
                for w in wins:
                    w["logits"] = (rng.normal(size=(len(w["input_ids"]), len(labels))) * 2.0).astype(np.float32)
                for strategy in ("none", "simple", "first", "average", "max"):
                    if stride is not None and strategy == "none":
                        continue  # the pipeline refuses stride with strategy none
                    outputs = [
                        {
                            "logits": torch.tensor(w["logits"]).unsqueeze(0),
                            "sentence": text,
                            "input_ids": torch.tensor(w["input_ids"]).unsqueeze(0),
                            "offset_mapping": torch.tensor(w["offset_mapping"]).unsqueeze(0),
                            "special_tokens_mask": torch.tensor(w["special_tokens_mask"]).unsqueeze(0),
                        }
                        for w in wins
                    ]
                    found = pipe.postprocess(outputs, aggregation_strategy=AggregationStrategy[strategy.upper()])
                    cases.append(
                        {
                            "text": text,
                            "id2label": labels,
                            "strategy": strategy,
                            "windows": [
                                {
                                    "ids": list(map(int, w["input_ids"])),
                                    "tokens": tok.convert_ids_to_tokens(w["input_ids"]),
                                    "offsets": [list(map(int, o)) for o in w["offset_mapping"]],
                                    "special": list(map(int, w["special_tokens_mask"])),
                                    "logits": w["logits"].tolist(),
                                }
                                for w in wins
                            ],
                            "expected": [
                                {
                                    "label": e.get("entity_group", e.get("entity")),
                                    "score": float(e["score"]),
                                    "start": int(e["start"]),
                                    "end": int(e["end"]),
                                }
                                for e in found
                            ],
                        }
                    )
    out = {
        "transformers": transformers.__version__,
        "unk_id": tok.unk_token_id,
        "cases": cases,
    }
    path = CRATE / "tests/matcher_fixtures/aggregation.json"
    path.write_text(json.dumps(out, ensure_ascii=False) + "\n")
    print(f"{len(cases)} cases → {path}")


if __name__ == "__main__":
    main()
