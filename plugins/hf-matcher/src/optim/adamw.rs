//! torch.optim.AdamW (single-tensor algorithm) over named parameters, with a state that can be saved
//! and restored exactly (tch's built-in optimizer hides its moments), per-parameter weight decay
//! (two parameter groups: `no_decay` names get 0) and torch.nn.utils.clip_grad_norm_ before each
//! update. Without settings it is medkit's `configure_optimizer`:
//! `torch.optim.AdamW(model.parameters(), lr=lr)`: torch's defaults, betas (0.9, 0.999), eps 1e-8,
//! weight decay 0.01 on every parameter, no amsgrad, no clipping.

use super::adamw_cpu;
use super::clip::clip_coefficient;
use super::decay::{flat_decay, log_decay_groups, Decay};
use medkit_sdk::OptimizerConfig;
use serde::{Deserialize, Serialize};
use std::path::Path;
use tch::Tensor;

/// Optimizer hyper-parameters, as saved in a checkpoint's state. Fields added since the first
/// layout default to medkit's behaviour, so older checkpoints load unchanged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamWConfig {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// Parameter-name substrings exempt from weight decay (see [`OptimizerConfig`]).
    pub no_decay: Vec<String>,
    /// Clip the gradients' total L2 norm to this before each update.
    pub max_grad_norm: Option<f64>,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self::new(1e-3, &OptimizerConfig::default())
    }
}

impl AdamWConfig {
    /// `configure_optimizer`'s settings at learning rate `lr`.
    pub fn new(lr: f64, s: &OptimizerConfig) -> Self {
        Self {
            lr,
            beta1: s.betas[0],
            beta2: s.betas[1],
            eps: s.eps,
            weight_decay: s.weight_decay,
            no_decay: s.no_decay.clone(),
            max_grad_norm: s.max_grad_norm,
        }
    }

    /// The settings back in `configure_optimizer`'s schema (their one home for rules such as
    /// which parameters decay).
    pub fn settings(&self) -> OptimizerConfig {
        OptimizerConfig {
            weight_decay: self.weight_decay,
            no_decay: self.no_decay.clone(),
            betas: [self.beta1, self.beta2],
            eps: self.eps,
            max_grad_norm: self.max_grad_norm,
        }
    }
}

/// File of the moments inside a checkpoint directory.
pub const MOMENTS_FILE: &str = "optimizer.safetensors";

pub(super) struct Param {
    pub(super) name: String,
    pub(super) tensor: Tensor,
    pub(super) exp_avg: Tensor,
    pub(super) exp_avg_sq: Tensor,
    /// Row-sparse updates only: rows whose moments may be non-zero (empty until first needed).
    pub(super) touched: Vec<bool>,
}

pub struct AdamW {
    pub config: AdamWConfig,
    /// Optimizer steps taken (torch keeps one per parameter; they are all equal here).
    pub step: u64,
    params: Vec<Param>,
    /// Gradients accumulated by [`AdamW::backward`] since the last step, per parameter.
    grads: Vec<Option<Tensor>>,
    /// On CUDA: parameters and moments live in one flat buffer each (the `Param` tensors are
    /// views into them), so a step is ~12 kernel launches instead of ~11 per parameter.
    flat: Option<Flat>,
}

struct Flat {
    param: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    /// Per element, whether its parameter decays, for the `no_decay` list it was built from
    /// (made when the parameters' weight decays first differ).
    decays: Option<(Vec<String>, Tensor)>,
}

impl AdamW {
    /// `params`: the trainable tensors, by name (sorted for a stable file layout).
    pub fn new(params: Vec<(String, Tensor)>, config: AdamWConfig) -> Self {
        log_decay_groups(&params, &config.settings());
        let flat = params.first().is_some_and(|(_, t)| t.device().is_cuda());
        Self::with_layout(params, config, flat)
    }

    /// [`AdamW::new`] with the layout chosen (tests use it to run the CUDA layout on the CPU).
    /// `flat`: keep parameters and moments in flat buffers (see [`AdamW::flat`]); every
    /// parameter must then be a float tensor on one device.
    pub fn with_layout(mut params: Vec<(String, Tensor)>, config: AdamWConfig, flat: bool) -> Self {
        params.sort_by(|a, b| a.0.cmp(&b.0));
        let flat = flat
            && params
                .iter()
                .all(|(_, t)| t.kind() == params[0].1.kind() && t.device() == params[0].1.device());
        let mut buffers = None;
        if flat {
            let total: i64 = params.iter().map(|(_, t)| t.numel() as i64).sum();
            let opts = (params[0].1.kind(), params[0].1.device());
            let f = tch::no_grad(|| Flat {
                param: Tensor::cat(
                    &params
                        .iter()
                        .map(|(_, t)| t.detach().reshape([-1]))
                        .collect::<Vec<_>>(),
                    0,
                ),
                exp_avg: Tensor::zeros([total], opts),
                exp_avg_sq: Tensor::zeros([total], opts),
                decays: None,
            });
            buffers = Some(f);
        }
        let mut offset = 0;
        let params: Vec<Param> = params
            .into_iter()
            .map(|(name, mut tensor)| match &buffers {
                Some(f) => {
                    let n = tensor.numel() as i64;
                    let shape = tensor.size();
                    let view = |t: &Tensor| t.narrow(0, offset, n).view(shape.as_slice());
                    // The model's parameter becomes a view of the flat buffer (its data is
                    // already there): updates of the buffer are updates of the model.
                    tch::no_grad(|| tensor.set_data(&view(&f.param)));
                    let p = Param {
                        name,
                        exp_avg: view(&f.exp_avg),
                        exp_avg_sq: view(&f.exp_avg_sq),
                        tensor,
                        touched: Vec::new(),
                    };
                    offset += n;
                    p
                }
                None => Param {
                    name,
                    exp_avg: tch::no_grad(|| tensor.zeros_like()),
                    exp_avg_sq: tch::no_grad(|| tensor.zeros_like()),
                    tensor,
                    touched: Vec::new(),
                },
            })
            .collect();
        Self {
            config,
            step: 0,
            grads: (0..params.len()).map(|_| None).collect(),
            params,
            flat: buffers,
        }
    }

    /// Backward pass of `loss`, its gradients added to those accumulated since the last step.
    /// Unlike `loss.backward()`, nothing is accumulated into the parameters' `.grad`: the
    /// gradients autograd computes are kept as they are (no zero-fill, no add; torch's
    /// `zero_grad(set_to_none=True)`), and a sparse embedding gradient stays sparse.
    pub fn backward(&mut self, loss: &Tensor) -> Result<(), String> {
        let inputs: Vec<&Tensor> = self.params.iter().map(|p| &p.tensor).collect();
        let grads = Tensor::f_run_backward(&[loss], &inputs, false, false)
            .map_err(|e| format!("backward: {e}"))?;
        tch::no_grad(|| {
            for (acc, g) in self.grads.iter_mut().zip(grads) {
                if g.defined() {
                    *acc = Some(match acc.take() {
                        Some(prev) => prev + g,
                        None => g,
                    });
                }
            }
        });
        Ok(())
    }

    /// One update from the gradients accumulated by [`AdamW::backward`] (or else in `.grad`),
    /// clipped first when `max_grad_norm` is set; parameters without a gradient are skipped, as
    /// torch does.
    pub fn step(&mut self) {
        self.step += 1;
        let settings = self.config.settings();
        let c = &self.config;
        let bias1 = 1.0 - c.beta1.powi(self.step as i32);
        let bias2_sqrt = (1.0 - c.beta2.powi(self.step as i32)).sqrt();
        let h = Hyper {
            decay: 1.0 - c.lr * c.weight_decay,
            w1: 1.0 - c.beta1,
            beta2: c.beta2,
            w2: 1.0 - c.beta2,
            bias2_sqrt,
            eps: c.eps,
            neg_step_size: -c.lr / bias1,
            grad_scale: 1.0,
        };
        let mut grads: Vec<Tensor> = self
            .params
            .iter()
            .zip(&mut self.grads)
            .map(|(p, acc)| acc.take().unwrap_or_else(|| p.tensor.grad()))
            .collect();
        tch::no_grad(|| {
            let clip = c.max_grad_norm.map(|max| clip_coefficient(&mut grads, max));
            if let Some(f) = &mut self.flat {
                if grads.iter().all(Tensor::defined) {
                    let flat: Vec<Tensor> = grads.iter().map(|g| dense(g).reshape([-1])).collect();
                    let mut grad = Tensor::cat(&flat, 0);
                    if let Some(k) = &clip {
                        let _ = grad.g_mul_(k);
                    }
                    let decay = flat_decay(&mut f.decays, &f.param, &self.params, &settings, c.lr);
                    update(
                        &mut f.param,
                        &mut f.exp_avg,
                        &mut f.exp_avg_sq,
                        &grad,
                        decay,
                        &h,
                    );
                    return;
                }
            }
            // The CPU kernels take the coefficient as a number (a sync on CUDA, where the flat
            // path above is the usual one).
            let grad_scale = clip
                .as_ref()
                .map_or(1.0, |k| f64::try_from(k).unwrap_or(f64::NAN));
            for (p, grad) in self.params.iter_mut().zip(&grads) {
                if !grad.defined() {
                    continue;
                }
                let h = Hyper {
                    decay: 1.0 - c.lr * settings.weight_decay_of(&p.name),
                    grad_scale,
                    ..h
                };
                if grad.is_sparse() && adamw_cpu::fused_rows(p, grad, &h) {
                    continue;
                }
                p.touched.clear(); // a dense update may touch any row
                if grad.is_sparse() || !adamw_cpu::fused_dense(p, grad, &h) {
                    tensor_step(p, &(dense(grad) * grad_scale), &h);
                }
            }
        });
    }

    /// Drops the accumulated gradients and zeroes any `.grad` (torch's `zero_grad`).
    pub fn zero_grad(&mut self) {
        self.grads.iter_mut().for_each(|g| *g = None);
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
            p.touched.clear(); // recomputed from the moments when next needed
        }
        self.step = step;
        Ok(())
    }
}

/// Per-step scalars, as torch's `_single_tensor_adamw` computes them.
#[derive(Clone, Copy)]
pub(super) struct Hyper {
    pub(super) decay: f64,
    pub(super) w1: f64,
    pub(super) beta2: f64,
    pub(super) w2: f64,
    pub(super) bias2_sqrt: f64,
    pub(super) eps: f64,
    pub(super) neg_step_size: f64,
    /// clip_grad_norm_'s coefficient (an f32 value; 1 without clipping), applied to the
    /// gradient before anything else.
    pub(super) grad_scale: f64,
}

fn dense(grad: &Tensor) -> Tensor {
    if grad.is_sparse() {
        grad.to_dense(None, false)
    } else {
        grad.shallow_clone()
    }
}

/// torch's single-tensor AdamW update with tensor ops (any device).
fn tensor_step(p: &mut Param, grad: &Tensor, h: &Hyper) {
    let decay = Decay::Uniform(h.decay);
    update(
        &mut p.tensor,
        &mut p.exp_avg,
        &mut p.exp_avg_sq,
        grad,
        decay,
        h,
    );
}

fn update(
    param: &mut Tensor,
    m: &mut Tensor,
    v: &mut Tensor,
    grad: &Tensor,
    decay: Decay,
    h: &Hyper,
) {
    match decay {
        Decay::Uniform(d) => {
            let _ = param.g_mul_scalar_(d);
        }
        Decay::PerElement(d) => {
            let _ = param.g_mul_(&d);
        }
    }
    let _ = m.lerp_(grad, h.w1);
    let _ = v.g_mul_scalar_(h.beta2);
    let _ = v.addcmul_(&(grad * h.w2), grad);
    let denom = (v.sqrt() / h.bias2_sqrt) + h.eps;
    let _ = param.addcdiv_(&(&*m * h.neg_step_size), &denom);
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    /// The fused CPU path and the tensor path agree (to f32 rounding) over a few steps.
    #[test]
    fn fused_matches_tensor_ops() {
        let _rng = crate::torch_rng_lock();
        let make = || {
            tch::manual_seed(0);
            let w = Tensor::randn([300, 7], (Kind::Float, Device::Cpu)).set_requires_grad(true);
            AdamW::new(
                vec![("w".into(), w)],
                AdamWConfig {
                    lr: 0.01,
                    ..Default::default()
                },
            )
        };
        let (mut a, mut b) = (make(), make());
        for step in 0..3 {
            for (opt, fused) in [(&mut a, true), (&mut b, false)] {
                let p = &mut opt.params[0];
                let loss = (&p.tensor * (step + 1) as f64).sin().sum(Kind::Float);
                loss.backward();
                opt.step += 1;
                let c = opt.config.clone();
                let h = Hyper {
                    decay: 1.0 - c.lr * c.weight_decay,
                    w1: 1.0 - c.beta1,
                    beta2: c.beta2,
                    w2: 1.0 - c.beta2,
                    bias2_sqrt: (1.0 - c.beta2.powi(opt.step as i32)).sqrt(),
                    eps: c.eps,
                    neg_step_size: -c.lr / (1.0 - c.beta1.powi(opt.step as i32)),
                    grad_scale: 1.0,
                };
                let p = &mut opt.params[0];
                let grad = p.tensor.grad();
                tch::no_grad(|| {
                    if fused {
                        assert!(adamw_cpu::fused_dense(p, &grad, &h));
                    } else {
                        tensor_step(p, &grad, &h);
                    }
                });
                opt.zero_grad();
            }
        }
        let diff = (&a.params[0].tensor - &b.params[0].tensor).abs().max();
        assert!(f64::try_from(diff).unwrap() < 1e-6);
        let diff = (&a.params[0].exp_avg_sq - &b.params[0].exp_avg_sq)
            .abs()
            .max();
        assert!(f64::try_from(diff).unwrap() < 1e-7);
    }

    /// The flat layout (used on CUDA) updates the model's own tensors, equal to the
    /// per-parameter path, and saves/loads the same moments.
    #[test]
    fn flat_layout_matches_per_parameter() {
        let _rng = crate::torch_rng_lock();
        let make = |flat: bool| {
            tch::manual_seed(1);
            let ps: Vec<(String, Tensor)> = [("b", vec![5i64]), ("a", vec![4, 3]), ("c", vec![2])]
                .into_iter()
                .map(|(n, s)| {
                    let t = Tensor::randn(s.as_slice(), (Kind::Float, Device::Cpu));
                    (n.to_string(), t.set_requires_grad(true))
                })
                .collect();
            let handles: Vec<Tensor> = ps.iter().map(|(_, t)| t.shallow_clone()).collect();
            let cfg = AdamWConfig {
                lr: 0.05,
                ..Default::default()
            };
            (AdamW::with_layout(ps, cfg, flat), handles)
        };
        let ((mut a, ha), (mut b, hb)) = (make(true), make(false));
        assert!(a.flat.is_some() && b.flat.is_none());
        for step in 0..4 {
            for (opt, handles) in [(&mut a, &ha), (&mut b, &hb)] {
                let loss = handles
                    .iter()
                    .map(|t| (t * (step + 2) as f64).cos().sum(Kind::Float))
                    .fold(Tensor::zeros([], (Kind::Float, Device::Cpu)), |x, y| x + y);
                loss.backward();
                opt.step();
                opt.zero_grad();
            }
        }
        for (x, y) in ha.iter().zip(&hb) {
            let d = f64::try_from((x - y).abs().max()).unwrap();
            assert!(d < 1e-6, "flat and per-parameter updates differ by {d}");
            assert!(f64::try_from(x.abs().sum(Kind::Float)).unwrap() > 0.0);
        }
        let dir = std::env::temp_dir().join(format!("adamw-flat-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        a.save(&dir).unwrap();
        let (mut c, _) = make(true);
        c.load(&dir, a.step).unwrap();
        for (p, q) in c.params.iter().zip(&b.params) {
            let d = f64::try_from((&p.exp_avg_sq - &q.exp_avg_sq).abs().max()).unwrap();
            assert!(d < 1e-7, "{}: moments differ by {d}", p.name);
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    /// Row-sparse embedding gradients (through `backward`) give the dense update: touched rows,
    /// rows touched before and idle now (moments decaying), never-touched rows (decay only),
    /// and after a save/load (the touched rows are found again from the moments).
    #[test]
    fn sparse_rows_match_dense_update() {
        let _rng = crate::torch_rng_lock();
        let make = || {
            tch::manual_seed(2);
            let w = Tensor::randn([50, 4], (Kind::Float, Device::Cpu)).set_requires_grad(true);
            let cfg = AdamWConfig {
                lr: 0.05,
                ..Default::default()
            };
            (
                AdamW::with_layout(vec![("w".into(), w.shallow_clone())], cfg, false),
                w,
            )
        };
        let ((mut a, wa), (mut b, wb)) = (make(), make());
        let ids = [
            vec![1i64, 3, 3, 7],
            vec![3, 9],
            vec![],
            vec![7, 40, 1, 1],
            vec![2],
        ];
        let dir = std::env::temp_dir().join(format!("adamw-rows-{}", std::process::id()));
        for (step, ids) in ids.iter().enumerate() {
            if step == 3 {
                std::fs::create_dir_all(&dir).unwrap();
                a.save(&dir).unwrap();
                let (mut c, wc) = make();
                tch::no_grad(|| wc.detach().copy_(&wa));
                c.load(&dir, a.step).unwrap();
                assert!(c.params[0].touched.is_empty());
                a = c;
                std::fs::remove_dir_all(&dir).ok();
            }
            let w_now = a.params[0].tensor.shallow_clone();
            for (opt, w, sparse) in [(&mut a, &w_now, true), (&mut b, &wb, false)] {
                let idx = Tensor::from_slice(ids);
                let loss = Tensor::embedding(w, &idx, -1, false, sparse)
                    .sin()
                    .sum(Kind::Float)
                    * (step + 1) as f64;
                opt.backward(&loss).unwrap();
                opt.step();
                opt.zero_grad();
            }
            let (pa, pb) = (&a.params[0], &b.params[0]);
            for (x, y) in [
                (&pa.tensor, &pb.tensor),
                (&pa.exp_avg, &pb.exp_avg),
                (&pa.exp_avg_sq, &pb.exp_avg_sq),
            ] {
                let d = f64::try_from((x - y).abs().max()).unwrap();
                assert!(d < 1e-6, "step {step}: differs by {d}");
            }
        }
        // The sparse path ran (it keeps the touched rows): 5 was never touched, 40 was.
        let touched = &a.params[0].touched;
        assert!(!touched.is_empty() && !touched[5] && touched[40] && touched[9]);
    }
}
