//! Corpus I/O: medkit JSONL, BRAT, CoNLL; overlap filtering; sentence splitting.
