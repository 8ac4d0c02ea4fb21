//! Issue 7, plugin faults not covered in plugins.rs: a plugin directory writable by any user is
//! refused (the file inside could be replaced), naming the directory; the other plugins still load,
//! and the directory loads once fixed.

use medkit_tests::*;

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
