//! Rough CPU timing of MiniLM-L6 forward+backward and inference, batch 16x128, 2 threads; compare
//! with scripts/encoder_bench.py on the same machine.
//!
//!     cargo bench -p medkit-plugin-hf --bench encoder_bench

// The encoder tests' helpers, for the one MiniLM lookup (`minilm_dir`).
#[path = "../tests/encoder_util.rs"]
mod encoder_util;

use std::time::Instant;

use encoder_util::minilm_dir;
use medkit_plugin_hf::model::TokenClassifier;
use tch::{Device, Kind, Tensor};

fn main() {
    // `cargo test --all-targets` runs bench targets too, without `--bench`: no timing loops there.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("encoder_bench: timings run with cargo bench");
        return;
    }
    tch::set_num_threads(2);
    let dir = minilm_dir();
    let labels: Vec<String> = (0..5).map(|i| format!("L{i}")).collect();
    tch::manual_seed(0);
    let model = TokenClassifier::from_dir(&dir, Some(&labels), Device::Cpu).unwrap();
    let (b, s) = (16, 128);
    let ids = Tensor::randint_low(1000, 20000, [b, s], (Kind::Int64, Device::Cpu));
    let mask = Tensor::ones([b, s], (Kind::Int64, Device::Cpu));
    let target = Tensor::randint(5, [b * s], (Kind::Int64, Device::Cpu));
    let step = || {
        let logits = model.forward_t(&ids, &mask, true);
        let loss = logits.view([b * s, 5]).cross_entropy_for_logits(&target);
        loss.backward();
    };
    step();
    let n = 5;
    let t = Instant::now();
    for _ in 0..n {
        step();
    }
    let train = t.elapsed().as_secs_f64() / n as f64;
    let t = Instant::now();
    for _ in 0..n {
        let _ = tch::no_grad(|| model.forward_t(&ids, &mask, false));
    }
    let infer = t.elapsed().as_secs_f64() / n as f64;
    println!(
        "rust MiniLM-L6 [{b}x{s}] 2 threads: train step {:.1} ms, inference {:.1} ms",
        train * 1e3,
        infer * 1e3
    );
}
