//! End to end against Python medkit's HFEntityMatcher: the same tiny token-classification model
//! (tests/matcher_fixtures/tiny-ner) on the same segments (offsets, gaps, a ModifiedSpan) gives
//! the same entities, texts, document spans and scores for each aggregation strategy.
//! Fixture made by scripts/inference_fixtures.py.

use medkit_plugin_hf::inference::HfEntityMatcher;
use medkit_sdk::spans::normalize_spans;
use medkit_sdk::{AnySpan, ModifiedSpan, NerOperation, Segment, Span};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct Case {
    strategy: String,
    segment_text: String,
    segment_spans: Vec<Value>,
    expected: Vec<Expected>,
}

#[derive(Deserialize, Debug)]
struct Expected {
    label: String,
    text: String,
    spans: Vec<(u64, u64)>,
    score: f64,
}

fn any_span(v: &Value) -> AnySpan {
    match v {
        Value::Array(a) => AnySpan::Span(Span::new(a[0].as_u64().unwrap(), a[1].as_u64().unwrap())),
        Value::Object(o) => AnySpan::Modified(ModifiedSpan {
            length: o["length"].as_u64().unwrap(),
            replaced_spans: o["replaced"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| Span::new(s[0].as_u64().unwrap(), s[1].as_u64().unwrap()))
                .collect(),
        }),
        _ => panic!("bad span {v}"),
    }
}

#[test]
fn entities_match_python_medkit() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/matcher_fixtures/tiny-ner"
    );
    let cases: Vec<Case> =
        serde_json::from_str(include_str!("matcher_fixtures/inference.json")).unwrap();
    let mut compared = 0;
    for case in &cases {
        let config = json!({"model": dir, "aggregation_strategy": case.strategy});
        let mut op = HfEntityMatcher::from_json(&config.to_string()).unwrap();
        let segment = Segment {
            uid: "s".into(),
            label: "s".into(),
            spans: case.segment_spans.iter().map(any_span).collect(),
            text: case.segment_text.clone().into(),
            attrs: Default::default(),
            metadata: "{}".into(),
        };
        let found = op.run(vec![segment]).unwrap();
        let ctx = format!(
            "{} on {:?}: {found:#?} vs {:#?}",
            case.strategy, case.segment_text, case.expected
        );
        assert_eq!(found.len(), case.expected.len(), "{ctx}");
        for (f, e) in found.iter().zip(&case.expected) {
            let spans: Vec<(u64, u64)> = normalize_spans(&f.spans)
                .iter()
                .map(|s| (s.start, s.end))
                .collect();
            assert_eq!(
                (f.label.as_str(), f.text.as_str(), &spans),
                (e.label.as_str(), e.text.as_str(), &e.spans),
                "{ctx}"
            );
            let score: f64 = serde_json::from_str(&f.attrs[0].value).unwrap();
            assert!((score - e.score).abs() < 1e-4, "{ctx}");
            compared += 1;
        }
    }
    assert!(compared > 50);
}
