//! Training interrupted on the tiny random BERT (each test takes seconds): SIGTERM then
//! `--resume` ends with the weights and history of an uninterrupted run; SIGKILL at any moment
//! never leaves a partial checkpoint visible and `--resume` goes on; a full disk while writing a
//! checkpoint keeps the previous one; `--resume` with nothing to resume is an error.

use medkit_tests::*;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A safetensors file whose header parses and whose data is all there.
fn check_safetensors(p: &Path) {
    let bytes = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    assert!(bytes.len() >= 8, "{}: truncated", p.display());
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n])
        .unwrap_or_else(|e| panic!("{}: header: {e}", p.display()));
    let end = header
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k != "__metadata__")
        .map(|(_, v)| v["data_offsets"][1].as_u64().unwrap() as usize)
        .max()
        .unwrap();
    assert_eq!(bytes.len(), 8 + n + end, "{}: truncated data", p.display());
}

/// Every file a checkpoint needs is there and whole.
fn check_complete(dir: &Path) {
    let interrupted = dir.file_name().unwrap().to_string_lossy().contains("_step");
    let mut files = vec![
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "trainer_state.json",
        "trainer_config.json",
        "trainable_state.json",
        "optimizer.safetensors",
    ];
    if !interrupted {
        files.push("metrics.json");
    }
    for f in files {
        let p = dir.join(f);
        assert!(p.is_file(), "{} is missing", p.display());
        if f.ends_with(".json") {
            let t = std::fs::read_to_string(&p).unwrap();
            serde_json::from_str::<serde_json::Value>(&t)
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        } else {
            check_safetensors(&p);
        }
    }
}

/// The weights of the end-of-epoch checkpoint of `epoch`.
fn weights(out: &Path, epoch: u32) -> Vec<u8> {
    std::fs::read(epoch_checkpoint(out, epoch).join("model.safetensors")).unwrap()
}

fn spawn(args: &[&str], log: &Path) -> Child {
    let f = std::fs::File::create(log).unwrap();
    Command::new(medkit_bin())
        .args(args)
        .env_remove("MEDKIT_PLUGIN_PATH")
        .stdout(f.try_clone().unwrap())
        .stderr(f)
        .spawn()
        .expect("spawn medkit")
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} {pid}");
}

#[cfg(target_os = "linux")]
#[test]
fn sigterm_then_resume_equals_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = tmp.path().join("reference");
    let out = tmp.path().join("interrupted");
    let plain =
        |o: &Path, name: &str| TinyPipeline::checkpointing(o, 3).write(&tmp.path().join(name));
    let cfg_ref = plain(&reference, "reference.toml");
    let o = run_pipeline(&cfg_ref, &[]);
    assert!(o.status.success(), "{}", text(&o));

    // The interrupted run holds at train begin on a FIFO (the history-jsonl callback opens its
    // file there), after the signal handlers are installed: SIGTERM then arrives at a known
    // point, deterministically, and the run stops after its first step.
    let fifo_dir = tmp.path().join("fifo");
    std::fs::create_dir(&fifo_dir).unwrap();
    let fifo = fifo_dir.join("history.jsonl");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let cfg_int = TinyPipeline {
        rest: format!(
            "{PRINTER}[[train.callbacks]]\noperation = \"history-jsonl\"\noutput_dir = \"{}\"",
            fifo_dir.display()
        ),
        ..TinyPipeline::checkpointing(&out, 3)
    }
    .write(&tmp.path().join("interrupted.toml"));
    let log = tmp.path().join("interrupted.log");
    let mut child = spawn(&["run", cfg_int.to_str().unwrap()], &log);
    let wchan = format!("/proc/{}/wchan", child.id());
    loop {
        if std::fs::read_to_string(&wchan).is_ok_and(|w| w.trim() == "wait_for_partner") {
            break;
        }
        if let Some(s) = child.try_wait().unwrap() {
            panic!(
                "exited early ({s}): {}",
                std::fs::read_to_string(&log).unwrap()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    signal(child.id(), "-TERM");
    let mut reader = std::fs::File::open(&fifo).unwrap(); // lets the run go on
    let mut lines = String::new();
    reader.read_to_string(&mut lines).unwrap();
    let status = child.wait().unwrap();
    let t = std::fs::read_to_string(&log).unwrap();
    assert!(!status.success(), "{t}");
    assert!(
        t.contains("training interrupted at epoch 1, step 1") && t.contains("--resume"),
        "{t}"
    );
    let ckpts = checkpoints(&out);
    assert_eq!(ckpts.len(), 1, "{ckpts:?}");
    assert!(ckpts[0].to_string_lossy().ends_with("_step000001"));
    check_complete(&ckpts[0]);

    // Resume (a plain config with the same output_dir): same history, same weights.
    let cfg_resume = plain(&out, "resume.toml");
    let o = run_pipeline(&cfg_resume, &["--resume"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("Resuming from"), "{t}");
    assert_eq!(history(&out), history(&reference));
    assert!(
        weights(&out, 3) == weights(&reference, 3),
        "resumed weights differ from the uninterrupted run's"
    );
    assert!(
        checkpoints(&out)
            .iter()
            .all(|c| !c.to_string_lossy().contains("_step")),
        "the interrupted checkpoint is removed once later ones exist"
    );
}

#[cfg(unix)]
#[test]
fn sigkill_at_any_moment_never_leaves_a_partial_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let cfg = TinyPipeline::checkpointing(&out, 12).write(&tmp.path().join("p.toml"));
    let log = tmp.path().join("run.log");
    let mut during_write = 0;
    // Kill points: as soon as a checkpoint's temporary directory appears, as soon as one is being
    // removed (a former best), or after a pseudo-random number of directory polls.
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    for round in 0..8 {
        let resume = !checkpoints(&out).is_empty();
        let mut args = vec!["run", cfg.to_str().unwrap()];
        if resume {
            args.push("--resume");
        }
        let mut child = spawn(&args, &log);
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let polls = 200 + rng % 20_000;
        let mut n = 0u64;
        let finished = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break Some(s);
            }
            let hidden = std::fs::read_dir(&out)
                .into_iter()
                .flatten()
                .flatten()
                .any(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let target = if round % 2 == 0 { ".tmp-" } else { ".trash-" };
                    name.starts_with(target)
                });
            n += 1;
            if hidden || n >= polls {
                child.kill().unwrap();
                child.wait().unwrap();
                if hidden {
                    during_write += 1;
                }
                break None;
            }
        };
        // Whatever the moment: every visible checkpoint is complete.
        for c in checkpoints(&out) {
            check_complete(&c);
        }
        if let Some(s) = finished {
            let t = std::fs::read_to_string(&log).unwrap();
            assert!(s.success(), "round {round}: {t}");
            break;
        }
    }
    println!("{during_write} kill(s) landed while a checkpoint was being written or removed");
    // A last run resumes (or starts, if no checkpoint was ever completed) and finishes.
    let resume: &[&str] = if checkpoints(&out).is_empty() {
        &[]
    } else {
        &["--resume"]
    };
    let o = run_pipeline(&cfg, resume);
    let t = text(&o);
    assert!(
        o.status.success() || t.contains("already holds"),
        "final run: {t}"
    );
    let all = checkpoints(&out);
    assert!(!all.is_empty());
    for c in &all {
        check_complete(c);
    }
    let hidden: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp-checkpoint") || n.starts_with(".trash-checkpoint"))
        .collect();
    assert!(hidden.is_empty(), "leftovers not cleaned: {hidden:?}");
    assert_eq!(history(&out).as_array().unwrap().len(), 12);
}

/// A real full disk: a 480 KiB tmpfs (in a user + mount namespace, no privilege needed) holds
/// the first checkpoint (~330 KB) but not the second. Needs `unshare` with user + mount
/// namespaces (util-linux; root or unprivileged user namespaces): missing, the test fails.
#[cfg(target_os = "linux")]
#[test]
fn disk_full_while_checkpointing_keeps_the_previous_checkpoint() {
    let probe = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "true"])
        .stderr(Stdio::null())
        .status();
    assert!(
        probe.is_ok_and(|s| s.success()),
        "`unshare --user --map-root-user --mount true` failed: this test needs util-linux's unshare \
         and user + mount namespaces"
    );
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("small-disk");
    let keep = tmp.path().join("kept");
    std::fs::create_dir(&mnt).unwrap();
    let cfg = TinyPipeline::checkpointing(&mnt.join("run"), 3).write(&tmp.path().join("p.toml"));
    let script = format!(
        "mount -t tmpfs -o size=480k tmpfs '{mnt}' || exit 99; \
         '{bin}' run '{cfg}'; rc=$?; cp -a '{mnt}/run' '{keep}'; exit $rc",
        mnt = mnt.display(),
        bin = medkit_bin().display(),
        cfg = cfg.display(),
        keep = keep.display()
    );
    let o = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", &script])
        .env_remove("MEDKIT_PLUGIN_PATH")
        .output()
        .unwrap();
    let t = text(&o);
    assert_ne!(
        o.status.code(),
        Some(99),
        "cannot mount a tmpfs in a user + mount namespace here: {t}"
    );
    assert!(!o.status.success(), "{t}");
    assert!(
        t.contains("writing checkpoint") && t.contains("No space left on device"),
        "{t}"
    );
    assert!(!t.contains("panicked"), "{t}");
    let ckpts = checkpoints(&keep);
    assert_eq!(ckpts.len(), 1, "{ckpts:?}");
    assert!(ckpts[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("checkpoint_001_"));
    check_complete(&ckpts[0]);
    let names: Vec<String> = std::fs::read_dir(&keep)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with(".tmp-")),
        "temporary checkpoint left: {names:?}"
    );
    // With room again, --resume continues from the kept checkpoint.
    let cfg2 = TinyPipeline::checkpointing(&keep, 3).write(&tmp.path().join("p2.toml"));
    let o = run_pipeline(&cfg2, &["--resume"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(history(&keep).as_array().unwrap().len(), 3);
}

#[test]
fn resume_without_a_checkpoint_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let cfg = TinyPipeline::checkpointing(&out, 1).write(&tmp.path().join("p.toml"));
    let o = run_pipeline(&cfg, &["--resume"]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(
        t.contains(&format!(
            "--resume: no checkpoint in {} to resume from",
            out.display()
        )),
        "{t}"
    );
    assert!(checkpoints(&out).is_empty());
}
