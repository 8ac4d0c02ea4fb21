//! Hub name resolution through the HF cache layout (one test: it sets process-wide env vars).
use std::path::Path;

use medkit_plugin_hf::hub::resolve_model;

fn touch(p: &Path) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, b"{}").unwrap();
}

#[test]
fn resolves_local_dirs_and_cached_snapshots_offline() {
    let tmp = tempfile::tempdir().unwrap();
    // Local directory.
    let local = tmp.path().join("local");
    touch(&local.join("config.json"));
    assert_eq!(
        resolve_model(local.to_str().unwrap(), None, None, None).unwrap(),
        local
    );
    let e = resolve_model(tmp.path().to_str().unwrap(), None, None, None)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("config.json"), "{e}");

    // HF cache layout: refs/main → snapshots/<commit>.
    let cache = tmp.path().join("hub");
    let repo = cache.join("models--Dr-BERT--DrBERT-4GB");
    let commit = "0123456789abcdef0123456789abcdef01234567";
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("refs/main"), commit).unwrap();
    let snap = repo.join("snapshots").join(commit);
    touch(&snap.join("config.json"));
    touch(&snap.join("model.safetensors"));
    std::env::set_var("HF_HUB_CACHE", &cache);
    std::env::set_var("HF_HUB_OFFLINE", "1");
    assert_eq!(
        resolve_model("Dr-BERT/DrBERT-4GB", None, Some("hf_secret"), None).unwrap(),
        snap
    );
    assert_eq!(
        resolve_model("Dr-BERT/DrBERT-4GB", Some(commit), None, None).unwrap(),
        snap
    );
    let e = resolve_model("Dr-BERT/DrBERT-4GB", Some("v2"), None, None)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("HF_HUB_OFFLINE") && e.contains("v2"), "{e}");
    let e = resolve_model("someone/absent", None, Some("hf_secret"), None)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("someone/absent") && !e.contains("hf_secret"),
        "{e}"
    );

    // HF_HOME/hub when HF_HUB_CACHE is unset.
    std::env::remove_var("HF_HUB_CACHE");
    std::env::set_var("HF_HOME", tmp.path());
    assert_eq!(
        resolve_model("Dr-BERT/DrBERT-4GB", None, None, None).unwrap(),
        snap
    );
    std::env::remove_var("HF_HOME");

    // An explicit cache (medkit's `cache_dir`) wins over the environment.
    std::env::set_var("HF_HUB_CACHE", tmp.path().join("elsewhere"));
    assert_eq!(
        resolve_model("Dr-BERT/DrBERT-4GB", None, None, Some(&cache)).unwrap(),
        snap
    );
    let e = resolve_model("Dr-BERT/DrBERT-4GB", None, None, None)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("elsewhere"), "{e}");
    std::env::remove_var("HF_HUB_CACHE");
    std::env::remove_var("HF_HUB_OFFLINE");
}
