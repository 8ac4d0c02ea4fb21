//! Preprocessing (entities → aligned tag ids) on a French text with accents and sub-tokens, and
//! dynamic padding.

use medkit_plugin_hf::collate::{pack_features, pad, IGNORE_INDEX};
use medkit_plugin_hf::testing::{document, temp_dir, write_tiny_bert};
use medkit_plugin_hf::trainable::HfEntityMatcherTrainable;
use medkit_sdk::{Features, Trainable};
use serde_json::json;

const TEXT: &str = "Le patient présente une fièvre et un œdème aux jambes.";
// [CLS] le patient pré ##sente une fi ##èvre et un œ ##dème aux jambes . [SEP]
const X: i64 = IGNORE_INDEX;

fn trainable(
    dir: &std::path::Path,
    scheme: &str,
    tag_subtokens: bool,
    max: Option<usize>,
) -> HfEntityMatcherTrainable {
    let mut config = json!({
        "model_name_or_path": dir,
        "labels": ["problem"],
        "tagging_scheme": scheme,
        "tag_subtokens": tag_subtokens,
        "seed": 1,
    });
    if let Some(m) = max {
        // A limit here checks medkit's truncation (windows: tests/matcher_windows.rs).
        config["tokenizer_max_length"] = json!(m);
        config["long_documents"] = json!("truncate");
    }
    HfEntityMatcherTrainable::from_json(&config.to_string()).expect("trainable")
}

fn features(t: &mut HfEntityMatcherTrainable) -> Features {
    let doc = document(
        "d1",
        TEXT,
        &[
            ("person", "patient"),
            ("problem", "fièvre"),
            ("problem", "œdème aux jambes"),
        ],
    );
    let mut f = t.preprocess(doc).expect("preprocess");
    assert_eq!(f.len(), 1);
    f.remove(0)
}

#[test]
fn preprocess_aligns_first_subtokens_iob2_and_bilou() {
    let dir = temp_dir("preprocess");
    write_tiny_bert(&dir, 0).unwrap();

    let mut t = trainable(&dir, "iob2", false, None);
    assert_eq!(t.id_to_label(), ["O", "B-problem", "I-problem"]);
    let f = features(&mut t);
    assert_eq!(
        f.input_ids.as_slice(),
        [2, 8, 18, 20, 21, 12, 22, 23, 13, 11, 24, 25, 41, 42, 5, 3]
    );
    // "person" is not a trained label: skipped, not an error.
    assert_eq!(
        f.labels.as_slice(),
        [X, 0, 0, 0, X, 0, 1, X, 0, 0, 1, X, 2, 2, 0, X]
    );

    let mut t = trainable(&dir, "iob2", true, None);
    let f = features(&mut t);
    assert_eq!(
        f.labels.as_slice(),
        [X, 0, 0, 0, 0, 0, 1, 2, 0, 0, 1, 2, 2, 2, 0, X]
    );

    let mut t = trainable(&dir, "bilou", false, None);
    assert_eq!(
        t.id_to_label(),
        ["O", "B-problem", "I-problem", "L-problem", "U-problem"]
    );
    let f = features(&mut t);
    assert_eq!(
        f.labels.as_slice(),
        [X, 0, 0, 0, X, 0, 1, X, 0, 0, 1, X, 2, 3, 0, X]
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn preprocess_truncates_at_max_length() {
    let dir = temp_dir("truncate");
    write_tiny_bert(&dir, 0).unwrap();
    let mut t = trainable(&dir, "iob2", false, Some(8));
    let f = features(&mut t);
    assert_eq!(f.input_ids.as_slice(), [2, 8, 18, 20, 21, 12, 22, 3]);
    assert_eq!(f.labels.as_slice(), [X, 0, 0, 0, X, 0, 1, X]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn collate_pads_ids_mask_and_labels() {
    let a = Features {
        input_ids: vec![2, 8, 3].into(),
        labels: vec![X, 1, X].into(),
    };
    let b = Features {
        input_ids: vec![2, 8, 9, 10, 3].into(),
        labels: vec![X, 0, 1, 2, X].into(),
    };
    let p = pad(&[a, b], 0).unwrap();
    assert_eq!((p.batch, p.seq_len), (2, 5));
    assert_eq!(p.input_ids, [2, 8, 3, 0, 0, 2, 8, 9, 10, 3]);
    assert_eq!(p.attention_mask, [1, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
    assert_eq!(p.labels, [X, 1, X, X, X, X, 0, 1, 2, X]);
    let (refs, preds) = p.split_outputs(&[9, 4, 9, 9, 9, 9, 5, 6, 7, 9]);
    assert_eq!(refs, vec![vec![1], vec![0, 1, 2]]);
    assert_eq!(preds, vec![vec![4], vec![5, 6, 7]]);
    let t = p.to_tensors(tch::Device::Cpu);
    assert_eq!(t.input_ids.size(), [2, 5]);

    let bad = Features {
        input_ids: vec![2, 3].into(),
        labels: vec![X].into(),
    };
    assert!(pad(&[bad], 0)
        .unwrap_err()
        .contains("2 input ids but 1 labels"));
}

#[test]
fn packing_drops_padding_and_keeps_example_order() {
    let f = |ids: Vec<i64>, labels: Vec<i64>| Features {
        input_ids: ids.into(),
        labels: labels.into(),
    };
    let a = f(vec![101, 7, 8, 102], vec![-100, 1, 2, -100]);
    let b = f(vec![101, 9, 102], vec![-100, 3, -100]);
    let p = pack_features(&[&a, &b]).unwrap();
    assert_eq!((p.batch, p.seq_len, p.tokens()), (2, 4, 7));
    assert_eq!(p.input_ids, [101, 7, 8, 102, 101, 9, 102]);
    assert_eq!(p.positions, [0, 1, 2, 3, 0, 1, 2]);
    assert_eq!(p.index, [0, 1, 2, 3, 4, 5, 6]);
    assert_eq!(p.attention_mask, [1, 1, 1, 1, 1, 1, 1, 0]);
    assert_eq!(p.offsets, [0, 4, 7]);
    let (refs, preds) = p.split_outputs(&[0, 5, 6, 0, 0, 4, 0]);
    assert_eq!(refs, vec![vec![1, 2], vec![3]]);
    assert_eq!(preds, vec![vec![5, 6], vec![4]]);
    // Grid rows skip the padding of shorter rows: b is the shorter one first here.
    let p = pack_features(&[&b, &a]).unwrap();
    assert_eq!(p.index, [0, 1, 2, 4, 5, 6, 7]);
    let bad = f(vec![1, 2], vec![0]);
    let err = pack_features(&[&a, &bad]).unwrap_err();
    assert!(
        err.contains("example 1") && err.contains("2 input ids but 1 labels"),
        "{err}"
    );
}

#[test]
fn same_label_set_keeps_the_model_mapping() {
    let dir = temp_dir("labelmap");
    write_tiny_bert(&dir, 0).unwrap();
    let path = dir.join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    config["id2label"] = json!({"0": "I-problem", "1": "O", "2": "B-problem"});
    config["label2id"] = json!({"I-problem": 0, "O": 1, "B-problem": 2});
    std::fs::write(&path, config.to_string()).unwrap();
    let mut t = trainable(&dir, "iob2", false, None);
    assert_eq!(t.id_to_label(), ["I-problem", "O", "B-problem"]);
    let f = features(&mut t);
    assert_eq!(
        f.labels.as_slice(),
        [X, 1, 1, 1, X, 1, 2, X, 1, 1, 2, X, 0, 0, 1, X]
    );
    // Another label set: replaced by the scheme's (with a warning).
    let t = trainable(&dir, "bilou", false, None);
    assert_eq!(
        t.id_to_label(),
        ["O", "B-problem", "I-problem", "L-problem", "U-problem"]
    );
    std::fs::remove_dir_all(&dir).ok();
}
