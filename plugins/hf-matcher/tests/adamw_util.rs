//! The AdamW parity driver shared by optim_adamw_torch.rs (CPU) and encoder_cuda.rs (GPU), both
//! including it with `mod adamw_util;`: the plugin's optimizer run through the steps of
//! tests/fixtures/adamw_torch.json (torch's AdamW with two parameter groups and
//! clip_grad_norm_, written by scripts/adamw_fixtures.py) and compared with torch's parameters.
#![allow(dead_code)]
use medkit_plugin_hf::optim::adamw::{AdamW, AdamWConfig};
use medkit_sdk::OptimizerConfig;
use serde::Deserialize;
use std::collections::BTreeMap;
use tch::{Device, Kind, Tensor};

#[derive(Deserialize)]
pub struct Fixture {
    pub torch: String,
    pub scenarios: Vec<Scenario>,
}

#[derive(Deserialize, Clone)]
pub struct Scenario {
    pub name: String,
    pub settings: OptimizerConfig,
    pub shapes: BTreeMap<String, Vec<i64>>,
    /// The embedding-like parameter: its gradient has non-zero values in `rows` only.
    pub embedding: String,
    pub init: BTreeMap<String, Vec<f32>>,
    pub steps: Vec<Step>,
}

#[derive(Deserialize, Clone)]
pub struct Step {
    pub lr: f64,
    pub rows: Vec<i64>,
    pub grads: BTreeMap<String, Vec<f32>>,
    pub total_norm: Option<f64>,
    /// torch's parameters after the step.
    pub params: BTreeMap<String, Vec<f32>>,
}

pub fn fixture() -> Fixture {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/adamw_torch.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (scripts/adamw_fixtures.py writes it)",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap()
}

/// How the optimizer holds the parameters and gets the embedding's gradient.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Layout {
    /// One flat buffer (the CUDA layout), dense gradients.
    Flat,
    /// Per parameter, dense gradients (the CPU fused kernel).
    Dense,
    /// Per parameter, the embedding's gradient row-sparse (the CPU sparse-row kernel).
    SparseRows,
}

/// Runs `s` with `settings` (the scenario's, or a variation) and returns the largest error
/// against torch's parameters over every step, as `|ours - torch| / max(|torch|, 1)`.
pub fn run(s: &Scenario, settings: &OptimizerConfig, layout: Layout, device: Device) -> f64 {
    let tensor = |values: &[f32], name: &str| {
        Tensor::from_slice(values)
            .reshape(s.shapes[name].as_slice())
            .to_device(device)
    };
    let handles: BTreeMap<String, Tensor> = s
        .init
        .iter()
        .map(|(n, v)| (n.clone(), tensor(v, n).set_requires_grad(true)))
        .collect();
    let params = handles
        .iter()
        .map(|(n, t)| (n.clone(), t.shallow_clone()))
        .collect();
    let config = AdamWConfig::new(s.steps[0].lr, settings);
    let mut opt = AdamW::with_layout(params, config, layout == Layout::Flat);
    let mut worst = 0f64;
    for (i, step) in s.steps.iter().enumerate() {
        // d/dp sum(p * g) = g exactly, and an embedding's backward copies g's rows.
        let mut loss = Tensor::zeros([], (Kind::Float, device));
        for (name, p) in &handles {
            let g = tensor(&step.grads[name], name);
            loss += if *name == s.embedding && layout == Layout::SparseRows {
                let ids = Tensor::from_slice(&step.rows).to_device(device);
                let rows = g.index_select(0, &ids);
                (Tensor::embedding(p, &ids, -1, false, true) * rows).sum(Kind::Float)
            } else {
                (p * g).sum(Kind::Float)
            };
        }
        opt.backward(&loss).unwrap();
        opt.config.lr = step.lr;
        opt.step();
        opt.zero_grad();
        for (name, p) in &handles {
            let ours = Vec::<f32>::try_from(p.to_device(Device::Cpu).reshape([-1])).unwrap();
            for (a, b) in ours.iter().zip(&step.params[name]) {
                let err = (a - b).abs() as f64 / (b.abs() as f64).max(1.0);
                assert!(err.is_finite(), "{} step {i}: {name}: {a} vs {b}", s.name);
                worst = worst.max(err);
            }
        }
    }
    worst
}
