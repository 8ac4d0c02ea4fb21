"""End-to-end expectations of Python medkit's HFEntityMatcher on a tiny random BERT.

Writes tests/matcher_fixtures/tiny-ner/ (an HF token-classification dir: config.json,
model.safetensors, tokenizer files) and tests/matcher_fixtures/inference.json (segments and the
entities medkit finds for each aggregation strategy), for tests/matcher_inference_parity.rs.
Run from the crate directory:  /work/.venv-anchor/bin/python scripts/inference_fixtures.py
"""

import json
import pathlib
import re
import shutil
import tempfile

import torch
from medkit.core.text import ModifiedSpan, Segment, Span, span_utils
from medkit.text.ner.hf_entity_matcher import HFEntityMatcher
from tokenizers import BertWordPieceTokenizer
from transformers import BertConfig, BertForTokenClassification, PreTrainedTokenizerFast

CRATE = pathlib.Path(__file__).resolve().parent.parent
OUT = CRATE / "tests/matcher_fixtures"
MODEL = OUT / "tiny-ner"
TINY = (CRATE / "src/testing.rs").read_text()
VOCAB = re.findall(r'"([^"]+)"', TINY.split("pub const VOCAB")[1].split("];")[0])
LABELS = ["O", "B-problem", "I-problem", "B-treatment", "I-treatment"]
# (document text, segment spans as (start, end) or ("mod", length, [(start, end)...]))
SEGMENTS = [
    ("Le patient présente une fièvre et un œdème aux jambes.", [(0, 54)]),
    ("Motif : elle est sous paracétamol depuis trois jours, xyz.", [(8, 58)]),
    ("Il a une toux XXXX et une douleur aux jambes à l'hôpital.", [(0, 14), (19, 57)]),
    ("La sœur de la patiente a une toux.", [(0, 9), ("mod", 4, [(10, 14)]), (14, 34)]),
]


def spans_of(spec):
    return [ModifiedSpan(s[1], [Span(a, b) for a, b in s[2]]) if s[0] == "mod" else Span(*s) for s in spec]


def segment_text(doc, spec):
    # Modified spans stand for replacement text: "PATI" replaces "mère" here.
    return "".join("PATI"[: s[1]] if s[0] == "mod" else doc[s[0] : s[1]] for s in spec)


def main():
    torch.manual_seed(0)
    if MODEL.exists():
        shutil.rmtree(MODEL)
    d = tempfile.mkdtemp()
    (pathlib.Path(d) / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    wp = BertWordPieceTokenizer(f"{d}/vocab.txt", lowercase=True, strip_accents=False)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=wp._tokenizer,
        unk_token="[UNK]",
        sep_token="[SEP]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        mask_token="[MASK]",
        model_max_length=64,
    )
    config = BertConfig(
        vocab_size=len(VOCAB),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        initializer_range=0.5,  # well separated logits: no near-ties between implementations
        id2label=dict(enumerate(LABELS)),
        label2id={l: i for i, l in enumerate(LABELS)},
    )
    model = BertForTokenClassification(config).eval()
    model.save_pretrained(MODEL)
    tok.save_pretrained(MODEL)

    cases = []
    for strategy in ("simple", "first", "average", "max"):
        matcher = HFEntityMatcher(model=str(MODEL), aggregation_strategy=strategy)
        segs = [Segment(label="s", text=segment_text(doc, spec), spans=spans_of(spec)) for doc, spec in SEGMENTS]
        for (doc, spec), seg in zip(SEGMENTS, segs):
            ents = matcher.run([seg])
            cases.append(
                {
                    "strategy": strategy,
                    "segment_text": seg.text,
                    "segment_spans": [list(s) if s[0] != "mod" else {"length": s[1], "replaced": s[2]} for s in spec],
                    "expected": [
                        {
                            "label": e.label,
                            "text": e.text,
                            "spans": [[s.start, s.end] for s in span_utils.normalize_spans(e.spans)],
                            "score": e.attrs.get(label="score")[0].value,
                        }
                        for e in ents
                    ],
                }
            )
    (OUT / "inference.json").write_text(json.dumps(cases, ensure_ascii=False, indent=1) + "\n")
    print(f"{len(cases)} cases, {sum(len(c['expected']) for c in cases)} entities")


if __name__ == "__main__":
    main()
