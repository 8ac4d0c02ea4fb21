//! The optimizer settings a trainable receives: the JSON of
//! [`Trainable::configure_optimizer`](crate::Trainable::configure_optimizer).
//!
//! The host's trainer sends `[train.optimizer]` of the pipeline file, resolved with its defaults,
//! plus `[train.trainer]`'s `max_grad_norm`. Read it with [`OptimizerConfig::from_json`]; a
//! trainable that cannot honour a setting should fail `configure_optimizer` naming it rather
//! than ignore it.
//!
//! Semantics (those of `torch.optim.AdamW` with two parameter groups and of
//! `torch.nn.utils.clip_grad_norm_`, as transformers' Trainer applies them):
//! - a parameter whose name contains one of `no_decay` gets weight decay 0 (the match is a plain
//!   substring match on the parameter's name, e.g. `encoder.layer.0.output.LayerNorm.weight`);
//!   every other parameter gets `weight_decay`;
//! - `betas` and `eps` are AdamW's, for every parameter;
//! - `max_grad_norm`, when given: at each optimizer step, before the update, the gradients of
//!   all parameters are scaled by `min(1, max_grad_norm / (total_norm + 1e-6))`, `total_norm`
//!   being the L2 norm of all gradients taken together.
//!
//! An absent key takes the [`Default`] value, which is Python medkit's optimizer exactly
//! (`torch.optim.AdamW(model.parameters(), lr=lr)`: weight decay 0.01 on every parameter, betas
//! (0.9, 0.999), eps 1e-8, no clipping): `{}` (or an empty text) means medkit's optimizer. With a
//! `[train.optimizer]` table the host sends `no_decay = ["bias", "LayerNorm.weight"]`
//! ([`DEFAULT_NO_DECAY`], as transformers' examples) unless the table says otherwise.
//!
//! This is plain serde data, not an ABI type: it crosses as JSON text.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The parameter-name substrings exempt from weight decay when `[train.optimizer]` sets no
/// `no_decay` (transformers' examples: biases and LayerNorm weights).
pub const DEFAULT_NO_DECAY: [&str; 2] = ["bias", "LayerNorm.weight"];

/// The JSON schema of `configure_optimizer`'s `config_json`. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimizerConfig {
    /// AdamW's decoupled weight decay (>= 0), for parameters not matched by `no_decay`.
    pub weight_decay: f64,
    /// Parameter-name substrings: a parameter whose name contains one gets no weight decay.
    pub no_decay: Vec<String>,
    /// AdamW's `(beta1, beta2)`, each in [0, 1).
    pub betas: [f64; 2],
    /// AdamW's epsilon (> 0).
    pub eps: f64,
    /// Clip the gradients' total L2 norm to this (> 0) before each update; absent: no clipping.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_grad_norm: Option<f64>,
}

impl Default for OptimizerConfig {
    /// Python medkit's optimizer: torch.optim.AdamW's defaults on every parameter, no clipping.
    fn default() -> Self {
        Self {
            weight_decay: 0.01,
            no_decay: Vec::new(),
            betas: [0.9, 0.999],
            eps: 1e-8,
            max_grad_norm: None,
        }
    }
}

/// A setting out of its range: `key` is the JSON key (`betas`, `max_grad_norm`, …).
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidSetting {
    pub key: &'static str,
    pub message: String,
}

impl fmt::Display for InvalidSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.key, self.message)
    }
}

impl std::error::Error for InvalidSetting {}

impl OptimizerConfig {
    /// Parses and validates `configure_optimizer`'s JSON (empty text counts as `{}`); errors
    /// name the key.
    pub fn from_json(config_json: &str) -> Result<Self, String> {
        let config: Self =
            crate::parse_config(config_json).map_err(|e| format!("optimizer {e}"))?;
        config
            .validate()
            .map_err(|e| format!("optimizer config: {e}"))?;
        Ok(config)
    }

    /// Checks the ranges serde cannot: weight_decay >= 0, betas in [0, 1), eps > 0,
    /// max_grad_norm > 0 (all finite).
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        let bad = |key, message: String| Err(InvalidSetting { key, message });
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return bad(
                "weight_decay",
                format!("must be >= 0 (got {})", self.weight_decay),
            );
        }
        if !self.betas.iter().all(|b| (0.0..1.0).contains(b)) {
            return bad(
                "betas",
                format!("must each be in [0, 1) (got {:?})", self.betas),
            );
        }
        if !(self.eps > 0.0 && self.eps.is_finite()) {
            return bad("eps", format!("must be > 0 (got {})", self.eps));
        }
        if let Some(n) = self.max_grad_norm {
            if !(n > 0.0 && n.is_finite()) {
                return bad("max_grad_norm", format!("must be > 0 (got {n})"));
            }
        }
        if self.no_decay.iter().any(String::is_empty) {
            return bad(
                "no_decay",
                "holds an empty string, which every parameter name contains".into(),
            );
        }
        Ok(())
    }

    /// Whether the parameter named `name` contains one of `no_decay` (no weight decay).
    pub fn exempt_from_decay(&self, name: &str) -> bool {
        self.no_decay.iter().any(|s| name.contains(s.as_str()))
    }

    /// The weight decay of the parameter named `name`: 0 when it contains one of `no_decay`.
    pub fn weight_decay_of(&self, name: &str) -> f64 {
        if self.exempt_from_decay(name) {
            0.0
        } else {
            self.weight_decay
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_json_is_medkits_optimizer() {
        for text in ["", "{}", " "] {
            assert_eq!(
                OptimizerConfig::from_json(text).unwrap(),
                OptimizerConfig::default()
            );
        }
        let c = OptimizerConfig::default();
        assert_eq!(c.weight_decay_of("encoder.LayerNorm.weight"), 0.01);
        assert_eq!(c.weight_decay_of("classifier.bias"), 0.01);
        // The default serialises without max_grad_norm and reads back the same.
        let text = serde_json::to_string(&c).unwrap();
        assert!(!text.contains("max_grad_norm"), "{text}");
        assert_eq!(OptimizerConfig::from_json(&text).unwrap(), c);
    }

    #[test]
    fn groups_by_name_substring() {
        let c = OptimizerConfig {
            weight_decay: 0.1,
            no_decay: DEFAULT_NO_DECAY.map(String::from).to_vec(),
            ..Default::default()
        };
        assert_eq!(
            c.weight_decay_of("encoder.layer.0.output.LayerNorm.weight"),
            0.0
        );
        assert_eq!(
            c.weight_decay_of("encoder.layer.0.output.LayerNorm.bias"),
            0.0
        );
        assert_eq!(c.weight_decay_of("classifier.bias"), 0.0);
        assert_eq!(c.weight_decay_of("classifier.weight"), 0.1);
        assert_eq!(c.weight_decay_of("embeddings.word_embeddings.weight"), 0.1);
    }

    #[test]
    fn bad_values_and_keys_are_errors_naming_the_key() {
        let e = OptimizerConfig::from_json(r#"{"betas": [0.9, 1.0]}"#).unwrap_err();
        assert!(e.contains("betas must each be in [0, 1)"), "{e}");
        let e = OptimizerConfig::from_json(r#"{"eps": 0}"#).unwrap_err();
        assert!(e.contains("eps must be > 0"), "{e}");
        let e = OptimizerConfig::from_json(r#"{"weight_decay": -0.1}"#).unwrap_err();
        assert!(e.contains("weight_decay must be >= 0"), "{e}");
        let e = OptimizerConfig::from_json(r#"{"max_grad_norm": 0.0}"#).unwrap_err();
        assert!(e.contains("max_grad_norm must be > 0"), "{e}");
        let e = OptimizerConfig::from_json(r#"{"no_decay": [""]}"#).unwrap_err();
        assert!(e.contains("no_decay holds an empty string"), "{e}");
        let e = OptimizerConfig::from_json(r#"{"beta1": 0.8}"#).unwrap_err();
        assert!(e.contains("unknown field `beta1`"), "{e}");
        let e = OptimizerConfig::from_json(r#"{"betas": [0.9]}"#).unwrap_err();
        assert!(e.contains("'betas'"), "{e}");
    }
}
