"""Writes fr.jsonl, the medkit JSONL input of the interop checks, with Python medkit 0.17.

Run once from the repo root: .venv/bin/python tests/data/interop/make_inputs.py
(after scripts/setup-interop.sh). fr.jsonl = BratInputConverter().load(brat/) (French accents,
overlapping and discontinuous entities, BRAT attributes, notes and a relation), metadata paths made
relative, plus one document with a sentence Segment and an entity carrying a score Attribute, as
HFEntityMatcher writes them.
"""
from pathlib import Path

from medkit.core import Attribute
from medkit.core.text import Entity, Segment, Span, TextDocument
from medkit.io import medkit_json
from medkit.io.brat import BratInputConverter

HERE = Path(__file__).parent
docs = BratInputConverter().load(HERE / "brat")
for d in docs:
    d.metadata = {k: str(Path(v).relative_to(HERE)) for k, v in d.metadata.items()}
text = "Épisode fébrile à 39,5 °C. Reprise de l'alimentation ; sortie prévue à J+3."
doc = TextDocument(text=text, metadata={"id": "fr-3", "service": "médecine interne", "score": 0.5})
doc.anns.add(Segment(label="sentence", text=text[:26], spans=[Span(0, 26)]))
doc.anns.add(Entity(label="signe", text="Épisode fébrile", spans=[Span(0, 15)],
                    attrs=[Attribute(label="score", value=0.9876543210123)]))
docs.append(doc)
medkit_json.save_text_documents(docs, HERE / "fr.jsonl")
