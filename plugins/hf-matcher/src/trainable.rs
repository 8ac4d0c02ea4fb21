//! medkit's `HFEntityMatcher.make_trainable` (HFEntityMatcherTrainable): label map from the tagging
//! scheme, preprocessing into aligned tag ids, padded train/eval steps with transformers' token
//! classification loss, AdamW with a resumable state, HF-layout saving.

use crate::collate::{self, IGNORE_INDEX};
use crate::config::ModelConfig;
use crate::model::TokenClassifier;
use crate::op_config::{self, DeviceSpec};
use crate::optim::adamw::{AdamW, AdamWConfig};
use crate::tokenizer::HfTokenizer;
use crate::windows::{self, LongDocuments};
use medkit_sdk::spans::normalize_spans;
use medkit_sdk::{Features, OpResult, StepOutput, TextDocument, Trainable};
use medkit_tagging::{align_labels, entities_to_tags, Scheme};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use tch::{Device, Reduction, Tensor};

/// The operation's config: medkit's `make_trainable` arguments, plus `seed`.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TrainableConfig {
    pub model_name_or_path: String,
    pub labels: Vec<String>,
    pub tagging_scheme: String,
    #[serde(default)]
    pub tag_subtokens: bool,
    #[serde(default)]
    pub tokenizer_max_length: Option<usize>,
    #[serde(default)]
    pub hf_auth_token: Option<String>,
    /// Where hub models are cached (default: the HF cache, `HF_HUB_CACHE` / `HF_HOME`).
    #[serde(default)]
    pub cache_dir: Option<String>,
    #[serde(default)]
    pub device: DeviceSpec,
    /// Seeds torch before the classification head is created (same seed, same run).
    #[serde(default)]
    pub seed: Option<u64>,
    /// bf16 autocast for the forward passes (fp32 weights, gradients and optimizer), like
    /// transformers' `bf16=True`. Off by default: faster, but check the F1.
    #[serde(default)]
    pub bf16: bool,
    /// A document longer than the maximum length: `windows` (overlapping windows, nothing lost)
    /// or `truncate` (medkit's behaviour: cut, the entities past the cut counted in a warning).
    #[serde(default)]
    pub long_documents: LongDocuments,
    /// Tokens shared by consecutive windows; default (null): a quarter of the window's text
    /// tokens, as the matcher's `stride`.
    #[serde(default)]
    pub window_stride: Option<usize>,
}

impl TrainableConfig {
    /// What can be checked without the model: the tagging scheme (returned), the labels, the
    /// maximum length.
    pub fn check(&self) -> Result<Scheme, String> {
        let scheme = Scheme::from_name(&self.tagging_scheme).map_err(|_| {
            format!(
                "unknown tagging_scheme '{}' (expected iob2 or bilou)",
                self.tagging_scheme
            )
        })?;
        if !matches!(scheme, Scheme::Iob2 | Scheme::Bilou) {
            return Err(format!(
                "tagging_scheme '{}' is not one of medkit's (iob2, bilou)",
                self.tagging_scheme
            ));
        }
        if self.labels.is_empty() {
            return Err("labels is empty: give at least one entity label to learn".into());
        }
        let unique: HashSet<&String> = self.labels.iter().collect();
        if unique.len() != self.labels.len() {
            return Err(format!("labels has duplicates: {:?}", self.labels));
        }
        if self.tokenizer_max_length == Some(0) {
            return Err("tokenizer_max_length must be positive".into());
        }
        if let (Some(stride), Some(max)) = (self.window_stride, self.tokenizer_max_length) {
            if stride >= max {
                return Err(format!(
                    "window_stride {stride} must be smaller than the windows' text tokens \
                     (tokenizer_max_length {max} minus the special tokens)"
                ));
            }
        }
        Ok(scheme)
    }

    /// The windows' overlap for windows of `content` text tokens (`specials` special tokens
    /// besides): the configured one, checked, else the default.
    fn stride(&self, content: usize, specials: usize) -> Result<usize, String> {
        let max = content + specials;
        if content == 0 {
            return Err(format!(
                "tokenizer_max_length {max} leaves no room for text tokens beside {specials} \
                 special tokens"
            ));
        }
        match self.window_stride {
            None => Ok(windows::default_stride(content)),
            Some(s) if s < content => Ok(s),
            Some(s) => Err(format!(
                "window_stride {s} must be smaller than the windows' {content} text tokens \
                 (tokenizer_max_length {max} minus {specials} special tokens)"
            )),
        }
    }
}

/// What `save_state` writes besides the optimizer moments.
pub const STATE_FILE: &str = "trainable_state.json";

#[derive(Serialize, Deserialize)]
struct SavedState {
    seed: u64,
    steps_since_seed: u64,
    train_steps: u64,
    optimizer: Option<SavedOptimizer>,
}

#[derive(Serialize, Deserialize)]
struct SavedOptimizer {
    config: AdamWConfig,
    step: u64,
}

pub struct HfEntityMatcherTrainable {
    model: TokenClassifier,
    tokenizer: HfTokenizer,
    scheme: Scheme,
    labels: HashSet<String>,
    id_to_label: Vec<String>,
    tag_to_id: HashMap<String, i64>,
    tag_subtokens: bool,
    max_length: usize,
    long_documents: LongDocuments,
    /// Overlap of the windows of a long document (`window_stride`).
    stride: usize,
    device: Device,
    optimizer: Option<AdamW>,
    /// Dropout draws are seeded per step from (seed, steps since seed): a resumed run replays them.
    seed: u64,
    steps_since_seed: u64,
    train_steps: u64,
    /// Preprocessing problems, summarised once (at the next optimizer/step call).
    skipped_labels: BTreeMap<String, usize>,
    truncated_entities: usize,
    truncated_docs: usize,
    /// Documents split in windows, and their windows (summarised with the warnings).
    windowed_docs: usize,
    windowed_examples: usize,
}

impl HfEntityMatcherTrainable {
    pub fn from_json(config_json: &str) -> Result<Self, String> {
        let config: TrainableConfig =
            op_config::parse_config(config_json, "trainable hf-entity-matcher")?;
        Self::new(config)
    }

    pub fn new(config: TrainableConfig) -> Result<Self, String> {
        let scheme = config.check()?;
        let device = config.device.resolve()?;
        let dir = op_config::resolve_model(
            &config.model_name_or_path,
            config.hf_auth_token.as_deref(),
            config.cache_dir.as_deref(),
        )?;
        let model_config =
            ModelConfig::from_file(&dir.join("config.json")).map_err(|e| e.to_string())?;
        let tags = scheme.tags(&config.labels);
        // medkit keeps the model's own mapping when its label set is the same (easier fine-tuning).
        let own: Vec<String> = model_config.id2label.values().cloned().collect();
        let (mut a, mut b) = (own.clone(), tags.clone());
        a.sort();
        b.sort();
        let id_to_label = if a == b {
            own
        } else {
            log::warn!(
                "The model seems to have different labels. Pretrained with labels: {a:?}, new labels \
                 {b:?}. Ignoring the model labels as a result."
            );
            tags
        };
        let seed = config.seed.unwrap_or(0);
        if let Some(s) = config.seed {
            tch::manual_seed(s as i64); // the new head's initialisation
        }
        let mut model = TokenClassifier::from_dir(&dir, Some(&id_to_label), device)
            .map_err(|e| e.to_string())?;
        model
            .set_autocast_bf16(config.bf16)
            .map_err(|e| e.to_string())?;
        let mut tokenizer = HfTokenizer::from_dir(&dir).map_err(|e| e.to_string())?;
        let max_length = op_config::max_length(config.tokenizer_max_length, &dir, &model.config);
        // A checkpoint is annotated at the length it was trained at unless told otherwise
        // (medkit's checkpoints do the same): positions past it were never fine-tuned.
        tokenizer.set_model_max_length(max_length);
        let specials = tokenizer.special_tokens_count();
        let stride = match config.long_documents {
            LongDocuments::Windows => {
                config.stride(max_length.saturating_sub(specials), specials)?
            }
            LongDocuments::Truncate => 0,
        };
        let tag_to_id = id_to_label
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as i64))
            .collect();
        Ok(Self {
            model,
            tokenizer,
            scheme,
            labels: config.labels.into_iter().collect(),
            id_to_label,
            tag_to_id,
            tag_subtokens: config.tag_subtokens,
            max_length,
            long_documents: config.long_documents,
            stride,
            device,
            optimizer: None,
            seed,
            steps_since_seed: 0,
            train_steps: 0,
            skipped_labels: BTreeMap::new(),
            truncated_entities: 0,
            truncated_docs: 0,
            windowed_docs: 0,
            windowed_examples: 0,
        })
    }

    pub fn model(&self) -> &TokenClassifier {
        &self.model
    }

    pub fn max_length(&self) -> usize {
        self.max_length
    }

    fn flush_warnings(&mut self) {
        for (label, n) in std::mem::take(&mut self.skipped_labels) {
            log::warn!(
                "Skipped {n} entit{} labelled '{label}': not in the trained labels",
                plural(n)
            );
        }
        if self.truncated_entities > 0 {
            log::warn!(
                "{} entit{} cut or dropped by truncation at {} tokens in {} document(s); raise \
                 tokenizer_max_length or split the documents",
                self.truncated_entities,
                plural(self.truncated_entities),
                self.max_length,
                self.truncated_docs
            );
            self.truncated_entities = 0;
            self.truncated_docs = 0;
        }
        if self.windowed_docs > 0 {
            log::info!(
                "{} document(s) longer than {} tokens split into {} overlapping windows (stride \
                 {}); every token is labelled in one window",
                self.windowed_docs,
                self.max_length,
                self.windowed_examples,
                self.stride
            );
            self.windowed_docs = 0;
            self.windowed_examples = 0;
        }
    }

    /// Forward of a batch: transformers' token-classification loss, the mean over the
    /// non-ignored tokens of the whole batch, and with `loss_scale`, that loss times the scale
    /// for the caller's backward pass (None when the batch has no target). The batch runs packed
    /// (padding removed; same loss and gradients as the padded batch).
    fn run_batch(
        &self,
        batch: &[Features],
        train: bool,
        loss_scale: Option<f64>,
    ) -> Result<(StepOutput, Option<Tensor>), String> {
        if batch.is_empty() {
            return Err("empty batch".into());
        }
        let targets: usize = batch
            .iter()
            .map(|f| f.labels.iter().filter(|&&l| l != IGNORE_INDEX).count())
            .sum();
        if targets == 0 {
            // Only special tokens: transformers' loss would be 0/0; nothing to learn here.
            let output = StepOutput {
                loss: 0.0,
                references: vec![Default::default(); batch.len()].into(),
                predictions: vec![Default::default(); batch.len()].into(),
            };
            return Ok((output, None));
        }
        let examples: Vec<&Features> = batch.iter().collect();
        let packed = collate::pack_features(&examples)?;
        let logits = self
            .model
            .forward_packed(&packed.to_input(self.device), train);
        let loss = logits.cross_entropy_loss::<Tensor>(
            &packed.labels_tensor(self.device),
            None,
            Reduction::Sum,
            IGNORE_INDEX,
            0.0,
        );
        let value = f64::try_from(&loss).map_err(|e| format!("reading the loss: {e}"))?;
        if !value.is_finite() {
            return Err(format!("non-finite loss ({value})"));
        }
        let scaled = loss_scale.map(|scale| loss * (scale / targets as f64));
        let ids = collate::argmax_ids(&logits)?;
        let (references, predictions) = packed.split_outputs(&ids);
        let output = StepOutput {
            loss: value / targets as f64,
            references: references
                .into_iter()
                .map(Into::into)
                .collect::<Vec<_>>()
                .into(),
            predictions: predictions
                .into_iter()
                .map(Into::into)
                .collect::<Vec<_>>()
                .into(),
        };
        Ok((output, scaled))
    }
}

impl Drop for HfEntityMatcherTrainable {
    /// A run that only preprocessed still reports what it skipped.
    fn drop(&mut self) {
        self.flush_warnings();
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        "y"
    } else {
        "ies"
    }
}

/// libtorch's seed for the `step`-th step since `set_seed` (one derivation, the SDK's).
fn step_seed(seed: u64, step: u64) -> i64 {
    (medkit_sdk::derive_seed(seed, step) >> 1) as i64
}

impl Trainable for HfEntityMatcherTrainable {
    fn id_to_label(&self) -> Vec<String> {
        self.id_to_label.clone()
    }

    fn device(&self) -> String {
        match self.device {
            Device::Cpu => "cpu".into(),
            Device::Cuda(i) => format!("cuda:{i}"),
            d => format!("{d:?}").to_lowercase(),
        }
    }

    fn set_seed(&mut self, seed: u64) -> OpResult<()> {
        self.seed = seed;
        self.steps_since_seed = 0;
        tch::manual_seed(seed as i64);
        Ok(())
    }

    fn preprocess(&mut self, document: TextDocument) -> OpResult<Vec<Features>> {
        let windowed = self.long_documents == LongDocuments::Windows;
        // Windows: the whole document is tokenized and tagged, then cut (an entity across a
        // window edge goes on with I- in the next window).
        let enc = self
            .tokenizer
            .encode(&document.text, (!windowed).then_some(self.max_length))
            .map_err(|e| e.to_string())?;
        let tokens: Vec<Option<(usize, usize)>> = enc
            .offsets
            .iter()
            .zip(&enc.special_tokens_mask)
            .map(|(&o, &s)| (s == 0).then_some(o))
            .collect();
        let last_end = tokens.iter().flatten().map(|t| t.1).max().unwrap_or(0);
        // Truncation happened if text beyond the last token has something to tokenize.
        let truncated = !windowed
            && document
                .text
                .chars()
                .skip(last_end)
                .any(|c| !c.is_whitespace());
        let mut entities = Vec::new();
        let mut cut = 0;
        for e in document.entities() {
            if !self.labels.contains(e.label.as_str()) {
                *self.skipped_labels.entry(e.label.to_string()).or_default() += 1;
                continue;
            }
            let spans: Vec<(usize, usize)> = normalize_spans(&e.spans)
                .iter()
                .map(|s| (s.start as usize, s.end as usize))
                .collect();
            if truncated && spans.last().is_some_and(|s| s.1 > last_end) {
                cut += 1;
            }
            entities.push((e.label.to_string(), spans));
        }
        if cut > 0 {
            self.truncated_entities += cut;
            self.truncated_docs += 1;
        }
        let tags = entities_to_tags(self.scheme, &entities, &tokens);
        let labels = align_labels(&tags, &enc.word_ids, &self.tag_to_id, self.tag_subtokens)
            .map_err(|e| format!("aligning tags of document '{}': {e}", document.uid))?;
        if !windowed || enc.ids.len() <= self.max_length {
            return Ok(vec![Features {
                input_ids: enc.ids.into(),
                labels: labels.into(),
            }]);
        }
        let ends = windows::special_ends(&enc.special_tokens_mask);
        let size = self.max_length.saturating_sub(ends.0 + ends.1).max(1);
        let examples = windows::scored_windows(&enc.ids, &labels, ends, size, self.stride);
        self.windowed_docs += 1;
        self.windowed_examples += examples.len();
        Ok(examples)
    }

    fn configure_optimizer(&mut self, learning_rate: f64, config_json: &str) -> OpResult<()> {
        self.flush_warnings();
        let settings = medkit_sdk::OptimizerConfig::from_json(config_json)?;
        let config = AdamWConfig::new(learning_rate, &settings);
        match &mut self.optimizer {
            // Restored by resume: keep the moments, take the new hyper-parameters.
            Some(opt) => opt.config = config,
            None => {
                let params = self
                    .model
                    .vs
                    .variables()
                    .into_iter()
                    .filter(|(_, t)| t.requires_grad())
                    .collect();
                self.optimizer = Some(AdamW::new(params, config));
            }
        }
        // The optimizer's CPU path updates embedding rows sparsely: a batch touches a few
        // hundred of the vocabulary's rows, and a dense gradient costs passes over all of them.
        let cpu = self.model.device() == tch::Device::Cpu;
        self.model.set_sparse_word_embedding_grad(cpu);
        Ok(())
    }

    fn set_learning_rate(&mut self, learning_rate: f64) -> OpResult<()> {
        let opt = self
            .optimizer
            .as_mut()
            .ok_or("set_learning_rate before configure_optimizer")?;
        opt.config.lr = learning_rate;
        Ok(())
    }

    fn train_step(&mut self, batch: Vec<Features>, loss_scale: f64) -> OpResult<StepOutput> {
        self.flush_warnings();
        let step = self.train_steps;
        tch::manual_seed(step_seed(self.seed, self.steps_since_seed));
        self.train_steps += 1;
        self.steps_since_seed += 1;
        let (output, loss) = self
            .run_batch(&batch, true, Some(loss_scale))
            .map_err(|e| format!("training step {step}: {e}"))?;
        if let Some(loss) = loss {
            match &mut self.optimizer {
                Some(opt) => opt
                    .backward(&loss)
                    .map_err(|e| format!("training step {step}: {e}"))?,
                None => loss.backward(),
            }
        }
        Ok(output)
    }

    fn eval_step(&mut self, batch: Vec<Features>) -> OpResult<StepOutput> {
        self.flush_warnings();
        tch::no_grad(|| self.run_batch(&batch, false, None)).map(|(output, _)| output)
    }

    fn optimizer_step(&mut self) -> OpResult<()> {
        let opt = self
            .optimizer
            .as_mut()
            .ok_or("optimizer_step before configure_optimizer")?;
        opt.step();
        opt.zero_grad();
        Ok(())
    }

    fn save(&mut self, dir: &str) -> OpResult<()> {
        let dir = Path::new(dir);
        self.model.save(dir).map_err(|e| e.to_string())?;
        self.tokenizer.save(dir).map_err(|e| e.to_string())?;
        // The checkpoint's provenance records the libtorch it was trained on.
        crate::runtime::write(&dir.display().to_string())
    }

    fn save_state(&mut self, dir: &str) -> OpResult<()> {
        let dir = Path::new(dir);
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
        if let Some(opt) = &self.optimizer {
            opt.save(dir)?;
        }
        let state = SavedState {
            seed: self.seed,
            steps_since_seed: self.steps_since_seed,
            train_steps: self.train_steps,
            optimizer: self.optimizer.as_ref().map(|o| SavedOptimizer {
                config: o.config.clone(),
                step: o.step,
            }),
        };
        let path = dir.join(STATE_FILE);
        let text = serde_json::to_string_pretty(&state).expect("state serialises");
        std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))
    }

    fn resume(&mut self, dir: &str) -> OpResult<()> {
        let dir = Path::new(dir);
        self.model.load_weights(dir).map_err(|e| e.to_string())?;
        let path = dir.join(STATE_FILE);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        let state: SavedState =
            serde_json::from_str(&text).map_err(|e| format!("invalid {}: {e}", path.display()))?;
        if let Some(saved) = state.optimizer {
            if self.optimizer.is_none() {
                let settings = serde_json::to_string(&saved.config.settings())
                    .map_err(|e| format!("optimizer settings: {e}"))?;
                self.configure_optimizer(saved.config.lr, &settings)?;
            }
            let opt = self.optimizer.as_mut().expect("configured above");
            opt.config = saved.config;
            opt.load(dir, saved.step)?;
        }
        self.seed = state.seed;
        self.steps_since_seed = state.steps_since_seed;
        self.train_steps = state.train_steps;
        Ok(())
    }
}
