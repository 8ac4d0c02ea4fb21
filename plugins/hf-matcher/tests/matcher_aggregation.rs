//! The aggregation port against transformers' TokenClassificationPipeline.postprocess on
//! hand-made logits (fixture made by scripts/aggregation_fixtures.py), and the window layout.

use medkit_plugin_hf::aggregation::{
    aggregate_overlapping, aggregate_window, is_subword, softmax_rows, AggregationStrategy,
    TokenInfo,
};
use medkit_plugin_hf::inference::window_ranges;
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    unk_id: i64,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    id2label: Vec<String>,
    strategy: String,
    windows: Vec<Window>,
    expected: Vec<Expected>,
}

#[derive(Deserialize)]
struct Window {
    ids: Vec<i64>,
    tokens: Vec<String>,
    offsets: Vec<(usize, usize)>,
    special: Vec<u8>,
    logits: Vec<Vec<f32>>,
}

#[derive(Deserialize, Debug)]
struct Expected {
    label: String,
    score: f32,
    start: usize,
    end: usize,
}

#[test]
fn aggregation_matches_transformers_pipeline() {
    let text = include_str!("matcher_fixtures/aggregation.json");
    let fixture: Fixture = serde_json::from_str(text).unwrap();
    assert!(fixture.cases.len() >= 50);
    for (k, case) in fixture.cases.iter().enumerate() {
        let strategy: AggregationStrategy = case.strategy.parse().unwrap();
        let chars: Vec<char> = case.text.chars().collect();
        let mut found = Vec::new();
        for w in &case.windows {
            let tokens: Vec<TokenInfo> = (0..w.ids.len())
                .map(|i| {
                    let (start, end) = w.offsets[i];
                    let unk = w.ids[i] == fixture.unk_id;
                    TokenInfo {
                        start,
                        end,
                        special: w.special[i] == 1,
                        is_subword: is_subword(&w.tokens[i], &chars, start, end, unk, true),
                    }
                })
                .collect();
            let flat: Vec<f32> = w.logits.concat();
            let scores = softmax_rows(&flat, case.id2label.len());
            found.extend(aggregate_window(&scores, &tokens, &case.id2label, strategy));
        }
        if case.windows.len() > 1 {
            found = aggregate_overlapping(found);
        }
        let ctx = format!(
            "case {k} ({} {:?}): {found:?} vs {:?}",
            case.strategy, case.text, case.expected
        );
        assert_eq!(found.len(), case.expected.len(), "{ctx}");
        for (f, e) in found.iter().zip(&case.expected) {
            assert_eq!(
                (f.label.as_str(), f.start, f.end),
                (e.label.as_str(), e.start, e.end),
                "{ctx}"
            );
            assert!((f.score - e.score).abs() < 1e-5, "{ctx}");
        }
    }
}

#[test]
fn strategies_parse_and_reject_unknown() {
    for s in ["none", "simple", "first", "average", "max", "MAX"] {
        assert!(s.parse::<AggregationStrategy>().is_ok());
    }
    let err = "mean".parse::<AggregationStrategy>().unwrap_err();
    assert!(err.contains("unknown aggregation_strategy 'mean'"), "{err}");
}

#[test]
fn windows_overlap_by_stride_like_overflowing_tokens() {
    // 14 text tokens, max_length 8 with [CLS]/[SEP] → 6 per window, stride 2 (the fixture's).
    assert_eq!(window_ranges(14, 6, 2), vec![0..6, 4..10, 8..14]);
    assert_eq!(window_ranges(5, 6, 2), vec![0..5]);
    assert_eq!(window_ranges(0, 6, 2), vec![0..0]);
    assert_eq!(window_ranges(7, 6, 2), vec![0..6, 4..7]);
}
