//! `TokenClassifier::from_dir`: config + checkpoint → filled VarStore, with the classification
//! head kept, permuted, or re-initialised as transformers would.
use std::collections::HashSet;
use std::path::Path;

use tch::{Device, Tensor};

use super::{ModelError, TokenClassifier};
use crate::config::ModelConfig;
use crate::weights::{self, Checkpoint};

const HEAD: [&str; 2] = ["classifier.weight", "classifier.bias"];

/// Checkpoint keys we knowingly drop (pooler, pre-training heads, buffers).
fn ignorable(name: &str) -> bool {
    name.contains("pooler.")
        || name.starts_with("cls.")
        || name.starts_with("lm_head.")
        || name.starts_with("vocab_")
        || name.starts_with("pre_classifier.")
        || name.starts_with("qa_outputs.")
        || name.ends_with("position_ids")
        || name.ends_with("token_type_ids")
}

impl TokenClassifier {
    /// Loads an HF model dir (config.json + weights). `id2label`: Some(labels) → this label set;
    /// a checkpoint head with another label set is re-initialised (normal(0, initializer_range),
    /// zero bias, from tch's global RNG) with one warning naming the new tensors; the same set in
    /// another order is permuted.
    pub fn from_dir(
        dir: &Path,
        id2label: Option<&[String]>,
        device: Device,
    ) -> Result<Self, ModelError> {
        let config_path = dir.join("config.json");
        let mut config = ModelConfig::from_file(&config_path)?;
        let ckpt_labels: Vec<String> = config.id2label.values().cloned().collect();
        if let Some(labels) = id2label {
            if labels.is_empty() {
                return Err(ModelError::Labels("the label list is empty".into()));
            }
            let unique: HashSet<&String> = labels.iter().collect();
            if unique.len() != labels.len() {
                return Err(ModelError::Labels(format!(
                    "duplicate labels in {labels:?}"
                )));
            }
            config.set_labels(labels);
        }
        let mut ckpt = weights::load_dir(dir)?;
        // Variable creation goes through tch calls that panic on libtorch errors (e.g. out of
        // device memory): keep those errors.
        let model =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Self::build(config, device)))
                .map_err(|p| {
                    let msg = medkit_sdk::panic_message(&*p);
                    ModelError::torch(
                        format!("creating the model on {device:?}"),
                        msg.lines().next().unwrap_or(""),
                    )
                })?;
        let prefix = format!("{}.", model.config.family().prefix());
        // Prefixed checkpoints (…ForTokenClassification) vs bare base models (BertModel).
        let key_of = |name: &str, ckpt: &Checkpoint| -> Option<String> {
            if ckpt.tensors.contains_key(name) {
                return Some(name.to_string());
            }
            let bare = name.strip_prefix(&prefix)?;
            ckpt.tensors.contains_key(bare).then(|| bare.to_string())
        };
        let mut names: Vec<(String, Tensor)> = model.vs.variables().into_iter().collect();
        names.sort_by(|a, b| a.0.cmp(&b.0));
        let mut used = HashSet::new();
        for (name, var) in names.iter_mut() {
            if HEAD.contains(&name.as_str()) {
                continue;
            }
            let key = key_of(name, &ckpt).ok_or_else(|| ModelError::MissingTensor {
                name: name.clone(),
                path: ckpt.path.clone(),
            })?;
            copy_into(var, &ckpt.tensors[&key], name, &ckpt.path)?;
            used.insert(key);
        }
        model.load_head(&mut ckpt, &ckpt_labels, &mut used)?;
        // DistilBERT's sinusoidal position table is fixed in transformers (requires_grad=False).
        if model
            .config
            .extra
            .get("sinusoidal_pos_embds")
            .and_then(|v| v.as_bool())
            == Some(true)
        {
            if let Some(t) = model
                .vs
                .variables()
                .get("distilbert.embeddings.position_embeddings.weight")
            {
                let _ = t.set_requires_grad(false);
            }
        }
        let mut ignored: Vec<&String> =
            ckpt.tensors.keys().filter(|k| !used.contains(*k)).collect();
        ignored.sort();
        let (known, unknown): (Vec<&String>, Vec<&String>) =
            ignored.into_iter().partition(|k| ignorable(k));
        if !known.is_empty() {
            log::debug!(
                "{}: ignoring {} tensor(s) not used for token classification: {known:?}",
                ckpt.path.display(),
                known.len()
            );
        }
        if !unknown.is_empty() {
            log::warn!("{}: unused weights {unknown:?}", ckpt.path.display());
        }
        Ok(model)
    }

    /// Replaces every weight by the one of a checkpoint this model's `save` wrote (same
    /// architecture and labels): how a training run resumes. The variables stay the same
    /// tensors, so an optimizer holding them goes on with the loaded values.
    pub fn load_weights(&mut self, dir: &Path) -> Result<(), ModelError> {
        let ckpt = weights::load_dir(dir)?;
        let prefix = format!("{}.", self.config.family().prefix());
        for (name, mut var) in self.vs.variables() {
            let src = ckpt
                .tensors
                .get(&name)
                .or_else(|| ckpt.tensors.get(name.strip_prefix(&prefix)?))
                .ok_or_else(|| ModelError::MissingTensor {
                    name: name.clone(),
                    path: ckpt.path.clone(),
                })?;
            copy_into(&mut var, src, &name, &ckpt.path)?;
        }
        Ok(())
    }

    fn load_head(
        &self,
        ckpt: &mut Checkpoint,
        ckpt_labels: &[String],
        used: &mut HashSet<String>,
    ) -> Result<(), ModelError> {
        let labels = self.id2label();
        let (h, n) = (self.config.hidden_size, labels.len() as i64);
        let vars = self.vs.variables();
        let (mut w, mut b) = (vars[HEAD[0]].shallow_clone(), vars[HEAD[1]].shallow_clone());
        let found = (ckpt.tensors.get(HEAD[0]), ckpt.tensors.get(HEAD[1]));
        if let (Some(cw), Some(cb)) = found {
            used.insert(HEAD[0].to_string());
            used.insert(HEAD[1].to_string());
            let rows = cw.size().first().copied().unwrap_or(-1);
            // Head rows follow the checkpoint's labels; map ours onto them when the sets agree.
            let perm: Option<Vec<i64>> = (rows == ckpt_labels.len() as i64)
                .then(|| {
                    labels
                        .iter()
                        .map(|l| ckpt_labels.iter().position(|c| c == l).map(|i| i as i64))
                        .collect()
                })
                .flatten();
            match perm {
                Some(perm) if rows == n && cw.size() == [n, h] && cb.size() == [n] => {
                    let idx = Tensor::from_slice(&perm);
                    copy_into(&mut w, &cw.index_select(0, &idx), HEAD[0], &ckpt.path)?;
                    copy_into(&mut b, &cb.index_select(0, &idx), HEAD[1], &ckpt.path)?;
                    return Ok(());
                }
                _ if cw.size().len() != 2 || cw.size()[1] != h => {
                    return Err(ModelError::ShapeMismatch {
                        name: HEAD[0].into(),
                        path: ckpt.path.clone(),
                        expected: vec![n, h],
                        found: cw.size(),
                    });
                }
                _ => {}
            }
        }
        tch::no_grad(|| -> Result<(), tch::TchError> {
            let _ = w.f_normal_(0.0, self.config.initializer_range)?;
            let _ = b.f_zero_()?;
            Ok(())
        })
        .map_err(|e| ModelError::torch("initialising the classifier", e))?;
        log::warn!(
            "{}: newly initialised {:?} for labels {labels:?} (checkpoint labels: {ckpt_labels:?}); train the model before use",
            ckpt.path.display(),
            HEAD
        );
        Ok(())
    }
}

fn copy_into(var: &mut Tensor, src: &Tensor, name: &str, path: &Path) -> Result<(), ModelError> {
    if var.size() != src.size() {
        return Err(ModelError::ShapeMismatch {
            name: name.into(),
            path: path.into(),
            expected: var.size(),
            found: src.size(),
        });
    }
    tch::no_grad(|| var.f_copy_(src))
        .map_err(|e| ModelError::torch(format!("copying `{name}` from {}", path.display()), e))
}
