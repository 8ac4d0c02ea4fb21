//! Plugin loading: listing, the template plugin built outside the workspace, bad libraries,
//! duplicates, SDK version mismatch, plugin files and directories writable by any user (refused,
//! naming them; the other plugins still load), panics in constructors and calls.

use abi_stable::std_types::RVec;
use medkit_host::plugins::PluginSet;
use medkit_sdk::{Operation, OperationKind};
use medkit_tests::*;
use std::path::PathBuf;

fn template_dir() -> tempfile::TempDir {
    plugin_dir_with(&[template_plugin()])
}

#[test]
fn lists_workspace_plugins() {
    let out = medkit(&["plugins"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    for name in [
        "medkit-plugin-tagging",
        "medkit-plugin-metrics",
        "medkit-plugin-callbacks",
        "medkit-plugin-hf",
    ] {
        assert!(t.contains(name), "missing {name} in:\n{t}");
    }
}

#[test]
fn template_plugin_loads_from_plugin_dir() {
    let dir = template_dir();
    let d = dir.path().to_str().unwrap();
    let out = medkit(&["--plugin-dir", d, "plugins"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("medkit-plugin-template 0.1.0"), "{t}");
    assert!(t.contains("token-accuracy"), "{t}");
    assert!(t.contains("epoch-file"), "{t}");
    // Same through MEDKIT_PLUGIN_PATH.
    let out = std::process::Command::new(medkit_bin())
        .arg("plugins")
        .env("MEDKIT_PLUGIN_PATH", d)
        .output()
        .unwrap();
    assert!(text(&out).contains("token-accuracy"));
}

#[test]
fn template_operations_run_through_the_abi() {
    let set = PluginSet::load(&[template_dir().path().to_path_buf()]);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let Operation::Metrics(mut m) = set
        .create(
            OperationKind::Metrics,
            "token-accuracy",
            &serde_json::json!({}),
        )
        .unwrap()
    else {
        panic!("wrong kind")
    };
    let r: RVec<RVec<i64>> = vec![RVec::from(vec![1, 2, -100, 0])].into();
    let p: RVec<RVec<i64>> = vec![RVec::from(vec![1, 0, 5, 0])].into();
    m.prepare_batch(r, p).into_result().unwrap();
    let got = m.compute().into_result().unwrap();
    assert_eq!(got[0].name.as_str(), "token_accuracy");
    assert!((got[0].value - 2.0 / 3.0).abs() < 1e-12);
    // A bad config is an error from the constructor, naming the key.
    let err = set
        .create(
            OperationKind::Callback,
            "epoch-file",
            &serde_json::json!({}),
        )
        .err()
        .unwrap();
    assert!(
        format!("{err:#}").contains("missing field `path`"),
        "{err:#}"
    );
    // the typed config reader refuses a misspelt key, naming it
    let err = set
        .create(
            OperationKind::Callback,
            "epoch-file",
            &serde_json::json!({"path": "e.txt", "pth": "e.txt"}),
        )
        .err()
        .unwrap();
    assert!(
        format!("{err:#}").contains("unknown field `pth`"),
        "{err:#}"
    );
}

#[test]
fn unknown_operation_lists_available_ones() {
    let set = PluginSet::load(&[template_dir().path().to_path_buf()]);
    let err = set
        .create(OperationKind::Metrics, "nope", &serde_json::json!({}))
        .err()
        .unwrap();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("no metrics operation named 'nope'") && msg.contains("token-accuracy"),
        "{msg}"
    );
}

#[test]
fn broken_libraries_are_reported_and_others_still_load() {
    let dir = template_dir();
    // Not a library at all.
    std::fs::write(dir.path().join("libgarbage.so"), b"not an ELF file").unwrap();
    // A real shared library that is not a plugin.
    let libz = [
        "/lib/x86_64-linux-gnu/libz.so.1",
        "/usr/lib/x86_64-linux-gnu/libz.so.1",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists());
    if let Some(z) = &libz {
        std::fs::copy(z, dir.path().join("libz.so")).unwrap();
    }
    let out = medkit(&["--plugin-dir", dir.path().to_str().unwrap(), "plugins"]);
    let t = text(&out);
    // everything listed, then a failure status for the files that did not load
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("plugin file error(s), listed above"), "{t}");
    assert!(t.contains("token-accuracy"), "{t}");
    assert!(t.contains("libgarbage.so: cannot open library"), "{t}");
    if libz.is_some() {
        assert!(t.contains("libz.so: not a medkit plugin"), "{t}");
    }
    assert!(!t.contains("panicked"), "{t}");
}

#[test]
fn duplicate_operation_names_name_both_files() {
    let lib = template_plugin();
    let a = plugin_dir_with(std::slice::from_ref(&lib));
    let b = plugin_dir_with(std::slice::from_ref(&lib));
    let out = medkit(&[
        "--plugin-dir",
        a.path().to_str().unwrap(),
        "--plugin-dir",
        b.path().to_str().unwrap(),
        "plugins",
    ]);
    let t = text(&out);
    assert!(
        t.contains("duplicate metrics operation 'token-accuracy'"),
        "{t}"
    );
    assert!(
        t.contains(a.path().to_str().unwrap()) && t.contains(b.path().to_str().unwrap()),
        "{t}"
    );
}

#[test]
fn world_writable_plugin_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = template_dir();
    let f = lib_file(dir.path(), "medkit_plugin_template");
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o666)).unwrap();
    let out = medkit(&["--plugin-dir", dir.path().to_str().unwrap(), "plugins"]);
    let t = text(&out);
    assert!(
        t.contains("refused: the file is writable by any user"),
        "{t}"
    );
}

#[test]
fn incompatible_sdk_version_names_both_versions() {
    // A copy of the SDK with a semver-incompatible version, and the template built against it.
    let work = tempfile::tempdir().unwrap();
    let sdk = sdk_copy(work.path(), "0.99.0");
    let built = template_built_against(work.path(), &sdk, &template_source());
    let dir = plugin_dir_with(&[built]);
    let out = medkit(&["--plugin-dir", dir.path().to_str().unwrap(), "plugins"]);
    let t = text(&out);
    assert!(t.contains("built against medkit-sdk 0.99.0"), "{t}");
    assert!(
        t.contains(&format!(
            "incompatible with this host's medkit-sdk {}",
            medkit_sdk::SDK_VERSION
        )),
        "{t}"
    );
}

#[test]
fn panics_in_plugins_become_errors() {
    let faulty = build_external_plugin(
        &root().join("tests/fixtures/faulty-plugin"),
        "medkit_plugin_faulty",
    );
    let dir = plugin_dir_with(&[faulty]);
    let set = PluginSet::load(&[dir.path().to_path_buf()]);
    let err = set
        .create(
            OperationKind::Ner,
            "faulty-constructor",
            &serde_json::json!({}),
        )
        .err()
        .unwrap();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("panic in plugin: deliberate panic in constructor"),
        "{msg}"
    );
    assert!(msg.contains("faulty"), "names the plugin file: {msg}");
    let Operation::Metrics(mut m) = set
        .create(
            OperationKind::Metrics,
            "faulty-metrics",
            &serde_json::json!({}),
        )
        .unwrap()
    else {
        panic!("wrong kind")
    };
    let e = m
        .prepare_batch(RVec::new(), RVec::new())
        .into_result()
        .unwrap_err();
    assert!(
        e.contains("panic in plugin: deliberate panic in prepare_batch"),
        "{e}"
    );
    // The operation is still usable after a caught panic.
    let e = m.compute().into_result().unwrap_err();
    assert_eq!(e.as_str(), "deliberate error in compute");
}

#[cfg(unix)]
#[test]
fn world_writable_plugin_directory_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = plugin_dir_with(&[template_plugin()]);
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = medkit(&["--plugin-dir", dir.path().to_str().unwrap(), "plugins"]);
    let t = text(&out);
    assert!(
        t.contains(&format!(
            "refused: its directory {} is writable by any user",
            dir.path().display()
        )),
        "{t}"
    );
    assert!(
        t.contains("hf-entity-matcher"),
        "workspace plugins still load: {t}"
    );
    assert!(!t.contains("panicked"), "{t}");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = medkit(&["--plugin-dir", dir.path().to_str().unwrap(), "plugins"]);
    assert!(text(&out).contains("token-accuracy"), "{}", text(&out));
}
