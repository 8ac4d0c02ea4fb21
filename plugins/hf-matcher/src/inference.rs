//! medkit's HFEntityMatcher: a token-classification model run on segments through transformers'
//! TokenClassificationPipeline logic (see `aggregation`), entities mapped back to document spans
//! with medkit's span utilities, each with a `score` attribute. Long segments are split in
//! strided windows (the pipeline's `stride` mode) instead of being truncated.

use crate::aggregation::{self, AggregationStrategy, Match, TokenInfo};
use crate::collate;
use crate::model::TokenClassifier;
use crate::op_config::{self, DeviceSpec};
use crate::streams;
use crate::tokenizer::HfTokenizer;
use crate::windows;
use medkit_sdk::spans;
use medkit_sdk::{AnySpan, Attribute, NerOperation, OpResult, Segment};
use serde::Deserialize;
use std::ops::Range;
use tch::{Device, Kind};
use tokenizers::models::ModelWrapper;

/// The operation's config: medkit's HFEntityMatcher arguments (minus name and uid), plus
/// `tokenizer_max_length` and the window overlap `stride`.
#[derive(Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct MatcherConfig {
    pub model: String,
    #[serde(default = "default_strategy")]
    pub aggregation_strategy: String,
    #[serde(default)]
    pub attrs_to_copy: Vec<String>,
    #[serde(default)]
    pub device: DeviceSpec,
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    #[serde(default)]
    pub hf_auth_token: Option<String>,
    /// Where hub models are cached (default: the HF cache, `HF_HUB_CACHE` / `HF_HOME`).
    #[serde(default)]
    pub cache_dir: Option<String>,
    #[serde(default)]
    pub tokenizer_max_length: Option<usize>,
    /// Tokens shared by consecutive windows of a long segment.
    #[serde(default)]
    pub stride: Option<usize>,
    /// bf16 autocast for the forward pass (faster; scores differ slightly from fp32).
    #[serde(default)]
    pub bf16: bool,
    /// CPU only: forward passes run side by side, one thread each, when a call brings several
    /// batches. 0 (default): libtorch's thread count for batch sizes below 8, else 1; 1: one
    /// multi-threaded pass at a time.
    #[serde(default)]
    pub streams: usize,
    /// libtorch's intra-op threads for the whole process, set when the operation is built
    /// (default: libtorch's, the physical cores); e.g. 1 per task when a scheduler runs several
    /// annotating tasks side by side.
    #[serde(default)]
    pub threads: Option<usize>,
    /// "int8": the encoder's linear layers in dynamic int8 (CPU only, without bf16; opt-in:
    /// scores differ slightly from fp32). Default "none".
    #[serde(default)]
    pub quantize: Quantize,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Quantize {
    #[default]
    None,
    Int8,
}

impl MatcherConfig {
    /// What can be checked without the model: the aggregation strategy (returned), the batch
    /// size.
    pub fn check(&self) -> Result<AggregationStrategy, String> {
        let strategy: AggregationStrategy = self.aggregation_strategy.parse()?;
        if self.batch_size == 0 {
            return Err("batch_size must be positive".into());
        }
        if self.threads == Some(0) {
            return Err("threads must be positive (or absent: libtorch's default)".into());
        }
        if self.quantize == Quantize::Int8 && self.bf16 {
            return Err("quantize = \"int8\" cannot be combined with bf16 = true".into());
        }
        Ok(strategy)
    }
}

fn default_strategy() -> String {
    "max".into()
}
fn default_batch_size() -> usize {
    1
}

/// One model input: a window of a segment's tokens, special tokens around it.
struct Window {
    segment: usize,
    ids: Vec<i64>,
    tokens: Vec<TokenInfo>,
}

pub struct HfEntityMatcher {
    model: TokenClassifier,
    tokenizer: HfTokenizer,
    id2label: Vec<String>,
    strategy: AggregationStrategy,
    attrs_to_copy: Vec<String>,
    batch_size: usize,
    streams: usize,
    max_length: usize,
    stride: usize,
    model_name: String,
    device: Device,
    word_aware: bool,
    unk_id: Option<i64>,
}

impl HfEntityMatcher {
    pub fn from_json(config_json: &str) -> Result<Self, String> {
        Self::new(op_config::parse_config(
            config_json,
            "ner hf-entity-matcher",
        )?)
    }

    pub fn new(config: MatcherConfig) -> Result<Self, String> {
        let strategy = config.check()?;
        if let Some(n) = config.threads {
            tch::set_num_threads(n.min(i32::MAX as usize) as i32);
        }
        let device = config.device.resolve()?;
        let dir = op_config::resolve_model(
            &config.model,
            config.hf_auth_token.as_deref(),
            config.cache_dir.as_deref(),
        )?;
        let mut model = TokenClassifier::from_dir(&dir, None, device).map_err(|e| e.to_string())?;
        model
            .set_autocast_bf16(config.bf16)
            .map_err(|e| e.to_string())?;
        if config.quantize == Quantize::Int8 {
            model
                .freeze_for_int8_inference()
                .map_err(|e| e.to_string())?;
        } else {
            model.freeze_for_inference();
        }
        let tokenizer = HfTokenizer::from_dir(&dir).map_err(|e| e.to_string())?;
        let max_length = op_config::max_length(config.tokenizer_max_length, &dir, &model.config);
        let specials = tokenizer.special_tokens_count();
        if max_length <= specials + 1 {
            return Err(format!(
                "tokenizer_max_length {max_length} leaves no room for text tokens"
            ));
        }
        let content = max_length - specials;
        let stride = config
            .stride
            .unwrap_or(windows::default_stride(content))
            .min(content / 2);
        // The pipeline's test: does the tokenizer model mark word continuations?
        let word_aware = match tokenizer.inner().get_model() {
            ModelWrapper::WordPiece(wp) => !wp.continuing_subword_prefix.is_empty(),
            ModelWrapper::BPE(bpe) => bpe
                .continuing_subword_prefix
                .as_ref()
                .is_some_and(|p| !p.is_empty()),
            _ => false,
        };
        if !word_aware
            && strategy != AggregationStrategy::None
            && strategy != AggregationStrategy::Simple
        {
            // The pipeline's own warning: words are guessed from spaces.
            log::warn!("Tokenizer does not support real words, using fallback heuristic");
        }
        let unk_id = match tokenizer.inner().get_model() {
            ModelWrapper::WordPiece(wp) => tokenizer.token_to_id(&wp.unk_token),
            ModelWrapper::BPE(bpe) => bpe
                .unk_token
                .as_deref()
                .and_then(|t| tokenizer.token_to_id(t)),
            _ => ["<unk>", "[UNK]"]
                .iter()
                .find_map(|t| tokenizer.token_to_id(t)),
        };
        let id2label = model.id2label();
        Ok(Self {
            model,
            tokenizer,
            id2label,
            strategy,
            attrs_to_copy: config.attrs_to_copy,
            batch_size: config.batch_size,
            streams: config.streams,
            max_length,
            stride,
            model_name: config.model,
            device,
            word_aware,
            unk_id,
        })
    }

    /// The window length: `tokenizer_max_length`, else the checkpoint's `model_max_length`.
    pub fn max_length(&self) -> usize {
        self.max_length
    }

    /// The windows of one segment's text (one unless it exceeds `max_length` tokens).
    fn windows(&self, segment: usize, text: &str, out: &mut Vec<Window>) -> Result<usize, String> {
        let enc = self
            .tokenizer
            .inner()
            .encode_char_offsets(text, true)
            .map_err(|e| format!("tokenizing a segment: {e}"))?;
        let chars: Vec<char> = text.chars().collect();
        let special = enc.get_special_tokens_mask();
        let n = special.len();
        let (prefix, suffix) = windows::special_ends(special);
        let info = |i: usize| {
            let (start, end) = enc.get_offsets()[i];
            let id = enc.get_ids()[i] as i64;
            TokenInfo {
                start,
                end,
                special: special[i] == 1,
                is_subword: special[i] == 0
                    && aggregation::is_subword(
                        &enc.get_tokens()[i],
                        &chars,
                        start,
                        end,
                        Some(id) == self.unk_id,
                        self.word_aware,
                    ),
            }
        };
        let ranges = window_ranges(
            n - prefix - suffix,
            self.max_length - prefix - suffix,
            self.stride,
        );
        for r in &ranges {
            let idx: Vec<usize> = (0..prefix)
                .chain(r.start + prefix..r.end + prefix)
                .chain(n - suffix..n)
                .collect();
            out.push(Window {
                segment,
                ids: idx.iter().map(|&i| enc.get_ids()[i] as i64).collect(),
                tokens: idx.iter().map(|&i| info(i)).collect(),
            });
        }
        Ok(ranges.len())
    }

    /// Softmaxed scores of each window, computed in length-sorted packed batches (on CPU, on
    /// several single-threaded streams when there are several batches: see `streams`).
    fn scores(&self, windows: &[Window]) -> Result<Vec<Vec<f32>>, String> {
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by_key(|&i| windows[i].ids.len());
        let batches: Vec<&[usize]> = order.chunks(self.batch_size).collect();
        let streams = streams::count(
            self.streams,
            self.batch_size,
            batches.len(),
            self.device == Device::Cpu,
        );
        let model = streams::ReadOnly(&self.model);
        let (device, n) = (self.device, self.id2label.len());
        let job = |b: usize| batch_scores(model.get(), device, n, windows, batches[b]);
        let scored = if streams > 1 {
            streams::run(streams, batches.len(), &job)?
        } else {
            (0..batches.len())
                .map(|b| tch::no_grad(|| job(b)))
                .collect::<Result<_, _>>()?
        };
        let mut out = vec![Vec::new(); windows.len()];
        for (batch, rows) in batches.iter().zip(scored) {
            for (&i, row) in batch.iter().zip(rows) {
                out[i] = row;
            }
        }
        Ok(out)
    }

    fn to_entity(&self, m: &Match, segment: &Segment) -> Result<Segment, String> {
        let spans: Vec<AnySpan> = segment.spans.to_vec();
        let (text, spans) =
            spans::extract(&segment.text, &spans, &[(m.start as u64, m.end as u64)])
                .map_err(|e| format!("segment '{}': {e}", segment.uid))?;
        // As medkit: for each label to copy, the segment's attributes with that label.
        let mut attrs = segment.copied_attrs(&self.attrs_to_copy);
        attrs.push(Attribute::new(
            "score",
            serde_json::json!(m.score as f64).to_string(),
            serde_json::json!({ "model": self.model_name }).to_string(),
        ));
        Ok(Segment {
            uid: medkit_sdk::new_uid().into(),
            label: m.label.clone().into(),
            spans: spans.into(),
            text: text.into(),
            attrs: attrs.into(),
            metadata: "{}".into(),
        })
    }
}

/// Softmaxed scores of the windows `batch` (indices into `windows`), one packed forward pass.
fn batch_scores(
    model: &TokenClassifier,
    device: Device,
    n: usize,
    windows: &[Window],
    batch: &[usize],
) -> Result<Vec<Vec<f32>>, String> {
    let packed = collate::pack(batch.iter().map(|&i| (windows[i].ids.as_slice(), &[][..])))?;
    let logits = model.forward_packed(&packed.to_input(device), false);
    let flat = logits
        .to_kind(Kind::Float)
        .to_device(Device::Cpu)
        .flatten(0, -1);
    let flat = Vec::<f32>::try_from(&flat).map_err(|e| format!("reading logits: {e}"))?;
    Ok(packed
        .offsets
        .windows(2)
        .map(|w| aggregation::softmax_rows(&flat[w[0] * n..w[1] * n], n))
        .collect())
}

/// Content-token ranges of the windows: `size` tokens each, consecutive windows sharing `stride`
/// tokens, as tokenizers' overflowing encodings.
pub fn window_ranges(n: usize, size: usize, stride: usize) -> Vec<Range<usize>> {
    let step = size - stride.min(size - 1);
    let mut out = Vec::new();
    let mut start = 0;
    // The first window always exists (an empty text has one, with special tokens only).
    loop {
        let end = (start + size).min(n);
        out.push(start..end);
        if end == n {
            return out;
        }
        start += step;
    }
}

impl NerOperation for HfEntityMatcher {
    fn run(&mut self, segments: Vec<Segment>) -> OpResult<Vec<Segment>> {
        Ok(self.run_batch(segments)?.into_iter().flatten().collect())
    }

    fn run_batch(&mut self, segments: Vec<Segment>) -> OpResult<Vec<Vec<Segment>>> {
        let mut windows = Vec::new();
        let mut windowed = 0;
        for (i, s) in segments.iter().enumerate() {
            if self.windows(i, &s.text, &mut windows)? > 1 {
                windowed += 1;
            }
        }
        if windowed > 0 {
            log::info!(
                "{windowed} segment(s) longer than {} tokens were split in windows (stride {})",
                self.max_length,
                self.stride
            );
        }
        let scores = self.scores(&windows)?;
        let mut matches: Vec<Vec<Match>> = vec![Vec::new(); segments.len()];
        let mut nb_windows = vec![0usize; segments.len()];
        for (w, s) in windows.iter().zip(&scores) {
            let found = aggregation::aggregate_window(s, &w.tokens, &self.id2label, self.strategy);
            matches[w.segment].extend(found);
            nb_windows[w.segment] += 1;
        }
        segments
            .iter()
            .zip(matches)
            .zip(nb_windows)
            .map(|((segment, m), nb)| {
                let m = if nb > 1 {
                    aggregation::aggregate_overlapping(m)
                } else {
                    m
                };
                m.iter().map(|m| self.to_entity(m, segment)).collect()
            })
            .collect()
    }
}
