"""Regenerates the medkit-written fixtures of this folder with medkit-lib 0.17 (Python).

Run: /work/.venv-anchor/bin/python tests/data/corpus/make_fixtures.py  (from the repo root)
rich.jsonl: attributes (plain, EntityNormAttribute, UMLSNormAttribute), relations, ModifiedSpan,
segments, document attributes, French accents, emoji, control chars, Python floats.
brat/: BRAT files; brat_expected.jsonl: what BratInputConverter().load() makes of them.
"""
from pathlib import Path

from medkit.core import Attribute
from medkit.core.text import (Entity, EntityNormAttribute, ModifiedSpan, Relation, Segment, Span,
                              TextDocument, UMLSNormAttribute)
from medkit.io import medkit_json
from medkit.io.brat import BratInputConverter

HERE = Path(__file__).parent

text = "Le patient âgé a une fièvre 🤒 et une toux.\nPas de dyspnée; «tabac» arrêté\t!"
doc = TextDocument(text=text, metadata={"id": "d1", "score": 0.1, "big": 1e16, "small": 1e-05,
                                        "n": [1, 2.5, None, True, False], "nan": float("nan"), "inf": float("-inf"), "huge": 10**30, "nested": {"é": "ü\u0001\"\\/"}})
fievre = Entity(label="disorder", text="fièvre", spans=[Span(21, 27)],
                attrs=[Attribute(label="negated", value=False, metadata={"conf": 0.93}),
                       EntityNormAttribute(kb_name="umls", kb_id="C0015967", kb_version="2023AA", term="fièvre",
                                           score=0.875),
                       UMLSNormAttribute(cui="C0015967", umls_version="2021AB", term="Fever", score=1.0,
                                         sem_types=["T184"])],
                metadata={"brat_id": "T1"})
toux = Entity(label="disorder", text="toux", spans=[Span(37, 41)])
emoji = Entity(label="emoji", text="🤒", spans=[Span(28, 29)])
# a discontinuous entity as BRAT makes it
disc = Entity(label="disorder", text="fièvre toux", spans=[Span(21, 27), ModifiedSpan(length=1, replaced_spans=[]),
                                                          Span(37, 41)])
# a replaced span
mod = Entity(label="norm", text="fever", spans=[ModifiedSpan(length=5, replaced_spans=[Span(21, 27)])])
sent = Segment(label="sentence", text=text[:43], spans=[Span(0, 43)], metadata={})
rel = Relation(label="co-occurs", source_id=fievre.uid, target_id=toux.uid,
               attrs=[Attribute(label="certainty", value="high")], metadata={"w": -0.0})
for a in (sent, fievre, toux, emoji, disc, mod, rel):
    doc.anns.add(a)
doc.attrs.add(Attribute(label="section", value={"name": "HDM", "rank": 2}))
doc2 = TextDocument(text="", metadata={})
doc3 = TextDocument(text="Ligne 1\r\nLigne 2 \u2028 fin", metadata={"path_to_text": "x/ü.txt"})
medkit_json.save_text_documents([doc, doc2, doc3], HERE / "rich.jsonl")

docs = BratInputConverter().load(HERE / "brat")
for d in docs:  # paths relative to this folder, like the shared corpora
    d.metadata = {k: str(Path(v).relative_to(HERE)) for k, v in d.metadata.items()}
medkit_json.save_text_documents(docs, HERE / "brat_expected.jsonl")

# the same, after filter_overlapping_entities (entities only, as anchor/make_medkit_corpora.py does)
from medkit.text.postprocessing import DocumentSplitter, filter_overlapping_entities  # noqa: E402
from medkit.text.segmentation import SentenceTokenizer  # noqa: E402

filtered = []
for d in docs:
    nd = TextDocument(text=d.text, metadata=d.metadata)
    for e in filter_overlapping_entities(list(d.anns.entities)):
        nd.anns.add(e)
    filtered.append(nd)
medkit_json.save_text_documents(filtered, HERE / "brat_filtered_expected.jsonl")
tok = SentenceTokenizer(output_label="sentence", split_on_newlines=True, punct_chars=(".", ";", "?", "!"),
                        keep_punct=True)
for d in filtered:
    for s in tok.run([d.raw_segment]):
        d.anns.add(s)
sents = DocumentSplitter(segment_label="sentence", attr_labels=[]).run(filtered)
medkit_json.save_text_documents(sents, HERE / "brat_sentences_expected.jsonl")

# BRAT export of the same documents, as BratOutputConverter() writes it (named like our export)
import shutil  # noqa: E402

from medkit.io.brat import BratOutputConverter  # noqa: E402

for name, src in (("brat_export_expected", "brat_expected.jsonl"), ("brat_export_rich_expected", "rich.jsonl")):
    out = HERE / name
    shutil.rmtree(out, ignore_errors=True)
    ds = list(medkit_json.load_text_documents(HERE / src))
    names = [Path(d.metadata["path_to_text"]).stem if "path_to_text" in d.metadata else d.uid for d in ds]
    if len(set(names)) != len(names) or not all("path_to_text" in d.metadata for d in ds):
        names = [d.uid for d in ds]
    BratOutputConverter().save(ds, out, doc_names=names)

# Random overlapping (some discontinuous) entities: overlap filtering and sentence splitting of
# heavily nested entities (exercises intervaltree's rotations and pruning, whose set order medkit keeps)
import random  # noqa: E402

random.seed(17)
full, filt = [], []
for d in range(12):
    text = "".join(random.choice("abc é🤒.\n") for _ in range(random.randint(20, 160)))
    n = len(text)
    ents = []
    for _ in range(random.randint(0, 30)):
        a = random.randint(0, n - 1)
        b = min(n, a + random.randint(1, 20))
        if random.random() < 0.2 and b + 2 < n:
            c = random.randint(b + 1, n - 1)
            e = min(n, c + random.randint(1, 5))
            ents.append(Entity(label="D", text=text[a:b] + " " + text[c:e],
                               spans=[Span(a, b), ModifiedSpan(length=1, replaced_spans=[]), Span(c, e)]))
        else:
            ents.append(Entity(label=random.choice("XY"), text=text[a:b], spans=[Span(a, b)]))
    doc = TextDocument(text=text, metadata={"d": d})
    for e in ents:
        doc.anns.add(e)
    full.append(doc)
    nd = TextDocument(text=text, metadata={"d": d})
    for e in filter_overlapping_entities(ents):
        nd.anns.add(e)
    filt.append(nd)
medkit_json.save_text_documents(full, HERE / "overlap_full.jsonl")
medkit_json.save_text_documents(filt, HERE / "overlap_filtered_expected.jsonl")
for d in full:
    for s in tok.run([d.raw_segment]):
        d.anns.add(s)
sents = DocumentSplitter(segment_label="sentence", attr_labels=[]).run(full)
medkit_json.save_text_documents(sents, HERE / "overlap_sentences_expected.jsonl")

# CPython set iteration order after random add / discard / copy / -= with colliding hashes: the
# sentence splitter reproduces medkit's entity order by emulating CPython's set (split/pyset.rs)
random.seed(5)


class _K:
    def __init__(self, n, h):
        self.n, self.h = n, h

    def __hash__(self):
        return self.h

    def __eq__(self, other):
        return self is other


cases = []
for _ in range(300):
    nk = random.randint(2, 16)
    hv = [random.getrandbits(64) - (1 << 63) for _ in range(random.randint(1, 5))]
    ks = [_K(i, random.choice([h if h != -1 else 5 for h in hv])) for i in range(nk)]
    s, ops = set(), []
    for _ in range(random.randint(1, 40)):
        r, k = random.random(), random.choice(ks)
        if r < 0.6:
            s.add(k)
            ops.append(f"a{k.n}")
        elif r < 0.9:
            s.discard(k)
            ops.append(f"d{k.n}")
        elif r < 0.95:
            s = set(s)
            ops.append("c")
        else:
            o = set(random.sample(ks, random.randint(0, nk)))
            s -= o
            ops.append("m" + ",".join(str(x.n) for x in o))
    cases.append(",".join(str(k.h & ((1 << 64) - 1)) for k in ks) + "|" + " ".join(ops) + "|"
                 + ",".join(str(k.n) for k in s))
(HERE / "pyset_cases.txt").write_text("\n".join(cases) + "\n")
