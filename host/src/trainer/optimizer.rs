//! `[train.optimizer]`: AdamW's weight decay (with the `no_decay` parameter names), betas and
//! eps. The trainable receives them, with `[train.trainer]`'s `max_grad_norm`, as the JSON of
//! `configure_optimizer` (medkit_sdk::OptimizerConfig, the schema's one definition).
//!
//! Without the table the optimizer is Python medkit's exactly (torch.optim.AdamW's defaults on
//! every parameter); with it, `no_decay` defaults to biases and LayerNorm weights, as
//! transformers' examples, and `no_decay = []` gives medkit's behaviour back.

use medkit_sdk::optimizer::InvalidSetting;
use medkit_sdk::{OptimizerConfig, DEFAULT_NO_DECAY};
use serde::{Deserialize, Serialize};

/// `[train.optimizer]` as written; absent keys take the defaults below.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerSection {
    #[serde(default = "defaults::weight_decay")]
    pub weight_decay: f64,
    /// Parameter-name substrings exempt from weight decay.
    #[serde(default = "defaults::no_decay")]
    pub no_decay: Vec<String>,
    #[serde(default = "defaults::betas")]
    pub betas: [f64; 2],
    #[serde(default = "defaults::eps")]
    pub eps: f64,
}

impl OptimizerSection {
    /// The table equivalent to its absence (Python medkit's optimizer): what `medkit check`
    /// prints for a pipeline without one.
    pub fn medkit() -> Self {
        let m = OptimizerConfig::default();
        Self {
            weight_decay: m.weight_decay,
            no_decay: m.no_decay,
            betas: m.betas,
            eps: m.eps,
        }
    }
}

mod defaults {
    use medkit_sdk::OptimizerConfig;

    pub fn weight_decay() -> f64 {
        OptimizerConfig::default().weight_decay
    }
    pub fn no_decay() -> Vec<String> {
        super::DEFAULT_NO_DECAY.map(String::from).to_vec()
    }
    pub fn betas() -> [f64; 2] {
        OptimizerConfig::default().betas
    }
    pub fn eps() -> f64 {
        OptimizerConfig::default().eps
    }
}

/// What `configure_optimizer` receives: the section (or medkit's optimizer without one) and
/// the trainer's `max_grad_norm`.
pub fn settings(section: Option<&OptimizerSection>, max_grad_norm: Option<f64>) -> OptimizerConfig {
    let s = section.cloned().unwrap_or_else(OptimizerSection::medkit);
    OptimizerConfig {
        weight_decay: s.weight_decay,
        no_decay: s.no_decay,
        betas: s.betas,
        eps: s.eps,
        max_grad_norm,
    }
}

/// [`settings`] validated; errors name the key as the pipeline file has it
/// (`optimizer.betas`, `trainer.max_grad_norm`), relative to `[train]`.
pub fn checked_settings(
    section: Option<&OptimizerSection>,
    max_grad_norm: Option<f64>,
) -> Result<OptimizerConfig, String> {
    let s = settings(section, max_grad_norm);
    s.validate().map_err(|InvalidSetting { key, message }| {
        let table = if key == "max_grad_norm" {
            "trainer"
        } else {
            "optimizer"
        };
        format!("{table}.{key} {message}")
    })?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<OptimizerSection, String> {
        serde_path_to_error::deserialize(toml::Value::Table(toml::from_str(text).unwrap()))
            .map_err(|e| format!("{}: {}", e.path(), e.inner()))
    }

    #[test]
    fn without_the_table_it_is_medkits_optimizer() {
        assert_eq!(settings(None, None), OptimizerConfig::default());
        assert!(settings(None, None).no_decay.is_empty());
        let medkit = OptimizerSection::medkit();
        assert_eq!(settings(Some(&medkit), None), OptimizerConfig::default());
        assert_eq!(settings(None, Some(1.0)).max_grad_norm, Some(1.0));
    }

    #[test]
    fn the_table_defaults_to_transformers_groups() {
        let s = settings(Some(&parse("").unwrap()), None);
        assert_eq!(s.no_decay, ["bias", "LayerNorm.weight"]);
        assert_eq!((s.weight_decay, s.betas, s.eps), (0.01, [0.9, 0.999], 1e-8));
        // `no_decay = []` gives medkit's optimizer back
        let s = settings(Some(&parse("no_decay = []").unwrap()), None);
        assert_eq!(s, OptimizerConfig::default());
        let s = parse("weight_decay = 0.1\nbetas = [0.8, 0.95]\neps = 1e-6\nno_decay = ['x']");
        let s = settings(Some(&s.unwrap()), Some(2.0));
        assert_eq!(
            (s.weight_decay, s.betas, s.eps, s.no_decay, s.max_grad_norm),
            (0.1, [0.8, 0.95], 1e-6, vec!["x".to_string()], Some(2.0))
        );
    }

    #[test]
    fn bad_keys_and_values_are_errors_naming_the_key() {
        let e = parse("weight_decy = 0.1").unwrap_err();
        assert!(e.contains("unknown field `weight_decy`"), "{e}");
        let e = parse("max_grad_norm = 1.0").unwrap_err();
        assert!(e.contains("unknown field `max_grad_norm`"), "{e}");
        let e = parse("betas = [0.9]").unwrap_err();
        assert!(e.starts_with("betas"), "{e}");
        for (text, expected) in [
            (
                "betas = [0.9, 1.0]",
                "optimizer.betas must each be in [0, 1)",
            ),
            (
                "betas = [-0.1, 0.9]",
                "optimizer.betas must each be in [0, 1)",
            ),
            ("eps = 0.0", "optimizer.eps must be > 0"),
            ("weight_decay = -1.0", "optimizer.weight_decay must be >= 0"),
        ] {
            let section = parse(text).unwrap();
            let e = checked_settings(Some(&section), None).unwrap_err();
            assert!(e.starts_with(expected), "{text}: {e}");
        }
        let e = checked_settings(None, Some(0.0)).unwrap_err();
        assert!(e.starts_with("trainer.max_grad_norm must be > 0"), "{e}");
        let e = checked_settings(None, Some(f64::NAN)).unwrap_err();
        assert!(e.starts_with("trainer.max_grad_norm"), "{e}");
    }
}
