//! Any bytes as a BRAT `.ann` next to a fixed `.txt`, read through `load_doc`: errors are fine,
//! panics are bugs. (`parse_ann` itself is private to `medkit_corpus::brat`.)
#![no_main]
use libfuzzer_sys::fuzz_target;
use medkit_corpus::brat::load_doc;

const TEXT: &str = "Le patient a une douleur thoracique.\nPas de fièvre ; ECG normal. 🙂 fin\n";

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("medkit-fuzz-brat-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let txt = dir.join("doc.txt");
    let ann = dir.join("doc.ann");
    std::fs::write(&txt, TEXT).unwrap();
    std::fs::write(&ann, data).unwrap();
    let _ = load_doc(&txt, Some(&ann));
});
