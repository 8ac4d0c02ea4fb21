//! Document evaluator, as medkit's SeqEvalEvaluator: reference documents vs predicted entities →
//! one tag per character (or per token with a tokenizer) → seqeval metrics.
//!
//! Built from plugin operations so a pipeline can swap them: a tagging-scheme operation turns
//! entities into tags, a metrics operation scores the tag sequences.
//!
//! One deliberate difference: medkit applies `labels_remapping` only when tagging characters;
//! here it applies with a tokenizer too.

use crate::commands::annotate::shorthands;
use crate::plugins::PluginSet;
use abi_stable::std_types::{ROption, RString, RVec};
use anyhow::{anyhow, bail, Context as _};
use medkit_sdk::{
    LabelledSpan, MetricKind, MetricsComputerBox, Operation, OperationKind, Segment, Span,
    TaggingSchemeBox, TextDocument, TokenSpan,
};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// What to evaluate and how; defaults are medkit's SeqEvalEvaluator's (bilou, macro, by label).
/// Deserializable, so a pipeline section can hold these keys directly.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvaluateOptions {
    /// Tagging scheme: "iob2" or "bilou" (the tagging operation; for the default metrics
    /// operation also its `tagging_scheme`).
    pub scheme: String,
    /// For the default metrics operation: "micro", "macro" or "weighted".
    pub average: String,
    /// For the default metrics operation: also return the metrics of each label.
    pub by_label: bool,
    /// A HuggingFace `tokenizer.json`: tag tokens instead of characters.
    pub tokenizer: Option<PathBuf>,
    /// Labels renamed before tagging, in reference and predicted entities alike.
    pub labels_remapping: BTreeMap<String, String>,
    /// Tagging-scheme operation; default: the operation named as `scheme`.
    pub tagging_operation: Option<String>,
    /// Metrics operation (default "seqeval").
    pub metrics_operation: String,
    /// The metrics operation's own config (`[evaluate.metrics]`), passed to it as is. Without
    /// it, the default operation gets `scheme`, `average` and `by_label` as its keys, and any
    /// other operation an empty config.
    pub metrics: Option<Map<String, Value>>,
}

impl Default for EvaluateOptions {
    fn default() -> Self {
        EvaluateOptions {
            scheme: "bilou".into(),
            average: "macro".into(),
            by_label: true,
            tokenizer: None,
            labels_remapping: BTreeMap::new(),
            tagging_operation: None,
            metrics_operation: shorthands::METRICS_OPERATION.into(),
            metrics: None,
        }
    }
}

/// `a=b,c=d` → {a: b, c: d}.
pub fn parse_labels_remapping(text: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let mut map = BTreeMap::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (from, to) = pair
            .split_once('=')
            .ok_or_else(|| anyhow!("labels remapping '{pair}': expected FROM=TO"))?;
        let (from, to) = (from.trim(), to.trim());
        if from.is_empty() || to.is_empty() {
            bail!("labels remapping '{pair}': empty label");
        }
        map.insert(from.to_string(), to.to_string());
    }
    Ok(map)
}

/// Tokens of a text: HF tokenizer (char offsets, no truncation or padding, as a Python call) or
/// one token per character.
enum Tokenization {
    Chars,
    Hf(Box<tokenizers::Tokenizer>),
}

impl Tokenization {
    fn new(path: Option<&PathBuf>) -> anyhow::Result<Self> {
        let Some(path) = path else {
            return Ok(Tokenization::Chars);
        };
        let mut tok = tokenizers::Tokenizer::from_file(path)
            .map_err(|e| anyhow!("loading tokenizer {}: {e}", path.display()))?;
        // Python's tokenizer(text) ignores the file's truncation/padding; the crate applies them
        tok.with_truncation(None)
            .map_err(|e| anyhow!("tokenizer {}: {e}", path.display()))?;
        tok.with_padding(None);
        Ok(Tokenization::Hf(Box::new(tok)))
    }

    fn tokens(&self, text: &str) -> anyhow::Result<Vec<TokenSpan>> {
        match self {
            Tokenization::Chars => Ok((0..text.chars().count() as u64)
                .map(|i| ROption::RSome(Span::new(i, i + 1)))
                .collect()),
            Tokenization::Hf(tok) => {
                let enc = tok
                    .encode_char_offsets(text, true)
                    .map_err(|e| anyhow!("tokenizing: {e}"))?;
                Ok(enc
                    .get_offsets()
                    .iter()
                    .zip(enc.get_special_tokens_mask())
                    .map(|(&(s, e), &special)| {
                        if special == 1 {
                            ROption::RNone
                        } else {
                            ROption::RSome(Span::new(s as u64, e as u64))
                        }
                    })
                    .collect())
            }
        }
    }
}

/// An entity as the tagging scheme sees it: medkit's normalize_spans, then first start to last
/// end; None when it has no span in the original text (only ModifiedSpans without replaced spans).
fn labelled(entity: &Segment, remap: &BTreeMap<String, String>) -> Option<LabelledSpan> {
    let mut spans: Vec<Span> = entity
        .spans
        .iter()
        .flat_map(|s| s.original_spans())
        .collect();
    spans.sort_by_key(|s| s.start); // stable, as Python's sort
    let (first, last) = (spans.first()?, spans.last()?);
    let label = entity.label.as_str();
    let label = remap.get(label).map_or(label, String::as_str);
    Some(LabelledSpan {
        label: label.into(),
        start: first.start,
        end: last.end,
    })
}

fn create_tagging(plugins: &PluginSet, name: &str) -> anyhow::Result<TaggingSchemeBox> {
    match plugins.create(OperationKind::TaggingScheme, name, &json!({}))? {
        Operation::TaggingScheme(op) => Ok(op),
        _ => bail!("operation '{name}' is not a tagging scheme"),
    }
}

/// The metrics operation's config: its own section, else the shorthands (default operation).
pub(crate) fn metrics_config(o: &EvaluateOptions) -> Value {
    use shorthands::*;
    match &o.metrics {
        Some(own) => Value::Object(own.clone()),
        None if o.metrics_operation == METRICS_OPERATION => {
            let mut c = Map::new();
            c.insert(METRICS_SCHEME.into(), o.scheme.clone().into());
            c.insert(METRICS_AVERAGE.into(), o.average.clone().into());
            c.insert(METRICS_BY_LABEL.into(), o.by_label.into());
            Value::Object(c)
        }
        None => json!({}),
    }
}

fn create_metrics(plugins: &PluginSet, o: &EvaluateOptions) -> anyhow::Result<MetricsComputerBox> {
    let config = metrics_config(o);
    match plugins.create(OperationKind::Metrics, &o.metrics_operation, &config)? {
        Operation::Metrics(op) => Ok(op),
        _ => bail!(
            "operation '{}' is not a metrics computer",
            o.metrics_operation
        ),
    }
}

/// Tags of one document's entities.
fn tag_document(
    scheme: &TaggingSchemeBox,
    entities: Vec<LabelledSpan>,
    tokens: &[TokenSpan],
) -> anyhow::Result<Vec<String>> {
    let tags = scheme
        .entities_to_tags(entities.into(), tokens.to_vec().into())
        .into_result()
        .map_err(|e| anyhow!("{e}"))?;
    if tags.len() != tokens.len() {
        bail!(
            "the tagging scheme returned {} tags for {} tokens",
            tags.len(),
            tokens.len()
        );
    }
    Ok(tags.into_iter().map(String::from).collect())
}

/// Pairs the predicted documents with the reference ones by uid (reference order); an error names
/// a document missing on either side or whose text differs.
pub fn pair_by_uid<'a>(
    reference: &'a [TextDocument],
    predicted: &'a [TextDocument],
) -> anyhow::Result<Vec<(&'a TextDocument, &'a TextDocument)>> {
    let by_uid: HashMap<&str, &TextDocument> =
        predicted.iter().map(|d| (d.uid.as_str(), d)).collect();
    let ref_uids: std::collections::HashSet<&str> =
        reference.iter().map(|d| d.uid.as_str()).collect();
    if let Some(extra) = predicted
        .iter()
        .find(|d| !ref_uids.contains(d.uid.as_str()))
    {
        bail!(
            "predicted document '{}' has no reference document with that uid",
            extra.uid
        );
    }
    reference
        .iter()
        .map(|r| {
            let p = by_uid.get(r.uid.as_str()).ok_or_else(|| {
                anyhow!("reference document '{}' has no predicted document", r.uid)
            })?;
            if p.text != r.text {
                bail!(
                    "document '{}': the predicted text differs from the reference text",
                    r.uid
                );
            }
            Ok((r, *p))
        })
        .collect()
}

/// Metrics of `predicted`'s entities against `reference`'s, as a JSON object (metric name →
/// value, in the metrics operation's order; NaN as null). Documents are matched by uid.
pub fn evaluate_documents(
    plugins: &PluginSet,
    reference: &[TextDocument],
    predicted: &[TextDocument],
    options: &EvaluateOptions,
) -> anyhow::Result<Value> {
    let pairs = pair_by_uid(reference, predicted)?;
    let pairs: Vec<(&TextDocument, Vec<&Segment>)> = pairs
        .into_iter()
        .map(|(r, p)| (r, p.entities().collect()))
        .collect();
    evaluate_pairs(plugins, &pairs, options)
}

/// As [`evaluate_documents`] with the predicted entities of each reference document given
/// directly (`predicted[i]` for `reference[i]`, e.g. a NER operation's `run_batch` output), as
/// medkit's `SeqEvalEvaluator.compute(documents, predicted_entities)`.
pub fn evaluate_entities(
    plugins: &PluginSet,
    reference: &[TextDocument],
    predicted: &[Vec<Segment>],
    options: &EvaluateOptions,
) -> anyhow::Result<Value> {
    if reference.len() != predicted.len() {
        bail!(
            "{} reference documents but {} lists of predicted entities",
            reference.len(),
            predicted.len()
        );
    }
    let pairs: Vec<(&TextDocument, Vec<&Segment>)> = reference
        .iter()
        .zip(predicted)
        .map(|(r, p)| (r, p.iter().collect()))
        .collect();
    evaluate_pairs(plugins, &pairs, options)
}

fn evaluate_pairs(
    plugins: &PluginSet,
    pairs: &[(&TextDocument, Vec<&Segment>)],
    options: &EvaluateOptions,
) -> anyhow::Result<Value> {
    let tagging_name = options
        .tagging_operation
        .clone()
        .unwrap_or_else(|| options.scheme.clone());
    let scheme = create_tagging(plugins, &tagging_name)?;
    let mut metrics = create_metrics(plugins, options)?;
    let tokenization = Tokenization::new(options.tokenizer.as_ref())?;
    let remap = &options.labels_remapping;

    let mut y_true = Vec::with_capacity(pairs.len());
    let mut y_pred = Vec::with_capacity(pairs.len());
    let mut labels: Vec<String> = Vec::new();
    for (r, predicted) in pairs {
        let tokens = tokenization
            .tokens(&r.text)
            .with_context(|| format!("document '{}'", r.uid))?;
        let true_ents: Vec<LabelledSpan> =
            r.entities().filter_map(|e| labelled(e, remap)).collect();
        let pred_ents: Vec<LabelledSpan> = predicted
            .iter()
            .filter_map(|e| labelled(e, remap))
            .collect();
        for e in true_ents.iter().chain(&pred_ents) {
            if !labels.iter().any(|l| l == e.label.as_str()) {
                labels.push(e.label.to_string());
            }
        }
        let context = || format!("document '{}'", r.uid);
        y_true.push(tag_document(&scheme, true_ents, &tokens).with_context(context)?);
        y_pred.push(tag_document(&scheme, pred_ents, &tokens).with_context(context)?);
    }

    // tag ids: the scheme's tag list for the labels seen, then any other tag the scheme produced
    let rlabels: RVec<RString> = labels.iter().map(|l| RString::from(l.as_str())).collect();
    let mut id_to_tag: Vec<String> = scheme
        .tags(rlabels)
        .into_result()
        .map_err(|e| anyhow!("tagging scheme '{tagging_name}': {e}"))?
        .into_iter()
        .map(String::from)
        .collect();
    let mut tag_to_id: HashMap<String, i64> = id_to_tag
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), i as i64))
        .collect();
    for tag in y_true.iter().chain(&y_pred).flatten() {
        if !tag_to_id.contains_key(tag) {
            tag_to_id.insert(tag.clone(), id_to_tag.len() as i64);
            id_to_tag.push(tag.clone());
        }
    }
    let encode = |seqs: &[Vec<String>]| -> RVec<RVec<i64>> {
        seqs.iter()
            .map(|s| s.iter().map(|t| tag_to_id[t]).collect())
            .collect()
    };
    let rtags: RVec<RString> = id_to_tag
        .iter()
        .map(|t| RString::from(t.as_str()))
        .collect();
    let rerr =
        |what: &str, e: RString| anyhow!("metrics '{}' {what}: {e}", options.metrics_operation);
    metrics
        .set_labels(rtags)
        .into_result()
        .map_err(|e| rerr("set_labels", e))?;
    metrics
        .prepare_batch(encode(&y_true), encode(&y_pred))
        .into_result()
        .map_err(|e| rerr("prepare_batch", e))?;
    let computed = metrics
        .compute()
        .into_result()
        .map_err(|e| rerr("compute", e))?;
    let out: Map<String, Value> = computed
        .into_iter()
        .map(|m| {
            let name = m.name.into_string();
            // counts are ints in medkit's dict (supports)
            let is_count = m.kind == MetricKind::Count;
            let v = if is_count && m.value >= 0.0 && m.value.fract() == 0.0 {
                json!(m.value as u64)
            } else {
                serde_json::Number::from_f64(m.value).map_or(Value::Null, Value::Number)
            };
            (name, v)
        })
        .collect();
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use medkit_sdk::{AnySpan, ModifiedSpan};

    fn entity(label: &str, spans: Vec<AnySpan>) -> Segment {
        Segment {
            uid: "e".into(),
            label: label.into(),
            spans: spans.into(),
            text: "".into(),
            attrs: RVec::new(),
            metadata: "{}".into(),
        }
    }

    #[test]
    fn remapping_parses_pairs() {
        let m = parse_labels_remapping("a=b, c = d,").unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m["c"], "d");
        assert!(parse_labels_remapping("a").is_err());
        assert!(parse_labels_remapping("=b").is_err());
        assert!(parse_labels_remapping("").unwrap().is_empty());
    }

    #[test]
    fn entity_range_is_normalized_like_medkit() {
        let remap: BTreeMap<_, _> = [("x".to_string(), "y".to_string())].into();
        let modified = AnySpan::Modified(ModifiedSpan {
            length: 3,
            replaced_spans: vec![Span::new(2, 4)].into(),
        });
        let e = entity("x", vec![AnySpan::Span(Span::new(10, 12)), modified]);
        let l = labelled(&e, &remap).unwrap();
        assert_eq!((l.label.as_str(), l.start, l.end), ("y", 2, 12));
        let empty = AnySpan::Modified(ModifiedSpan {
            length: 3,
            replaced_spans: RVec::new(),
        });
        assert!(labelled(&entity("x", vec![empty]), &remap).is_none());
    }

    #[test]
    fn options_deserialize_with_defaults() {
        let o: EvaluateOptions =
            serde_json::from_value(json!({"scheme": "iob2", "labels_remapping": {"a": "b"}}))
                .unwrap();
        assert_eq!((o.scheme.as_str(), o.average.as_str()), ("iob2", "macro"));
        assert_eq!(o.labels_remapping["a"], "b");
        assert_eq!(o.metrics_operation, shorthands::METRICS_OPERATION);
        assert!(serde_json::from_value::<EvaluateOptions>(json!({"typo": 1})).is_err());
    }

    #[test]
    fn metrics_operation_gets_only_its_own_config() {
        let default: EvaluateOptions = serde_json::from_value(json!({"average": "micro"})).unwrap();
        use shorthands::*;
        let mut expected = Map::new();
        expected.insert(METRICS_SCHEME.into(), "bilou".into());
        expected.insert(METRICS_AVERAGE.into(), "micro".into());
        expected.insert(METRICS_BY_LABEL.into(), true.into());
        assert_eq!(metrics_config(&default), Value::Object(expected));
        // another operation: no key of the default one's
        let other: EvaluateOptions =
            serde_json::from_value(json!({"metrics_operation": "token-accuracy"})).unwrap();
        assert_eq!(metrics_config(&other), json!({}));
        let own: EvaluateOptions = serde_json::from_value(
            json!({"metrics_operation": "token-accuracy", "metrics": {"ignore": ["O"]}}),
        )
        .unwrap();
        assert_eq!(metrics_config(&own), json!({"ignore": ["O"]}));
    }

    #[test]
    fn chars_are_tokens() {
        let t = Tokenization::Chars.tokens("né!").unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t[2], ROption::RSome(Span::new(2, 3)));
    }
}
