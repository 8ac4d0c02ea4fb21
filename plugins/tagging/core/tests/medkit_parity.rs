//! Parity with medkit 0.17's hf_tokenization_utils on real sub-word tokenization
//! (fixtures/medkit_cases.json, from make_medkit_cases.py: e3c_fr sentences, all-MiniLM-L6-v2).

use medkit_tagging::{align_labels, entities_to_tags, Scheme};
use serde_json::Value;
use std::collections::HashMap;

fn strings(v: &Value) -> Vec<String> {
    serde_json::from_value(v.clone()).unwrap()
}

#[test]
fn tags_and_aligned_ids_match_medkit() {
    let fixture: Value = serde_json::from_str(include_str!("fixtures/medkit_cases.json")).unwrap();
    let cases = fixture["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 40);
    for (i, case) in cases.iter().enumerate() {
        let entities: Vec<(String, Vec<(usize, usize)>)> =
            serde_json::from_value(case["entities"].clone()).unwrap();
        let tokens: Vec<Option<(usize, usize)>> =
            serde_json::from_value(case["tokens"].clone()).unwrap();
        let word_ids: Vec<Option<u32>> = serde_json::from_value(case["word_ids"].clone()).unwrap();
        let labels = strings(&case["labels"]);
        for (name, scheme) in [("iob2", Scheme::Iob2), ("bilou", Scheme::Bilou)] {
            let exp = &case[name];
            let tag_list = scheme.tags(&labels);
            assert_eq!(tag_list, strings(&exp["tag_to_id"]), "case {i} {name}");
            let tags = entities_to_tags(scheme, &entities, &tokens);
            assert_eq!(tags, strings(&exp["tags"]), "case {i} {name}");
            let tag_to_id: HashMap<String, i64> = tag_list
                .iter()
                .enumerate()
                .map(|(id, t)| (t.clone(), id as i64))
                .collect();
            for (key, sub) in [("ids_subtokens", true), ("ids_first", false)] {
                let ids = align_labels(&tags, &word_ids, &tag_to_id, sub).unwrap();
                let expected: Vec<i64> = serde_json::from_value(exp[key].clone()).unwrap();
                assert_eq!(ids, expected, "case {i} {name} {key}");
            }
        }
    }
}
