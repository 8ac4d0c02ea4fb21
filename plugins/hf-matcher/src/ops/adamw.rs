//! torch.optim.AdamW (single-tensor path) over named parameters, with a state that can be saved
//! and restored exactly (tch's built-in optimizer hides its moments). medkit's
//! `configure_optimizer` is `torch.optim.AdamW(model.parameters(), lr=lr)`: torch's defaults,
//! betas (0.9, 0.999), eps 1e-8, weight decay 0.01, no amsgrad.

use serde::{Deserialize, Serialize};
use std::path::Path;
use tch::Tensor;

/// Optimizer hyper-parameters; `configure_optimizer`'s JSON may override any of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamWConfig {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }
}

/// File of the moments inside a checkpoint directory.
pub const MOMENTS_FILE: &str = "optimizer.safetensors";

struct Param {
    name: String,
    tensor: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
}

pub struct AdamW {
    pub config: AdamWConfig,
    /// Optimizer steps taken (torch keeps one per parameter; they are all equal here).
    pub step: u64,
    params: Vec<Param>,
}

impl AdamW {
    /// `params`: the trainable tensors, by name (sorted for a stable file layout).
    pub fn new(mut params: Vec<(String, Tensor)>, config: AdamWConfig) -> Self {
        params.sort_by(|a, b| a.0.cmp(&b.0));
        let params = params
            .into_iter()
            .map(|(name, tensor)| {
                let exp_avg = tch::no_grad(|| tensor.zeros_like());
                let exp_avg_sq = tch::no_grad(|| tensor.zeros_like());
                Param {
                    name,
                    tensor,
                    exp_avg,
                    exp_avg_sq,
                }
            })
            .collect();
        Self {
            config,
            step: 0,
            params,
        }
    }

    /// One update from the accumulated gradients; parameters without a gradient are skipped,
    /// as torch does.
    pub fn step(&mut self) {
        self.step += 1;
        let c = &self.config;
        let bias1 = 1.0 - c.beta1.powi(self.step as i32);
        let bias2_sqrt = (1.0 - c.beta2.powi(self.step as i32)).sqrt();
        let step_size = c.lr / bias1;
        tch::no_grad(|| {
            for p in &mut self.params {
                let grad = p.tensor.grad();
                if !grad.defined() {
                    continue;
                }
                let _ = p.tensor.g_mul_scalar_(1.0 - c.lr * c.weight_decay);
                let _ = p.exp_avg.lerp_(&grad, 1.0 - c.beta1);
                let _ = p.exp_avg_sq.g_mul_scalar_(c.beta2);
                let _ = p.exp_avg_sq.addcmul_(&(&grad * (1.0 - c.beta2)), &grad);
                let denom = (p.exp_avg_sq.sqrt() / bias2_sqrt) + c.eps;
                let _ = p.tensor.addcdiv_(&(&p.exp_avg * -step_size), &denom);
            }
        });
    }

    /// Zeroes the gradients (torch's `zero_grad`; dropping them would cost reallocations).
    pub fn zero_grad(&mut self) {
        for p in &mut self.params {
            p.tensor.zero_grad();
        }
    }

    /// Writes the moments to `dir/optimizer.safetensors`.
    pub fn save(&self, dir: &Path) -> Result<(), String> {
        let mut named: Vec<(String, &Tensor)> = Vec::with_capacity(2 * self.params.len());
        for p in &self.params {
            named.push((format!("exp_avg.{}", p.name), &p.exp_avg));
            named.push((format!("exp_avg_sq.{}", p.name), &p.exp_avg_sq));
        }
        let path = dir.join(MOMENTS_FILE);
        Tensor::write_safetensors(&named, &path)
            .map_err(|e| format!("writing {}: {e}", path.display()))
    }

    /// Reads the moments written by [`AdamW::save`]; every parameter must be there.
    pub fn load(&mut self, dir: &Path, step: u64) -> Result<(), String> {
        let path = dir.join(MOMENTS_FILE);
        let tensors: std::collections::HashMap<String, Tensor> = Tensor::read_safetensors(&path)
            .map_err(|e| format!("reading {}: {e}", path.display()))?
            .into_iter()
            .collect();
        for p in &mut self.params {
            for (key, dst) in [
                ("exp_avg", &mut p.exp_avg),
                ("exp_avg_sq", &mut p.exp_avg_sq),
            ] {
                let name = format!("{key}.{}", p.name);
                let src = tensors
                    .get(&name)
                    .ok_or_else(|| format!("{} lacks '{name}'", path.display()))?;
                if src.size() != dst.size() {
                    return Err(format!(
                        "{}: '{name}' has shape {:?}, the model expects {:?}",
                        path.display(),
                        src.size(),
                        dst.size()
                    ));
                }
                tch::no_grad(|| dst.copy_(src));
            }
        }
        self.step = step;
        Ok(())
    }
}
