//! HF fast-tokenizer equivalent: `tokenizer.json`, else a WordPiece vocab.txt built like
//! transformers' BertTokenizer(Fast), else vocab.json + merges.txt built like RobertaTokenizer.
//! Encodings carry character (code point) offsets.
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde_json::{Map, Value};
use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::bpe::BPE;
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::processors::roberta::RobertaProcessing;
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, Tokenizer, TruncationParams};

pub use crate::model::ModelError;

pub struct HfTokenizer {
    tok: Tokenizer,
    /// A copy with truncation at the last max_length asked (collation asks the same one again
    /// and again); tokenizers applies truncation between the model and the post-processor.
    truncating: RwLock<Option<(usize, Arc<Tokenizer>)>>,
    /// tokenizer_config.json as read (or as built for a vocab.txt model), re-saved as is.
    config: Map<String, Value>,
    pad_id: i64,
    dir: PathBuf,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedText {
    pub ids: Vec<i64>,
    /// Character (code point) offsets into the text; (0, 0) for special tokens.
    pub offsets: Vec<(usize, usize)>,
    pub word_ids: Vec<Option<u32>>,
    pub special_tokens_mask: Vec<u8>,
}

impl From<&tokenizers::Encoding> for EncodedText {
    fn from(enc: &tokenizers::Encoding) -> Self {
        EncodedText {
            ids: enc.get_ids().iter().map(|&i| i as i64).collect(),
            offsets: enc.get_offsets().to_vec(),
            word_ids: enc.get_word_ids().to_vec(),
            special_tokens_mask: enc
                .get_special_tokens_mask()
                .iter()
                .map(|&m| m as u8)
                .collect(),
        }
    }
}

const SPECIAL_KEYS: [&str; 7] = [
    "bos_token",
    "eos_token",
    "unk_token",
    "sep_token",
    "pad_token",
    "cls_token",
    "mask_token",
];

/// A special token entry is either "tok" or {"content": "tok", ...}.
fn token_str(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("content").and_then(Value::as_str).map(String::from),
        _ => None,
    }
}

fn read_json_map(path: &Path) -> Result<Map<String, Value>, ModelError> {
    let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
    match serde_json::from_str(&text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ModelError::Json {
            path: path.into(),
            msg: "not a JSON object".into(),
        }),
        Err(e) => Err(ModelError::Json {
            path: path.into(),
            msg: e.to_string(),
        }),
    }
}

impl HfTokenizer {
    pub fn from_dir(dir: &Path) -> Result<Self, ModelError> {
        let config_path = dir.join("tokenizer_config.json");
        let config = if config_path.is_file() {
            read_json_map(&config_path)?
        } else {
            Map::new()
        };
        let json = dir.join("tokenizer.json");
        let mut tok = if json.is_file() {
            Tokenizer::from_file(&json).map_err(|e| ModelError::Tokenizer {
                path: json.clone(),
                msg: e.to_string(),
            })?
        } else if dir.join("vocab.txt").is_file() {
            wordpiece_from_vocab(&dir.join("vocab.txt"), &config)?
        } else if dir.join("vocab.json").is_file() && dir.join("merges.txt").is_file() {
            byte_level_bpe_from_files(dir, &config)?
        } else {
            let sp = [
                "sentencepiece.bpe.model",
                "spiece.model",
                "tokenizer.model",
                "vocab.json",
            ]
            .iter()
            .find(|f| dir.join(f).is_file());
            let hint = match sp {
                Some(f) => format!(
                    " (found only {f}, which this crate cannot read: save a fast tokenizer with transformers, \
                     AutoTokenizer.from_pretrained(dir).save_pretrained(dir), to get tokenizer.json)"
                ),
                None => " (nor vocab.txt, nor vocab.json + merges.txt: no tokenizer in this directory)".into(),
            };
            return Err(ModelError::MissingFile { path: json, hint });
        };
        // Collation pads and truncates itself (all-MiniLM-L6-v2's file carries both at 128).
        let file_pad_id = tok.get_padding().map(|p| p.pad_id);
        tok.with_padding(None);
        tok.with_truncation(None)
            .map_err(|e| ModelError::Tokenizer {
                path: dir.into(),
                msg: e.to_string(),
            })?;
        let pad_id = config
            .get("pad_token")
            .and_then(token_str)
            .and_then(|t| tok.token_to_id(&t))
            .or(file_pad_id)
            .or_else(|| ["[PAD]", "<pad>"].iter().find_map(|t| tok.token_to_id(t)))
            .unwrap_or(0) as i64;
        Ok(HfTokenizer {
            truncating: RwLock::new(None),
            tok,
            config,
            pad_id,
            dir: dir.to_path_buf(),
        })
    }

    /// No padding; truncation to `max_length` tokens (special tokens included) if given.
    pub fn encode(&self, text: &str, max_length: Option<usize>) -> Result<EncodedText, ModelError> {
        let err = |e: tokenizers::Error| ModelError::Tokenizer {
            path: self.dir.clone(),
            msg: e.to_string(),
        };
        let enc = match max_length {
            None => self.tok.encode_char_offsets(text, true).map_err(err)?,
            Some(max) => self
                .truncating(max)?
                .encode_char_offsets(text, true)
                .map_err(err)?,
        };
        Ok(EncodedText::from(&enc))
    }

    /// `encode` over many texts (tokenizers may spread them over its thread pool).
    pub fn encode_batch(
        &self,
        texts: &[&str],
        max_length: Option<usize>,
    ) -> Result<Vec<EncodedText>, ModelError> {
        let err = |e: tokenizers::Error| ModelError::Tokenizer {
            path: self.dir.clone(),
            msg: e.to_string(),
        };
        let inputs: Vec<&str> = texts.to_vec();
        let encs = match max_length {
            None => self
                .tok
                .encode_batch_char_offsets(inputs, true)
                .map_err(err)?,
            Some(max) => self
                .truncating(max)?
                .encode_batch_char_offsets(inputs, true)
                .map_err(err)?,
        };
        Ok(encs.iter().map(EncodedText::from).collect())
    }

    fn truncating(&self, max: usize) -> Result<Arc<Tokenizer>, ModelError> {
        if let Some((m, t)) = self.truncating.read().expect("tokenizer cache").as_ref() {
            if *m == max {
                return Ok(t.clone());
            }
        }
        let mut tok = self.tok.clone();
        let params = TruncationParams {
            max_length: max,
            ..Default::default()
        };
        tok.with_truncation(Some(params))
            .map_err(|e| ModelError::Tokenizer {
                path: self.dir.clone(),
                msg: format!("max_length {max}: {e}"),
            })?;
        let tok = Arc::new(tok);
        *self.truncating.write().expect("tokenizer cache") = Some((max, tok.clone()));
        Ok(tok)
    }

    pub fn pad_id(&self) -> i64 {
        self.pad_id
    }

    pub fn token_to_id(&self, token: &str) -> Option<i64> {
        self.tok.token_to_id(token).map(i64::from)
    }

    pub fn vocab_size(&self) -> usize {
        self.tok.get_vocab_size(true)
    }

    /// Records the length this tokenizer truncates at in the saved tokenizer_config.json, as
    /// transformers' `from_pretrained(..., model_max_length=n)` then `save_pretrained` does.
    pub fn set_model_max_length(&mut self, n: usize) {
        self.config.insert("model_max_length".into(), n.into());
    }

    /// Special tokens the post-processor adds around one sequence (`[CLS]` … `[SEP]`: 2).
    pub fn special_tokens_count(&self) -> usize {
        self.tok
            .get_post_processor()
            .map_or(0, |p| tokenizers::PostProcessor::added_tokens(p, false))
    }

    pub fn inner(&self) -> &Tokenizer {
        &self.tok
    }

    /// Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json.
    pub fn save(&self, dir: &Path) -> Result<(), ModelError> {
        std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
        let json = dir.join("tokenizer.json");
        self.tok
            .save(&json, false)
            .map_err(|e| ModelError::Tokenizer {
                path: json,
                msg: e.to_string(),
            })?;
        let mut config = self.config.clone();
        // Paths of the source are meaningless in the copy.
        config.remove("tokenizer_file");
        config.remove("name_or_path");
        config
            .entry("tokenizer_class")
            .or_insert_with(|| "PreTrainedTokenizerFast".into());
        let specials = self.special_tokens();
        for (k, v) in &specials {
            config.entry(k.clone()).or_insert_with(|| v.clone());
        }
        write_json(&dir.join("tokenizer_config.json"), &config)?;
        write_json(&dir.join("special_tokens_map.json"), &specials)
    }

    /// Special tokens from tokenizer_config.json, else guessed from the vocabulary.
    fn special_tokens(&self) -> Map<String, Value> {
        let mut m = Map::new();
        for k in SPECIAL_KEYS {
            if let Some(t) = self.config.get(k).and_then(token_str) {
                m.insert(k.into(), t.into());
            }
        }
        if m.is_empty() {
            let bert = [
                ("unk_token", "[UNK]"),
                ("sep_token", "[SEP]"),
                ("pad_token", "[PAD]"),
                ("cls_token", "[CLS]"),
                ("mask_token", "[MASK]"),
            ];
            let roberta = [
                ("bos_token", "<s>"),
                ("eos_token", "</s>"),
                ("unk_token", "<unk>"),
                ("sep_token", "</s>"),
                ("pad_token", "<pad>"),
                ("cls_token", "<s>"),
                ("mask_token", "<mask>"),
            ];
            for (k, t) in bert.iter().chain(roberta.iter()) {
                if !m.contains_key(*k) && self.tok.token_to_id(t).is_some() {
                    m.insert((*k).into(), (*t).into());
                }
            }
        }
        m
    }
}

fn write_json(path: &Path, m: &Map<String, Value>) -> Result<(), ModelError> {
    let text = serde_json::to_string_pretty(m).expect("JSON map serialises");
    std::fs::write(path, text + "\n").map_err(|e| ModelError::io(path, e))
}

/// transformers' BertTokenizer: BertNormalizer, BertPreTokenizer, WordPiece, [CLS] $A [SEP].
fn wordpiece_from_vocab(
    vocab: &Path,
    config: &Map<String, Value>,
) -> Result<Tokenizer, ModelError> {
    let err = |msg: String| ModelError::Tokenizer {
        path: vocab.into(),
        msg,
    };
    let special = |k: &str, d: &str| {
        config
            .get(k)
            .and_then(token_str)
            .unwrap_or_else(|| d.to_string())
    };
    let (unk, sep, pad, cls, mask) = (
        special("unk_token", "[UNK]"),
        special("sep_token", "[SEP]"),
        special("pad_token", "[PAD]"),
        special("cls_token", "[CLS]"),
        special("mask_token", "[MASK]"),
    );
    let lower = config
        .get("do_lower_case")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let chinese = config
        .get("tokenize_chinese_chars")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let strip_accents = config.get("strip_accents").and_then(Value::as_bool);
    let vocab_str = vocab.to_str().ok_or_else(|| err("non UTF-8 path".into()))?;
    let model = WordPiece::from_file(vocab_str)
        .unk_token(unk.clone())
        .continuing_subword_prefix("##".into())
        .max_input_chars_per_word(100)
        .build()
        .map_err(|e| err(e.to_string()))?;
    let mut tok = Tokenizer::new(model);
    tok.with_normalizer(Some(BertNormalizer::new(
        true,
        chinese,
        strip_accents,
        lower,
    )));
    tok.with_pre_tokenizer(Some(BertPreTokenizer));
    tok.with_decoder(Some(WordPieceDecoder::new("##".into(), true)));
    let id = |t: &str| {
        tok.token_to_id(t)
            .ok_or_else(|| err(format!("special token `{t}` is not in the vocabulary")))
    };
    let (cls_id, sep_id) = (id(&cls)?, id(&sep)?);
    let post = TemplateProcessing::builder()
        .try_single(format!("{cls}:0 $A:0 {sep}:0"))
        .and_then(|b| b.try_pair(format!("{cls}:0 $A:0 {sep}:0 $B:1 {sep}:1")))
        .map_err(|e| err(e.to_string()))?
        .special_tokens(vec![(cls.clone(), cls_id), (sep.clone(), sep_id)])
        .build()
        .map_err(|e| err(e.to_string()))?;
    tok.with_post_processor(Some(post));
    let specials: Vec<AddedToken> = [&pad, &unk, &cls, &sep, &mask]
        .iter()
        .map(|t| AddedToken::from(t.as_str(), true))
        .collect();
    tok.add_special_tokens(&specials);
    Ok(tok)
}

/// transformers' RobertaTokenizer: byte-level BPE from vocab.json + merges.txt, <s> $A </s>.
fn byte_level_bpe_from_files(
    dir: &Path,
    config: &Map<String, Value>,
) -> Result<Tokenizer, ModelError> {
    let vocab = dir.join("vocab.json");
    let err = |msg: String| ModelError::Tokenizer {
        path: vocab.clone(),
        msg,
    };
    let special = |k: &str, d: &str| {
        config
            .get(k)
            .and_then(token_str)
            .unwrap_or_else(|| d.to_string())
    };
    let (bos, eos, unk, sep, pad, cls, mask) = (
        special("bos_token", "<s>"),
        special("eos_token", "</s>"),
        special("unk_token", "<unk>"),
        special("sep_token", "</s>"),
        special("pad_token", "<pad>"),
        special("cls_token", "<s>"),
        special("mask_token", "<mask>"),
    );
    let add_prefix_space = config
        .get("add_prefix_space")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let trim_offsets = config
        .get("trim_offsets")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let path = |p: PathBuf| {
        p.to_str()
            .map(String::from)
            .ok_or_else(|| err("non UTF-8 path".into()))
    };
    let model = BPE::from_file(&path(vocab.clone())?, &path(dir.join("merges.txt"))?)
        .build()
        .map_err(|e| err(e.to_string()))?;
    let mut tok = Tokenizer::new(model);
    tok.with_pre_tokenizer(Some(
        ByteLevel::default().add_prefix_space(add_prefix_space),
    ));
    tok.with_decoder(Some(ByteLevel::default()));
    let specials: Vec<AddedToken> = [&bos, &eos, &unk, &sep, &pad, &cls, &mask]
        .iter()
        .map(|t| AddedToken::from(t.as_str(), true))
        .collect();
    tok.add_special_tokens(&specials);
    let id = |t: &str| {
        tok.token_to_id(t)
            .ok_or_else(|| err(format!("special token `{t}` is not in the vocabulary")))
    };
    let post = RobertaProcessing::new((sep.clone(), id(&sep)?), (cls.clone(), id(&cls)?))
        .trim_offsets(trim_offsets)
        .add_prefix_space(add_prefix_space);
    tok.with_post_processor(Some(post));
    Ok(tok)
}
