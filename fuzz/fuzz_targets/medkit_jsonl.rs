//! Any bytes as medkit JSONL lines: errors are fine, panics are bugs. Decoded documents are
//! re-encoded and decoded again (`check_round_trip`, which `tests/tests/fuzz_regressions.rs`
//! replays on `fuzz/regressions/` and the seeds).
#![no_main]
use libfuzzer_sys::fuzz_target;
use medkit_corpus::medkit_json::check_round_trip;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for line in text.lines() {
        if let Err(e) = check_round_trip(line) {
            panic!("{e}");
        }
    }
});
