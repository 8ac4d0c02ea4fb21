//! The optimizer against torch (fixture from scripts/adamw_fixtures.py): AdamW with weight decay
//! groups (`no_decay`), non-default betas and eps, and clip_grad_norm_, on each CPU layout (the
//! flat buffer CUDA uses, the dense fused kernel, the row-sparse embedding kernel); each setting
//! changes the result, so the match would fail without it. The CUDA run is in encoder_cuda.rs.
mod adamw_util;

use adamw_util::{fixture, run, Layout};
use medkit_sdk::OptimizerConfig;
use tch::Device;

/// Largest error allowed, relative (absolute below 1): f32 rounding over six steps.
const TOLERANCE: f64 = 1e-6;

#[test]
fn matches_torch_on_every_cpu_layout() {
    let fx = fixture();
    for s in &fx.scenarios {
        for layout in [Layout::Flat, Layout::Dense, Layout::SparseRows] {
            let err = run(s, &s.settings, layout, Device::Cpu);
            eprintln!(
                "{} {layout:?}: max error vs torch {}: {err:.2e}",
                s.name, fx.torch
            );
            assert!(err <= TOLERANCE, "{} {layout:?}: {err:e}", s.name);
        }
    }
}

#[test]
fn each_setting_changes_the_result() {
    let fx = fixture();
    let s = fx
        .scenarios
        .iter()
        .find(|s| s.name == "groups_betas_eps_clipped")
        .unwrap();
    let medkit = OptimizerConfig::default();
    // The scenario's settings with one key back at medkit's default.
    let reverted = |revert: &dyn Fn(&mut OptimizerConfig)| {
        let mut c = s.settings.clone();
        revert(&mut c);
        assert_ne!(c, s.settings);
        c
    };
    let variations = [
        (
            "no_decay",
            reverted(&|c| c.no_decay = medkit.no_decay.clone()),
        ),
        (
            "weight_decay",
            reverted(&|c| c.weight_decay = medkit.weight_decay),
        ),
        ("betas", reverted(&|c| c.betas = medkit.betas)),
        ("eps", reverted(&|c| c.eps = medkit.eps)),
        (
            "max_grad_norm",
            reverted(&|c| c.max_grad_norm = medkit.max_grad_norm),
        ),
    ];
    for (key, settings) in variations {
        for layout in [Layout::Flat, Layout::SparseRows] {
            let err = run(s, &settings, layout, Device::Cpu);
            assert!(
                err > 10.0 * TOLERANCE,
                "{key} at medkit's default leaves the result unchanged ({layout:?}: {err:e})"
            );
        }
    }
}
