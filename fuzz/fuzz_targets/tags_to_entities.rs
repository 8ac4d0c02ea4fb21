//! Tag sequences over a small alphabet (malformed ones included) with arbitrary token offsets.
#![no_main]
use libfuzzer_sys::fuzz_target;
use medkit_tagging::{tags_to_entities, Scheme};

const ALPHABET: [&str; 10] = [
    "O", "B-x", "I-x", "L-x", "U-x", "E-x", "S-x", "B-y", "I-y", "junk",
];

fuzz_target!(|data: &[u8]| {
    let tags: Vec<String> = data
        .iter()
        .map(|b| ALPHABET[(*b % 10) as usize].to_string())
        .collect();
    let tokens: Vec<Option<(usize, usize)>> = data
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if b % 7 == 0 {
                None
            } else {
                Some((i * 3, i * 3 + (*b as usize % 5)))
            }
        })
        .collect();
    for scheme in [Scheme::Iob2, Scheme::Bilou, Scheme::Iobes, Scheme::Io] {
        let _ = tags_to_entities(scheme, &tags, &tokens);
    }
});
