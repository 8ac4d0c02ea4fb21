//! `TokenClassifier::save`: an HF directory loadable by AutoModelForTokenClassification.
use std::path::Path;

use super::{ModelError, TokenClassifier};
use crate::config::Family;

impl TokenClassifier {
    /// Writes config.json (architectures, id2label, label2id, model_type) and model.safetensors
    /// with HF names (`bert.`/`roberta.`/`distilbert.` prefix, `classifier.*`).
    pub fn save(&self, dir: &Path) -> Result<(), ModelError> {
        std::fs::create_dir_all(dir).map_err(|e| ModelError::io(dir, e))?;
        let mut config = self.config.clone();
        config.architectures = vec![architecture(&config.model_type, config.family()).to_string()];
        let json = serde_json::to_string_pretty(&config.to_map()).expect("config serialises");
        let path = dir.join("config.json");
        std::fs::write(&path, json + "\n").map_err(|e| ModelError::io(&path, e))?;
        let mut tensors: Vec<(String, tch::Tensor)> = self.vs.variables().into_iter().collect();
        tensors.sort_by(|a, b| a.0.cmp(&b.0));
        crate::weights::write_safetensors(&dir.join(crate::weights::SAFETENSORS), &tensors)
    }
}

fn architecture(model_type: &str, family: Family) -> &'static str {
    match (model_type, family) {
        ("camembert", _) => "CamembertForTokenClassification",
        ("xlm-roberta", _) => "XLMRobertaForTokenClassification",
        (_, Family::Roberta) => "RobertaForTokenClassification",
        (_, Family::DistilBert) => "DistilBertForTokenClassification",
        (_, Family::Bert) => "BertForTokenClassification",
    }
}
