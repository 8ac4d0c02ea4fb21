//! Any bytes as medkit JSONL lines: errors are fine, panics are bugs. Decoded documents are
//! re-encoded and decoded again.
#![no_main]
use libfuzzer_sys::fuzz_target;
use medkit_host::corpus::medkit_json::{document_from_json_line, document_to_json_line};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for line in text.lines() {
        if let Ok(doc) = document_from_json_line(line) {
            let again = document_to_json_line(&doc).expect("a decoded document encodes");
            let back = document_from_json_line(&again).expect("re-encoded line decodes");
            assert_eq!(back, doc);
        }
    }
});
