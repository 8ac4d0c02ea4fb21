//! CUDA checks: the same logits on the GPU as on the CPU (tf32 off), bf16 autocast close to
//! fp32, training step on the GPU, the optimizer's flat CUDA path against torch (weight decay
//! groups, betas, eps, gradient clipping). Ignored by default (needs a CUDA GPU); scripts/device-check.sh
//! runs it with --ignored on a GPU machine, where a missing CUDA device is a failure.
mod adamw_util;
mod encoder_util;

use encoder_util::*;
use medkit_plugin_hf::device::parse_device;
use medkit_plugin_hf::model::TokenClassifier;
use medkit_plugin_hf::tokenizer::HfTokenizer;
use tch::{Device, Kind};

fn cuda() -> Device {
    parse_device("cuda").unwrap_or_else(|e| panic!("no usable CUDA device: {e}"))
}

#[test]
#[ignore = "needs a CUDA GPU; run by scripts/device-check.sh"]
fn cuda_matches_cpu_and_bf16_is_close() {
    let gpu = cuda();
    for name in ["tiny_bert", "tiny_roberta", "tiny_distilbert"] {
        let dir = fixtures().join(name);
        let tok = HfTokenizer::from_dir(&dir).unwrap();
        let (ids, mask) = batch(&tok, &sentences(), Some(48));
        let exp = read_tensors(&dir.join("expected.safetensors"));
        let mut model = TokenClassifier::from_dir(&dir, None, gpu).unwrap();
        let fp32 =
            tch::no_grad(|| model.forward_t(&ids.to(gpu), &mask.to(gpu), false)).to(Device::Cpu);
        let diff = max_abs_diff(&fp32, &exp["logits"]);
        eprintln!("{name} on {gpu:?}: max abs diff vs transformers (CPU) {diff:.3e}");
        assert!(diff < 1e-3, "{name}: {diff}");
        model.set_autocast_bf16(true).unwrap();
        let bf16 = tch::no_grad(|| model.forward_t(&ids.to(gpu), &mask.to(gpu), false));
        assert_eq!(bf16.kind(), Kind::Float);
        let diff = max_abs_diff(&bf16.to(Device::Cpu), &fp32);
        eprintln!("{name}: bf16 autocast vs fp32 max abs diff {diff:.3e}");
        assert!(diff < 0.5, "{name}: bf16 far from fp32: {diff}");
        let loss = model
            .forward_t(&ids.to(gpu), &mask.to(gpu), true)
            .mean(Kind::Float);
        loss.backward();
    }
    {
        // GPU against the CPU on the same weights (the CPU against transformers is
        // encoder_parity's): on the GPU machine the model travels int8-packed
        // (bench/gpu/model_pack.py), so transformers' logits of the original weights do not apply.
        let dir = minilm_dir();
        let fx = fixtures().join("minilm");
        let labels: Vec<String> =
            serde_json::from_str(&std::fs::read_to_string(fx.join("labels.json")).unwrap())
                .unwrap();
        let exp = read_tensors(&fx.join("expected.safetensors"));
        let logits = |device: Device| {
            let model = TokenClassifier::from_dir(&dir, Some(&labels), device).unwrap();
            let vars = model.vs.variables();
            tch::no_grad(|| {
                for (name, t) in read_tensors(&fx.join("head.safetensors")) {
                    vars[&name].shallow_clone().copy_(&t);
                }
            });
            let (ids, mask) = (
                exp["input_ids"].to(device),
                exp["attention_mask"].to(device),
            );
            tch::no_grad(|| model.forward_t(&ids, &mask, false)).to(Device::Cpu)
        };
        let diff = max_abs_diff(&logits(gpu), &logits(Device::Cpu));
        eprintln!("MiniLM-L6 on {gpu:?}: max abs diff vs the CPU {diff:.3e}");
        assert!(diff < 1e-3, "{diff}");
    }
}

/// The optimizer on the GPU (its flat-buffer path) against torch's AdamW with two parameter
/// groups and clip_grad_norm_ (optim_adamw_torch.rs runs the same on the CPU layouts).
#[test]
#[ignore = "needs a CUDA GPU; run by scripts/device-check.sh"]
fn cuda_adamw_matches_torch() {
    let gpu = cuda();
    let fx = adamw_util::fixture();
    for s in &fx.scenarios {
        let err = adamw_util::run(s, &s.settings, adamw_util::Layout::Flat, gpu);
        eprintln!(
            "{} on {gpu:?}: max error vs torch {}: {err:.2e}",
            s.name, fx.torch
        );
        // CUDA kernels may fuse multiply-adds: a little more rounding than on the CPU.
        assert!(err <= 1e-5, "{}: {err:e}", s.name);
    }
}
