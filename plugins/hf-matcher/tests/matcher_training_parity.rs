//! Against Python medkit's HFEntityMatcherTrainable on the tiny-ner fixture model: the label
//! maps, the preprocessed features (iob2, iob2 + tag_subtokens, bilou) and the eval loss and
//! predictions of one padded batch. Fixture made by scripts/training_fixtures.py.

use medkit_plugin_hf::testing::document;
use medkit_plugin_hf::trainable::HfEntityMatcherTrainable;
use medkit_sdk::{Features, Trainable};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct Fixture {
    documents: Vec<Doc>,
    settings: Vec<Setting>,
}

#[derive(Deserialize)]
struct Doc {
    text: String,
    entities: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct Setting {
    tagging_scheme: String,
    tag_subtokens: bool,
    id_to_label: Vec<String>,
    features: Vec<Feature>,
    eval_loss: Option<f64>,
    eval_predictions: Option<Vec<Vec<i64>>>,
}

#[derive(Deserialize)]
struct Feature {
    input_ids: Vec<i64>,
    labels: Vec<i64>,
}

#[test]
fn preprocess_and_eval_match_python_medkit() {
    let model = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/matcher_fixtures/tiny-ner"
    );
    let fixture: Fixture =
        serde_json::from_str(include_str!("matcher_fixtures/training.json")).unwrap();
    for s in &fixture.settings {
        let config = json!({
            "model_name_or_path": model,
            "labels": ["problem", "treatment"],
            "tagging_scheme": s.tagging_scheme,
            "tag_subtokens": s.tag_subtokens,
        });
        let mut t = HfEntityMatcherTrainable::from_json(&config.to_string()).unwrap();
        let ctx = format!("{} tag_subtokens={}", s.tagging_scheme, s.tag_subtokens);
        assert_eq!(t.id_to_label(), s.id_to_label, "{ctx}");
        let mut feats: Vec<Features> = Vec::new();
        for (i, (d, expected)) in fixture.documents.iter().zip(&s.features).enumerate() {
            let ents: Vec<(&str, &str)> = d
                .entities
                .iter()
                .map(|(l, x)| (l.as_str(), x.as_str()))
                .collect();
            let f = t
                .preprocess(document(&format!("d{i}"), &d.text, &ents))
                .unwrap()
                .remove(0);
            assert_eq!(f.input_ids.as_slice(), expected.input_ids, "{ctx} doc {i}");
            assert_eq!(f.labels.as_slice(), expected.labels, "{ctx} doc {i}");
            feats.push(f);
        }
        if let (Some(loss), Some(preds)) = (s.eval_loss, &s.eval_predictions) {
            let out = t.eval_step(feats).unwrap();
            assert!(
                (out.loss - loss).abs() < 1e-4,
                "{ctx}: loss {} vs {loss}",
                out.loss
            );
            let got: Vec<Vec<i64>> = out.predictions.iter().map(|p| p.to_vec()).collect();
            assert_eq!(&got, preds, "{ctx}");
        }
    }
}
