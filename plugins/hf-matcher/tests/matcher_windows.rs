//! Long documents in training and evaluation: a French document (accents, sub-tokens) longer
//! than `tokenizer_max_length` becomes overlapping windows in which every token is labelled
//! exactly once, entities cut by a window edge go on with I- in the next window and none is
//! lost; `long_documents = "truncate"` keeps medkit's cut and its counted warning; bad values
//! name their key.

use medkit_plugin_hf::collate::IGNORE_INDEX;
use medkit_plugin_hf::testing::{document, temp_dir, write_tiny_bert};
use medkit_plugin_hf::trainable::HfEntityMatcherTrainable;
use medkit_sdk::{registrations, Features, OperationKind, TextDocument, Trainable};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Mutex;

const X: i64 = IGNORE_INDEX;
/// 14 content tokens: le patient pré ##sente une fi ##èvre et un œ ##dème aux jambes .
const SENTENCE: &str = "Le patient présente une fièvre et un œdème aux jambes. ";
const REPEATS: usize = 6;
// iob2 ids of the label set ["problem"]
const B: i64 = 1;
const I: i64 = 2;

/// The long document: the sentence six times (84 content tokens), two entities in each.
fn long_document() -> TextDocument {
    let text = SENTENCE.repeat(REPEATS);
    let entities: Vec<(&str, &str)> = (0..REPEATS)
        .flat_map(|_| [("problem", "fièvre"), ("problem", "œdème aux jambes")])
        .collect();
    document("long", text.trim_end(), &entities)
}

fn trainable(dir: &Path, patch: Value) -> Result<HfEntityMatcherTrainable, String> {
    let mut config = json!({
        "model_name_or_path": dir,
        "labels": ["problem"],
        "tagging_scheme": "iob2",
        "seed": 1,
    });
    config
        .as_object_mut()
        .unwrap()
        .extend(patch.as_object().unwrap().clone());
    HfEntityMatcherTrainable::from_json(&config.to_string())
}

fn scored(f: &Features) -> Vec<i64> {
    f.labels.iter().copied().filter(|&l| l != X).collect()
}

#[test]
fn windows_label_every_token_once_and_keep_every_entity() {
    let dir = temp_dir("windows");
    write_tiny_bert(&dir, 0).unwrap();
    // The whole document's labels: no cut (a limit far above its length).
    let mut whole = trainable(&dir, json!({"tokenizer_max_length": 1000})).unwrap();
    let reference = whole.preprocess(long_document()).unwrap();
    assert_eq!(reference.len(), 1);
    let reference = &reference[0];
    assert_eq!(reference.input_ids.len(), 2 + 14 * REPEATS);

    // Windows of 10 text tokens sharing 2: 0..10, 8..18, …; scored parts split at 9, 17, 25, …
    let mut t = trainable(
        &dir,
        json!({"tokenizer_max_length": 12, "window_stride": 2}),
    )
    .unwrap();
    let windows = t.preprocess(long_document()).unwrap();
    assert_eq!(windows.len(), 11);
    for w in &windows {
        assert!(w.input_ids.len() <= 12);
        assert_eq!(w.input_ids.len(), w.labels.len());
        assert_eq!((w.input_ids[0], *w.input_ids.last().unwrap()), (2, 3));
        assert_eq!((w.labels[0], *w.labels.last().unwrap()), (X, X));
    }
    // Every labelled token once: the windows' scored labels, in order, are the document's.
    let joined: Vec<i64> = windows.iter().flat_map(scored).collect();
    assert_eq!(joined, scored(reference));
    assert_eq!(
        joined.iter().filter(|&&l| l == B).count(),
        2 * REPEATS,
        "every entity kept"
    );
    // Window 2 (text tokens 16..26) scores 17..25 and window 3 (24..34) from 25: "œdème aux
    // jambes" of sentence 2 (tokens 23..27) starts with B- in window 2 and goes on with I- in
    // window 3; window 2 sees "aux" but leaves it to window 3.
    assert_eq!(scored(&windows[2]).last(), Some(&B));
    assert_eq!((windows[2].labels[8], windows[2].labels[10]), (B, X)); // œ, aux
    assert_eq!(&scored(&windows[3])[..2], [I, I]);
    // The same windows' text tokens overlap by 2: window 1 starts where window 0 ends - 2.
    assert_eq!(windows[0].input_ids[9..11], windows[1].input_ids[1..3]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn default_stride_and_short_documents() {
    let dir = temp_dir("windows-default");
    write_tiny_bert(&dir, 0).unwrap();
    // Default: windows (long_documents), a quarter of the 18 text tokens shared (stride 4).
    let mut t = trainable(&dir, json!({"tokenizer_max_length": 20})).unwrap();
    let windows = t.preprocess(long_document()).unwrap();
    // 84 text tokens, steps of 14: 0..18, 14..32, …, 70..84
    assert_eq!(windows.len(), 6);
    assert_eq!(windows[0].input_ids[15..19], windows[1].input_ids[1..5]);
    // A document within the limit stays one example, all its tokens scored.
    let short = document("s", SENTENCE.trim_end(), &[("problem", "fièvre")]);
    let f = t.preprocess(short).unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].labels.as_slice(),
        [X, 0, 0, 0, X, 0, B, X, 0, 0, 0, X, 0, 0, 0, X]
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// Messages of warnings and infos logged in this test binary.
static LOGGED: Mutex<Vec<String>> = Mutex::new(Vec::new());
struct Capture;
impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        LOGGED.lock().unwrap().push(record.args().to_string());
    }
    fn flush(&self) {}
}

fn logged(needle: &str) -> bool {
    LOGGED.lock().unwrap().iter().any(|m| m.contains(needle))
}

#[test]
fn truncate_keeps_medkits_cut_and_warning() {
    let _ = log::set_logger(&Capture);
    log::set_max_level(log::LevelFilter::Info);
    let dir = temp_dir("windows-truncate");
    write_tiny_bert(&dir, 0).unwrap();
    let mut t = trainable(
        &dir,
        json!({"tokenizer_max_length": 13, "long_documents": "truncate"}),
    )
    .unwrap();
    let f = t.preprocess(long_document()).unwrap();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].input_ids.len(), 13);
    assert_eq!(
        f[0].labels.as_slice(),
        [X, 0, 0, 0, X, 0, B, X, 0, 0, B, X, X]
    );
    drop(t); // the warnings are summarised at the next step, or when dropped
    assert!(
        logged("11 entities cut or dropped by truncation at 13 tokens in 1 document(s)"),
        "{:?}",
        LOGGED.lock().unwrap()
    );
    // Windows say how many documents became how many windows.
    let mut t = trainable(&dir, json!({"tokenizer_max_length": 13})).unwrap();
    let n = t.preprocess(long_document()).unwrap().len();
    drop(t);
    assert!(
        logged(&format!(
            "1 document(s) longer than 13 tokens split into {n} overlapping windows"
        )),
        "{:?}",
        LOGGED.lock().unwrap()
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_values_name_their_key() {
    let dir = temp_dir("windows-config");
    write_tiny_bert(&dir, 0).unwrap();
    let reg = registrations("medkit-plugin-hf")
        .into_iter()
        .find(|r| r.kind == OperationKind::Trainable && r.name == "hf-entity-matcher")
        .expect("registered");
    let validate = reg.validate.expect("the trainable validates its config");
    let config = |patch: Value| {
        let mut c =
            json!({"model_name_or_path": dir, "labels": ["problem"], "tagging_scheme": "iob2"});
        c.as_object_mut()
            .unwrap()
            .extend(patch.as_object().unwrap().clone());
        c.to_string()
    };
    // Defaults filled in by the check.
    let filled: Value = serde_json::from_str(&validate(&config(json!({}))).unwrap()).unwrap();
    assert_eq!(filled["long_documents"], "windows");
    assert_eq!(filled["window_stride"], Value::Null);
    let filled: Value =
        serde_json::from_str(&validate(&config(json!({"long_documents": "truncate"}))).unwrap())
            .unwrap();
    assert_eq!(filled["long_documents"], "truncate");

    let bad = config(json!({"long_documents": "foo"}));
    for err in [
        validate(&bad).unwrap_err(),
        (reg.create)(&bad).err().unwrap(),
    ] {
        assert!(
            err.contains("long_documents") && err.contains("foo") && err.contains("truncate"),
            "{err}"
        );
    }
    // A stride as large as the limit: refused by the check and at creation.
    let bad = config(json!({"tokenizer_max_length": 12, "window_stride": 12}));
    for err in [
        validate(&bad).unwrap_err(),
        (reg.create)(&bad).err().unwrap(),
    ] {
        assert!(err.contains("window_stride 12"), "{err}");
    }
    // As large as the window's text (12 minus [CLS] and [SEP]): refused when the model is read.
    let bad = config(json!({"tokenizer_max_length": 12, "window_stride": 10}));
    let err = (reg.create)(&bad).err().unwrap();
    assert!(
        err.contains("window_stride 10") && err.contains("10 text tokens"),
        "{err}"
    );
    assert!((reg.create)(&config(
        json!({"tokenizer_max_length": 12, "window_stride": 9})
    ))
    .is_ok());
    // "truncate" needs no stride; a negative one is not a size.
    let bad = config(json!({"window_stride": -1}));
    assert!(validate(&bad).unwrap_err().contains("window_stride"));
    std::fs::remove_dir_all(&dir).ok();
}

/// A checkpoint remembers the length it was trained at: its tokenizer_config.json says so (as
/// medkit's checkpoints do) and the matcher windows at it unless told another length.
#[test]
fn checkpoints_are_annotated_at_their_training_length() {
    use medkit_plugin_hf::inference::HfEntityMatcher;
    let dir = temp_dir("windows-checkpoint-length");
    write_tiny_bert(&dir, 0).unwrap();
    let base = HfEntityMatcher::from_json(&json!({ "model": dir }).to_string()).unwrap();
    assert!(base.max_length() > 24, "the base model's own length");

    let mut t = trainable(&dir, json!({"tokenizer_max_length": 24})).unwrap();
    let saved = dir.join("checkpoint");
    t.save(saved.to_str().unwrap()).unwrap();
    let config: Value = serde_json::from_str(
        &std::fs::read_to_string(saved.join("tokenizer_config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(config["model_max_length"], json!(24));

    let matcher = |extra: Value| {
        let mut c = json!({ "model": saved });
        c.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        HfEntityMatcher::from_json(&c.to_string()).unwrap()
    };
    assert_eq!(matcher(json!({})).max_length(), 24);
    assert_eq!(
        matcher(json!({"tokenizer_max_length": 40})).max_length(),
        40
    );
    // Training goes on from the checkpoint at the same length, as medkit's trainable does.
    assert_eq!(trainable(&saved, json!({})).unwrap().max_length(), 24);
}
