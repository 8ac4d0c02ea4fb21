//! The HF token (`hf_auth_token` or `HF_TOKEN`) never shows: not in logs (at trace level), error
//! messages, history, checkpoints or any file a run writes, including when a hostile hub echoes
//! it back.

use medkit_tests::*;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A hostile fake hub: records each request and answers 401 with the request (headers included)
/// echoed in the body.
fn fake_hub() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut head = Vec::new();
            let mut b = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && s.read(&mut b).is_ok_and(|n| n == 1) {
                head.push(b[0]);
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            log.lock().unwrap().push(head.clone());
            let body = format!("denied: {head}");
            let _ = write!(
                s,
                "HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
                 X-Echo: {}\r\nConnection: close\r\n\r\n{body}",
                body.len(),
                head.lines()
                    .find(|l| l.to_ascii_lowercase().starts_with("authorization"))
                    .unwrap_or("none")
            );
        }
    });
    (addr, seen)
}

fn files_containing(dir: &Path, needle: &[u8], skip: &Path) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p != skip {
                let bytes = std::fs::read(&p).unwrap_or_default();
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    hits.push(p);
                }
            }
        }
    }
    hits
}

#[test]
fn the_hf_token_never_appears_in_logs_errors_or_files() {
    const SECRET: &str = "hf_SENTINELdo-not-print-me-4242";
    let tmp = tempfile::tempdir().unwrap();
    let (endpoint, seen) = fake_hub();
    // 1. A hub model behind the (hostile) fake hub: token from the config, then from HF_TOKEN.
    for (name, extra, env_token) in [
        ("config", format!("hf_auth_token = \"{SECRET}\""), None),
        ("env", String::new(), Some(SECRET)),
    ] {
        let out = tmp.path().join(format!("hub-{name}"));
        let cfg = TinyPipeline {
            model: "acme/private-model".into(),
            trainable_keys: extra,
            ..TinyPipeline::checkpointing(&out, 3)
        }
        .write(&tmp.path().join(format!("hub-{name}.toml")));
        let mut cmd = Command::new(medkit_bin());
        cmd.args(["--log-level", "trace", "run", cfg.to_str().unwrap()])
            .env_remove("MEDKIT_PLUGIN_PATH")
            .env_remove("HF_HUB_OFFLINE")
            .env_remove("HF_TOKEN")
            .env("RUST_LOG", "trace")
            .env("HF_ENDPOINT", &endpoint)
            .env("HF_HOME", tmp.path().join("hf-home"));
        if let Some(t) = env_token {
            cmd.env("HF_TOKEN", t);
        }
        let o = cmd.output().unwrap();
        let t = text(&o);
        assert!(!o.status.success(), "{t}");
        assert!(t.contains("acme/private-model"), "{t}");
        assert!(!t.contains("panicked"), "{t}");
        assert!(
            !t.contains(SECRET),
            "{name}: the token leaked into the output:\n{t}"
        );
        assert!(
            seen.lock()
                .unwrap()
                .iter()
                .any(|h| h.contains(&format!("Bearer {SECRET}"))),
            "{name}: the token was not sent to the hub (the test would prove nothing)"
        );
        seen.lock().unwrap().clear();
        let hits: Vec<_> = files_containing(tmp.path(), SECRET.as_bytes(), &cfg)
            .into_iter()
            .filter(|p| p.extension().is_none_or(|e| e != "toml")) // the test's own configs
            .collect();
        assert!(hits.is_empty(), "{name}: token written to {hits:?}");
    }
    // 2. A local model trained with the token set everywhere: not in checkpoints, history, logs.
    let out = tmp.path().join("train");
    let extra = format!("hf_auth_token = \"{SECRET}\"");
    let cfg = TinyPipeline {
        trainable_keys: extra,
        rest: format!("{PRINTER}[[train.callbacks]]\noperation = \"history-jsonl\""),
        ..TinyPipeline::checkpointing(&out, 3)
    }
    .write(&tmp.path().join("train.toml"));
    let o = Command::new(medkit_bin())
        .args(["--log-level", "trace", "run", cfg.to_str().unwrap()])
        .env_remove("MEDKIT_PLUGIN_PATH")
        .env("RUST_LOG", "trace")
        .env("HF_TOKEN", SECRET)
        .output()
        .unwrap();
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(!t.contains(SECRET), "the token leaked into the output");
    assert!(!checkpoints(&out).is_empty());
    let hits = files_containing(tmp.path(), SECRET.as_bytes(), &cfg);
    let hits: Vec<_> = hits
        .into_iter()
        .filter(|p| p.extension().is_none_or(|e| e != "toml"))
        .collect();
    assert!(hits.is_empty(), "token written to {hits:?}");
    // 3. Config errors next to the token (a misspelt key holding it, a bad value beside it): the
    // errors do not echo it.
    let cfg = TinyPipeline {
        trainable_keys: format!("hf_auth_tokn = \"{SECRET}\""),
        ..TinyPipeline::checkpointing(&tmp.path().join("bad"), 3)
    }
    .write(&tmp.path().join("bad.toml"));
    let o = run_pipeline(&cfg, &[]);
    let t = text(&o);
    assert!(!o.status.success() && t.contains("hf_auth_tokn"), "{t}");
    assert!(!t.contains(SECRET), "{t}");
    let cfg = TinyPipeline {
        trainable_keys: format!("hf_auth_token = \"{SECRET}\"\ndevice = 7"),
        ..TinyPipeline::checkpointing(&tmp.path().join("bad2"), 3)
    }
    .write(&tmp.path().join("bad2.toml"));
    let o = run_pipeline(&cfg, &[]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(!t.contains(SECRET), "{t}");
}
