//! seqeval reports on arbitrary (also malformed) tag sequences, every mode and scheme.
#![no_main]
use libfuzzer_sys::fuzz_target;
use medkit_plugin_metrics::{
    accuracy_score, classification_report, Mode, StrictScheme, ZeroDivision,
};

const ALPHABET: [&str; 12] = [
    "O", "B-x", "I-x", "L-x", "U-x", "E-x", "S-x", "B-y", "I-y", "x", "B-", "-",
];

fuzz_target!(|data: &[u8]| {
    // Byte 255 splits sequences; each byte is a (true, pred) pair of tags.
    let mut y_true: Vec<Vec<&str>> = vec![vec![]];
    let mut y_pred: Vec<Vec<&str>> = vec![vec![]];
    for b in data {
        if *b == 255 {
            y_true.push(vec![]);
            y_pred.push(vec![]);
            continue;
        }
        y_true
            .last_mut()
            .unwrap()
            .push(ALPHABET[(*b % 12) as usize]);
        y_pred
            .last_mut()
            .unwrap()
            .push(ALPHABET[((*b / 12) % 12) as usize]);
    }
    let modes = [
        Mode::Default,
        Mode::Strict(None),
        Mode::Strict(Some(StrictScheme::Iob1)),
        Mode::Strict(Some(StrictScheme::Iob2)),
        Mode::Strict(Some(StrictScheme::Ioe1)),
        Mode::Strict(Some(StrictScheme::Ioe2)),
        Mode::Strict(Some(StrictScheme::Iobes)),
        Mode::Strict(Some(StrictScheme::Bilou)),
    ];
    for mode in modes {
        for zd in [ZeroDivision::Zero, ZeroDivision::One] {
            let _ = classification_report(&y_true, &y_pred, mode, zd);
        }
    }
    let _ = accuracy_score(&y_true, &y_pred);
});
