//! Any text as a pipeline file and as a --set override.
#![no_main]
use libfuzzer_sys::fuzz_target;
use medkit_host::pipeline::load::{apply_override, load};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("medkit-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("p.toml");
    if std::fs::write(&path, text).is_ok() {
        let _ = load(&path, &[]);
    }
    let mut table = toml::Table::new();
    let _ = apply_override(&mut table, text);
});
