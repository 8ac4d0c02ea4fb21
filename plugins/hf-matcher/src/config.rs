//! HF `config.json` for the supported encoder families, normalised to BERT's key names.
//! DistilBERT's own names (`dim`, `n_layers`, …) are mapped in and written back out on save, and
//! unknown keys are kept verbatim so that a re-saved config loses nothing.
use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

pub use crate::model::ModelError;

/// Architecture family, chosen from `model_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Bert,
    /// RoBERTa, CamemBERT, XLM-RoBERTa: BERT layers, positions offset past `pad_token_id`.
    Roberta,
    DistilBert,
}

impl Family {
    pub fn from_model_type(model_type: &str) -> Option<Family> {
        match model_type {
            "bert" => Some(Family::Bert),
            "roberta" | "camembert" | "xlm-roberta" => Some(Family::Roberta),
            "distilbert" => Some(Family::DistilBert),
            _ => None,
        }
    }
    /// Name of the base model attribute in the HF `*ForTokenClassification` classes.
    pub fn prefix(self) -> &'static str {
        match self {
            Family::Bert => "bert",
            Family::Roberta => "roberta",
            Family::DistilBert => "distilbert",
        }
    }
}

#[derive(Clone, Debug)]
pub struct ModelConfig {
    pub model_type: String,
    pub architectures: Vec<String>,
    pub vocab_size: i64,
    pub hidden_size: i64,
    pub num_hidden_layers: i64,
    pub num_attention_heads: i64,
    pub intermediate_size: i64,
    pub hidden_act: String,
    pub hidden_dropout_prob: f64,
    pub attention_probs_dropout_prob: f64,
    pub max_position_embeddings: i64,
    /// 0 for DistilBERT (no token-type embeddings).
    pub type_vocab_size: i64,
    pub layer_norm_eps: f64,
    pub pad_token_id: i64,
    pub initializer_range: f64,
    pub classifier_dropout: Option<f64>,
    pub position_embedding_type: String,
    pub id2label: BTreeMap<usize, String>,
    pub label2id: BTreeMap<String, usize>,
    /// Every other key of the original file, in its order.
    pub extra: Map<String, Value>,
}

/// (BERT-family key, DistilBERT key)
const RENAMED: &[(&str, &str)] = &[
    ("hidden_size", "dim"),
    ("num_hidden_layers", "n_layers"),
    ("num_attention_heads", "n_heads"),
    ("intermediate_size", "hidden_dim"),
    ("hidden_act", "activation"),
    ("hidden_dropout_prob", "dropout"),
    ("attention_probs_dropout_prob", "attention_dropout"),
];

fn key_name(family: Family, key: &'static str) -> &'static str {
    if family == Family::DistilBert {
        if let Some((_, d)) = RENAMED.iter().find(|(b, _)| *b == key) {
            return d;
        }
    }
    key
}

struct Reader {
    map: Map<String, Value>,
    family: Family,
}

impl Reader {
    fn take(&mut self, key: &'static str) -> Option<(String, Value)> {
        let k = key_name(self.family, key);
        let v = self.map.remove(k)?;
        // Also drop the BERT-style alias some DistilBERT configs carry.
        if k != key {
            self.map.remove(key);
        }
        Some((k.to_string(), v))
    }
    fn int(&mut self, key: &'static str, default: i64) -> Result<i64, (String, String)> {
        match self.take(key) {
            None | Some((_, Value::Null)) => Ok(default),
            Some((k, v)) => v
                .as_i64()
                .ok_or((k, format!("expected an integer, found {v}"))),
        }
    }
    fn float(&mut self, key: &'static str, default: f64) -> Result<f64, (String, String)> {
        match self.take(key) {
            None | Some((_, Value::Null)) => Ok(default),
            Some((k, v)) => v
                .as_f64()
                .ok_or((k, format!("expected a number, found {v}"))),
        }
    }
    fn opt_float(&mut self, key: &'static str) -> Result<Option<f64>, (String, String)> {
        match self.take(key) {
            None | Some((_, Value::Null)) => Ok(None),
            Some((k, v)) => v
                .as_f64()
                .map(Some)
                .ok_or((k, format!("expected a number, found {v}"))),
        }
    }
    fn string(&mut self, key: &'static str, default: &str) -> Result<String, (String, String)> {
        match self.take(key) {
            None | Some((_, Value::Null)) => Ok(default.to_string()),
            Some((_, Value::String(s))) => Ok(s),
            Some((k, v)) => Err((k, format!("expected a string, found {v}"))),
        }
    }
}

pub(crate) fn activation_supported(act: &str) -> bool {
    matches!(
        act,
        "gelu" | "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" | "relu" | "silu" | "swish"
    )
}

impl ModelConfig {
    pub fn from_file(path: &Path) -> Result<Self, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
        let value: Value = serde_json::from_str(&text).map_err(|e| ModelError::Json {
            path: path.to_path_buf(),
            msg: e.to_string(),
        })?;
        let Value::Object(map) = value else {
            return Err(ModelError::Json {
                path: path.to_path_buf(),
                msg: "not a JSON object".into(),
            });
        };
        Self::from_map(map, path)
    }

    pub fn from_map(map: Map<String, Value>, path: &Path) -> Result<Self, ModelError> {
        let key_err = |(key, msg): (String, String)| ModelError::ConfigKey {
            path: path.to_path_buf(),
            key,
            msg,
        };
        let model_type = match map.get("model_type") {
            Some(Value::String(s)) => s.clone(),
            Some(v) => {
                return Err(key_err((
                    "model_type".into(),
                    format!("expected a string, found {v}"),
                )))
            }
            None => return Err(key_err(("model_type".into(), "missing".into()))),
        };
        let family =
            Family::from_model_type(&model_type).ok_or_else(|| ModelError::UnknownModelType {
                path: path.to_path_buf(),
                model_type: model_type.clone(),
            })?;
        let mut r = Reader { map, family };
        r.map.remove("model_type");
        let distil = family == Family::DistilBert;
        let roberta = family == Family::Roberta;
        let architectures = match r.map.remove("architectures") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        };
        let mut c = ModelConfig {
            model_type,
            architectures,
            vocab_size: r
                .int("vocab_size", if roberta { 50265 } else { 30522 })
                .map_err(key_err)?,
            hidden_size: r.int("hidden_size", 768).map_err(key_err)?,
            num_hidden_layers: r
                .int("num_hidden_layers", if distil { 6 } else { 12 })
                .map_err(key_err)?,
            num_attention_heads: r.int("num_attention_heads", 12).map_err(key_err)?,
            intermediate_size: r.int("intermediate_size", 3072).map_err(key_err)?,
            hidden_act: r.string("hidden_act", "gelu").map_err(key_err)?,
            hidden_dropout_prob: r.float("hidden_dropout_prob", 0.1).map_err(key_err)?,
            attention_probs_dropout_prob: r
                .float("attention_probs_dropout_prob", 0.1)
                .map_err(key_err)?,
            max_position_embeddings: r.int("max_position_embeddings", 512).map_err(key_err)?,
            type_vocab_size: if distil {
                0
            } else {
                r.int("type_vocab_size", 2).map_err(key_err)?
            },
            layer_norm_eps: if distil {
                1e-12
            } else {
                r.float("layer_norm_eps", 1e-12).map_err(key_err)?
            },
            pad_token_id: r
                .int("pad_token_id", if roberta { 1 } else { 0 })
                .map_err(key_err)?,
            initializer_range: r.float("initializer_range", 0.02).map_err(key_err)?,
            // DistilBERT's token-classification dropout is `dropout`, not `seq_classif_dropout`.
            classifier_dropout: if distil {
                None
            } else {
                r.opt_float("classifier_dropout").map_err(key_err)?
            },
            position_embedding_type: if distil {
                "absolute".into()
            } else {
                r.string("position_embedding_type", "absolute")
                    .map_err(key_err)?
            },
            id2label: BTreeMap::new(),
            label2id: BTreeMap::new(),
            extra: Map::new(),
        };
        if !activation_supported(&c.hidden_act) {
            let k = key_name(family, "hidden_act").to_string();
            return Err(key_err((
                k,
                format!("unsupported activation `{}`", c.hidden_act),
            )));
        }
        if c.position_embedding_type != "absolute" {
            let msg = format!(
                "`{}` is not supported (only \"absolute\")",
                c.position_embedding_type
            );
            return Err(key_err(("position_embedding_type".into(), msg)));
        }
        for (k, v) in [
            ("hidden_size", c.hidden_size),
            ("num_hidden_layers", c.num_hidden_layers),
            ("num_attention_heads", c.num_attention_heads),
            ("vocab_size", c.vocab_size),
            ("intermediate_size", c.intermediate_size),
            ("max_position_embeddings", c.max_position_embeddings),
            // BERT-family embeddings add token type 0.
            (
                "type_vocab_size",
                if distil { 1 } else { c.type_vocab_size },
            ),
        ] {
            if v <= 0 {
                return Err(key_err((
                    key_name(family, k).into(),
                    format!("must be positive, found {v}"),
                )));
            }
        }
        if c.pad_token_id < 0 || c.pad_token_id >= c.vocab_size {
            let msg = format!(
                "{} is outside the vocabulary (size {})",
                c.pad_token_id, c.vocab_size
            );
            return Err(key_err(("pad_token_id".into(), msg)));
        }
        if roberta && c.max_position_embeddings <= c.pad_token_id + 1 {
            let msg = format!("must exceed pad_token_id + 1 = {}", c.pad_token_id + 1);
            return Err(key_err(("max_position_embeddings".into(), msg)));
        }
        if c.hidden_size % c.num_attention_heads != 0 {
            let msg = format!(
                "{} heads do not divide hidden size {}",
                c.num_attention_heads, c.hidden_size
            );
            return Err(key_err((
                key_name(family, "num_attention_heads").into(),
                msg,
            )));
        }
        // Labels: id2label wins; else num_labels → LABEL_i, like transformers (default 2).
        let num_labels = r.map.remove("num_labels").and_then(|v| v.as_u64());
        match r.map.remove("id2label") {
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    let id: usize = k
                        .parse()
                        .map_err(|_| key_err(("id2label".into(), format!("bad id `{k}`"))))?;
                    let name = v
                        .as_str()
                        .ok_or_else(|| key_err(("id2label".into(), format!("bad label {v}"))))?;
                    c.id2label.insert(id, name.to_string());
                }
                if c.id2label.keys().copied().ne(0..c.id2label.len()) {
                    return Err(key_err(("id2label".into(), "ids must be 0..n".into())));
                }
            }
            Some(v) if !v.is_null() => {
                return Err(key_err((
                    "id2label".into(),
                    format!("expected an object, found {v}"),
                )))
            }
            _ => {
                for i in 0..num_labels.unwrap_or(2) as usize {
                    c.id2label.insert(i, format!("LABEL_{i}"));
                }
            }
        }
        r.map.remove("label2id");
        c.label2id = c.id2label.iter().map(|(i, l)| (l.clone(), *i)).collect();
        c.extra = r.map;
        Ok(c)
    }

    pub fn family(&self) -> Family {
        Family::from_model_type(&self.model_type).expect("model_type checked at load")
    }

    pub fn num_labels(&self) -> i64 {
        self.id2label.len() as i64
    }

    /// Replaces the label set (ids in slice order).
    pub fn set_labels(&mut self, labels: &[String]) {
        self.id2label = labels.iter().cloned().enumerate().collect();
        self.label2id = labels
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, l)| (l, i))
            .collect();
    }

    /// Dropout before the classifier, as each HF *ForTokenClassification does.
    pub fn head_dropout(&self) -> f64 {
        self.classifier_dropout.unwrap_or(self.hidden_dropout_prob)
    }

    /// The JSON object HF expects, in the family's own key names.
    pub fn to_map(&self) -> Map<String, Value> {
        let family = self.family();
        let mut m = Map::new();
        m.insert(
            "architectures".into(),
            Value::from(self.architectures.clone()),
        );
        m.insert("model_type".into(), Value::from(self.model_type.clone()));
        let mut put = |k: &'static str, v: Value| {
            m.insert(key_name(family, k).into(), v);
        };
        put("vocab_size", self.vocab_size.into());
        put("hidden_size", self.hidden_size.into());
        put("num_hidden_layers", self.num_hidden_layers.into());
        put("num_attention_heads", self.num_attention_heads.into());
        put("intermediate_size", self.intermediate_size.into());
        put("hidden_act", self.hidden_act.clone().into());
        put("hidden_dropout_prob", self.hidden_dropout_prob.into());
        put(
            "attention_probs_dropout_prob",
            self.attention_probs_dropout_prob.into(),
        );
        put(
            "max_position_embeddings",
            self.max_position_embeddings.into(),
        );
        put("pad_token_id", self.pad_token_id.into());
        put("initializer_range", self.initializer_range.into());
        if family != Family::DistilBert {
            put("type_vocab_size", self.type_vocab_size.into());
            put("layer_norm_eps", self.layer_norm_eps.into());
            put(
                "classifier_dropout",
                self.classifier_dropout.map_or(Value::Null, Value::from),
            );
            put(
                "position_embedding_type",
                self.position_embedding_type.clone().into(),
            );
        }
        let id2label: Map<String, Value> = self
            .id2label
            .iter()
            .map(|(i, l)| (i.to_string(), Value::from(l.clone())))
            .collect();
        let label2id: Map<String, Value> = self
            .label2id
            .iter()
            .map(|(l, i)| (l.clone(), Value::from(*i)))
            .collect();
        m.insert("id2label".into(), Value::Object(id2label));
        m.insert("label2id".into(), Value::Object(label2id));
        for (k, v) in &self.extra {
            m.entry(k.clone()).or_insert_with(|| v.clone());
        }
        m
    }
}

impl Serialize for ModelConfig {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_map().serialize(s)
    }
}

impl<'de> Deserialize<'de> for ModelConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = Map::deserialize(d)?;
        ModelConfig::from_map(map, Path::new("<config>")).map_err(serde::de::Error::custom)
    }
}
