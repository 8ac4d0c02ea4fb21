//! Weight decay in two parameter groups (torch's AdamW with `no_decay` names at 0): the decay
//! factor of the flat CUDA buffer, and the log of the groups.

use super::adamw::Param;
use medkit_sdk::OptimizerConfig;
use tch::Tensor;

/// The weight decay factor of a tensor update: one for all its elements, or per element.
pub(super) enum Decay {
    Uniform(f64),
    PerElement(Tensor),
}

/// The decay factor of this step for the flat buffer `flat` holding `params` in order:
/// `1 - lr * weight_decay` where the parameter decays, 1 where `no_decay` exempts it (torch's
/// `param.mul_(1 - lr * group_weight_decay)`). `cache`: the per-element mask, with the
/// `no_decay` list it was built for.
pub(super) fn flat_decay(
    cache: &mut Option<(Vec<String>, Tensor)>,
    flat: &Tensor,
    params: &[Param],
    s: &OptimizerConfig,
    lr: f64,
) -> Decay {
    let factor = 1.0 - lr * s.weight_decay;
    let exempt = |p: &Param| s.exempt_from_decay(&p.name);
    if factor == 1.0 || !params.iter().any(exempt) {
        return Decay::Uniform(factor);
    }
    if cache.as_ref().is_none_or(|(built, _)| *built != s.no_decay) {
        let mask: Vec<bool> = params
            .iter()
            .flat_map(|p| std::iter::repeat_n(!exempt(p), p.tensor.numel()))
            .collect();
        let mask = Tensor::from_slice(&mask).to_device(flat.device());
        *cache = Some((s.no_decay.clone(), mask));
    }
    let (_, mask) = cache.as_ref().expect("built above");
    let opts = (flat.kind(), flat.device());
    Decay::PerElement(Tensor::scalar_tensor(factor, opts).where_scalarother(mask, 1.0))
}

/// Logs the two weight-decay groups, and warns of a `no_decay` entry that matches no parameter
/// (a typo would otherwise decay what it meant to exempt).
pub(super) fn log_decay_groups(params: &[(String, Tensor)], s: &OptimizerConfig) {
    if s.no_decay.is_empty() {
        return;
    }
    for entry in &s.no_decay {
        if !params.iter().any(|(name, _)| name.contains(entry.as_str())) {
            log::warn!("optimizer no_decay: '{entry}' is in no parameter's name");
        }
    }
    let exempt = params
        .iter()
        .filter(|(name, _)| s.exempt_from_decay(name))
        .count();
    log::info!(
        "AdamW: weight decay {} on {} parameter tensors, 0 on {exempt} (no_decay: {})",
        s.weight_decay,
        params.len() - exempt,
        s.no_decay.join(", ")
    );
}
