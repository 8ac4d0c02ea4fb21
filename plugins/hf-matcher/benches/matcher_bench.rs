//! Training throughput (non-padding tokens/s), the Rust side of scripts/bench_training.py:
//! same corpus, batch size, warm-up and steps. One JSON line on stdout. Absolute paths: cargo runs
//! a bench in its package's folder.
//!
//!     MEDKIT_BENCH_MODEL=<model dir> MEDKIT_BENCH_CORPUS=<json written by the script> \
//!     [MEDKIT_BENCH_THREADS=2] [MEDKIT_BENCH_DEVICE=cpu] cargo bench -p medkit-plugin-hf --bench matcher_bench

use medkit_plugin_hf::trainable::HfEntityMatcherTrainable;
use medkit_sdk::{Annotation, AnySpan, Segment, Span, TextDocument, Trainable};
use serde::Deserialize;
use serde_json::json;
use std::time::Instant;

const BATCH: usize = 8;
const WARMUP: usize = 2;
const STEPS: usize = 12;

#[derive(Deserialize)]
struct Doc {
    uid: String,
    text: String,
    entities: Vec<Ent>,
}

#[derive(Deserialize)]
struct Ent {
    label: String,
    start: u64,
    end: u64,
}

fn to_document(d: Doc) -> TextDocument {
    let anns = d
        .entities
        .iter()
        .enumerate()
        .map(|(i, e)| {
            Annotation::Entity(Segment {
                uid: format!("{}-{i}", d.uid).into(),
                label: e.label.clone().into(),
                spans: vec![AnySpan::Span(Span::new(e.start, e.end))].into(),
                text: d
                    .text
                    .chars()
                    .skip(e.start as usize)
                    .take((e.end - e.start) as usize)
                    .collect::<String>()
                    .into(),
                attrs: Default::default(),
                metadata: "{}".into(),
            })
        })
        .collect();
    TextDocument {
        uid: d.uid.into(),
        text: d.text.into(),
        metadata: "{}".into(),
        anns,
        attrs: Default::default(),
    }
}

fn main() {
    // `cargo test --all-targets` runs bench targets too, without `--bench`: no timing loops there.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("matcher_bench: timings run with cargo bench");
        return;
    }
    let (Ok(model), Ok(corpus)) = (
        std::env::var("MEDKIT_BENCH_MODEL"),
        std::env::var("MEDKIT_BENCH_CORPUS"),
    ) else {
        eprintln!(
            "matcher_bench: set MEDKIT_BENCH_MODEL and MEDKIT_BENCH_CORPUS (see the file's header)"
        );
        std::process::exit(2);
    };
    let threads: i32 = std::env::var("MEDKIT_BENCH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(2);
    let device = std::env::var("MEDKIT_BENCH_DEVICE").unwrap_or_else(|_| "cpu".into());
    tch::set_num_threads(threads);
    let docs: Vec<Doc> = serde_json::from_str(&std::fs::read_to_string(corpus).unwrap()).unwrap();
    let config = json!({
        "model_name_or_path": model,
        "labels": ["problem", "treatment", "test"],
        "tagging_scheme": "iob2",
        "device": device,
        "seed": 0,
    });
    let mut t = HfEntityMatcherTrainable::from_json(&config.to_string()).unwrap();
    let feats: Vec<_> = docs
        .into_iter()
        .flat_map(|d| t.preprocess(to_document(d)).unwrap())
        .collect();
    t.configure_optimizer(5e-5, "{}").unwrap();
    let batches: Vec<_> = feats.chunks(BATCH).collect();
    let (mut tokens, mut seconds, mut rates) = (0usize, 0f64, Vec::new());
    for step in 0..WARMUP + STEPS {
        let batch = batches[step % batches.len()];
        let start = Instant::now();
        t.train_step(batch.to_vec(), 1.0).unwrap();
        t.optimizer_step().unwrap();
        if step >= WARMUP {
            let s = start.elapsed().as_secs_f64();
            let n = batch.iter().map(|f| f.input_ids.len()).sum::<usize>();
            seconds += s;
            tokens += n;
            rates.push(n as f64 / s);
        }
    }
    rates.sort_by(f64::total_cmp);
    // The median and best step rates resist the noise of a shared machine better than the mean.
    println!(
        "{}",
        json!({"impl": "medkit-rs", "device": t.device(), "threads": threads, "tokens_per_s": tokens as f64 / seconds,
            "median_step_tokens_per_s": rates[rates.len() / 2], "best_step_tokens_per_s": rates[rates.len() - 1]})
    );
}
