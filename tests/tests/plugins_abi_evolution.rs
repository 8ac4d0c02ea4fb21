//! A new operation kind does not invalidate existing plugins: the template plugin, built against
//! a copy of the SDK that has one more kind (and one more variant of the operation it returns,
//! as a later SDK would), loads in this host; its known operations work and the operation of
//! the unknown kind is skipped with a warning.

use abi_stable::std_types::RVec;
use medkit_host::plugins::PluginSet;
use medkit_sdk::{Operation, OperationKind};
use medkit_tests::*;
use std::path::Path;

fn patch(path: &Path, edits: &[(&str, &str)]) {
    let mut s = std::fs::read_to_string(path).unwrap();
    for (from, to) in edits {
        assert!(s.contains(from), "{}: '{from}' not found", path.display());
        s = s.replacen(from, to, 1);
    }
    std::fs::write(path, s).unwrap();
}

/// sdk/ copied into `work/sdk`, with the kind `future` (an operation kind a later SDK adds).
fn sdk_with_a_new_kind(work: &Path) -> std::path::PathBuf {
    let sdk = sdk_copy(work, medkit_sdk::SDK_VERSION);
    patch(
        &sdk.join("src/ops.rs"),
        &[
            ("    Segmentation,\n}", "    Segmentation,\n    Future,\n}"),
            (
                "pub const ALL: [OperationKind; 6] = [",
                "pub const ALL: [OperationKind; 7] = [\n        OperationKind::Future,",
            ),
            (
                "OperationKind::Segmentation => \"segmentation\",",
                "OperationKind::Segmentation => \"segmentation\",\n            OperationKind::Future => \"future\",",
            ),
            (
                "    Segmentation(SegmentationOperationBox),\n}",
                "    Segmentation(SegmentationOperationBox),\n    Future(NerOperationBox),\n}",
            ),
            (
                "Operation::Segmentation(_) => OperationKind::Segmentation,",
                "Operation::Segmentation(_) => OperationKind::Segmentation,\n            Operation::Future(_) => OperationKind::Future,",
            ),
            (
                "    pub fn ner(op: impl NerOperation) -> Self {",
                "    pub fn future(op: impl NerOperation) -> Self {\n        Operation::Future(AbiNerOperation_TO::from_value(Guarded(op), TD_Opaque))\n    }\n    pub fn ner(op: impl NerOperation) -> Self {",
            ),
        ],
    );
    patch(
        &sdk.join("src/plugin.rs"),
        &[(
            "    (segmentation) => {",
            "    (future) => {\n        $crate::OperationKind::Future\n    };\n    (segmentation) => {",
        )],
    );
    sdk
}

#[test]
fn a_plugin_of_a_later_sdk_with_a_new_kind_loads() {
    let work = tempfile::tempdir().unwrap();
    let sdk = sdk_with_a_new_kind(work.path());
    let mut src = template_source().replace("medkit_sdk::export_plugin!();", "");
    src.push_str(
        r#"
struct Nothing;
impl medkit_sdk::NerOperation for Nothing {
    fn run(&mut self, _s: Vec<medkit_sdk::Segment>) -> OpResult<Vec<medkit_sdk::Segment>> {
        Ok(vec![])
    }
}
medkit_sdk::register_operation! {
    kind: future, name: "from-the-future", description: "an operation of a later kind",
    config_example: "", create: |_c: &str| Ok::<_, String>(Nothing),
}
medkit_sdk::export_plugin!();
"#,
    );
    let lib = template_built_against(work.path(), &sdk, &src);
    let dir = plugin_dir_with(&[lib]);

    let set = PluginSet::load(&[dir.path().to_path_buf()]);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    assert_eq!(set.plugins.len(), 1);
    // listed by the plugin, skipped by this host
    let kinds: Vec<&str> = set.plugins[0]
        .info
        .operations
        .iter()
        .map(|o| o.kind_name.as_str())
        .collect();
    assert!(kinds.contains(&"future"), "{kinds:?}");
    assert_eq!(set.names(OperationKind::Metrics), ["token-accuracy"]);
    let Operation::Metrics(mut m) = set
        .create(
            OperationKind::Metrics,
            "token-accuracy",
            &serde_json::json!({}),
        )
        .unwrap()
    else {
        panic!("not a metrics computer")
    };
    let r: RVec<RVec<i64>> = vec![RVec::from(vec![1, 2])].into();
    m.prepare_batch(r.clone(), r).into_result().unwrap();
    assert_eq!(m.compute().into_result().unwrap()[0].value, 1.0);

    // the CLI lists it too, and says why the unknown operation is left out
    let out = medkit(&["--plugin-dir", dir.path().to_str().unwrap(), "plugins"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("token-accuracy"), "{t}");
    assert!(
        t.contains("'from-the-future' is of kind 'future', unknown to this host"),
        "{t}"
    );
}
