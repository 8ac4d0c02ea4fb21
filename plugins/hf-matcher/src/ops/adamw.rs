//! torch.optim.AdamW (single-tensor algorithm) over named parameters, with a state that can be saved
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
    /// On CUDA: parameters and moments live in one flat buffer each (the `Param` tensors are
    /// views into them), so a step is ~12 kernel launches instead of ~11 per parameter.
    flat: Option<Flat>,
}

struct Flat {
    param: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
}

impl AdamW {
    /// `params`: the trainable tensors, by name (sorted for a stable file layout).
    pub fn new(params: Vec<(String, Tensor)>, config: AdamWConfig) -> Self {
        let flat = params.first().is_some_and(|(_, t)| t.device().is_cuda());
        Self::with_layout(params, config, flat)
    }

    /// `flat`: keep parameters and moments in flat buffers (see [`AdamW::flat`]); every
    /// parameter must then be a float tensor on one device.
    fn with_layout(mut params: Vec<(String, Tensor)>, config: AdamWConfig, flat: bool) -> Self {
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
            });
            buffers = Some(f);
        }
        let mut offset = 0;
        let params = params
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
                    };
                    offset += n;
                    p
                }
                None => Param {
                    name,
                    exp_avg: tch::no_grad(|| tensor.zeros_like()),
                    exp_avg_sq: tch::no_grad(|| tensor.zeros_like()),
                    tensor,
                },
            })
            .collect();
        Self {
            config,
            step: 0,
            params,
            flat: buffers,
        }
    }

    /// One update from the accumulated gradients; parameters without a gradient are skipped,
    /// as torch does.
    pub fn step(&mut self) {
        self.step += 1;
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
        };
        tch::no_grad(|| {
            if let Some(f) = &mut self.flat {
                let grads: Vec<Tensor> = self.params.iter().map(|p| p.tensor.grad()).collect();
                if grads.iter().all(Tensor::defined) {
                    let flat: Vec<Tensor> = grads.iter().map(|g| g.reshape([-1])).collect();
                    let grad = Tensor::cat(&flat, 0);
                    update(&mut f.param, &mut f.exp_avg, &mut f.exp_avg_sq, &grad, &h);
                    return;
                }
            }
            for p in &mut self.params {
                let grad = p.tensor.grad();
                if !grad.defined() {
                    continue;
                }
                if !fused_cpu(p, &grad, &h) {
                    tensor_step(p, &grad, &h);
                }
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

/// Per-step scalars, as torch's `_single_tensor_adamw` computes them.
struct Hyper {
    decay: f64,
    w1: f64,
    beta2: f64,
    w2: f64,
    bias2_sqrt: f64,
    eps: f64,
    neg_step_size: f64,
}

/// torch's single-tensor AdamW update with tensor ops (any device).
fn tensor_step(p: &mut Param, grad: &Tensor, h: &Hyper) {
    update(&mut p.tensor, &mut p.exp_avg, &mut p.exp_avg_sq, grad, h);
}

fn update(param: &mut Tensor, m: &mut Tensor, v: &mut Tensor, grad: &Tensor, h: &Hyper) {
    let _ = param.g_mul_scalar_(h.decay);
    let _ = m.lerp_(grad, h.w1);
    let _ = v.g_mul_scalar_(h.beta2);
    let _ = v.addcmul_(&(grad * h.w2), grad);
    let denom = (v.sqrt() / h.bias2_sqrt) + h.eps;
    let _ = param.addcdiv_(&(&*m * h.neg_step_size), &denom);
}

fn plain_f32(t: &Tensor) -> bool {
    t.device() == tch::Device::Cpu && t.kind() == tch::Kind::Float && t.is_contiguous()
}

/// The same update in one pass over memory for contiguous fp32 CPU tensors (the tensor path
/// makes ~11 passes and 5 temporaries per parameter). Large parameters are split across
/// libtorch's thread count. Returns false when the tensors do not qualify.
fn fused_cpu(p: &mut Param, grad: &Tensor, h: &Hyper) -> bool {
    let n = p.tensor.numel();
    if ![&p.tensor, grad, &p.exp_avg, &p.exp_avg_sq]
        .iter()
        .all(|t| plain_f32(t) && t.numel() == n)
    {
        return false;
    }
    // SAFETY: four distinct contiguous fp32 CPU buffers of `n` elements, owned by live tensors
    // that nothing else touches during the step (autograd is off, the host is single-threaded).
    let (param, g, m, v) = unsafe {
        (
            std::slice::from_raw_parts_mut(p.tensor.data_ptr() as *mut f32, n),
            std::slice::from_raw_parts(grad.data_ptr() as *const f32, n),
            std::slice::from_raw_parts_mut(p.exp_avg.data_ptr() as *mut f32, n),
            std::slice::from_raw_parts_mut(p.exp_avg_sq.data_ptr() as *mut f32, n),
        )
    };
    let threads = (tch::get_num_threads().max(1) as usize)
        .min(n / (1 << 16))
        .max(1);
    if threads == 1 {
        fused_chunk(param, g, m, v, h);
    } else {
        let chunk = n.div_ceil(threads);
        std::thread::scope(|s| {
            for (((pc, gc), mc), vc) in param
                .chunks_mut(chunk)
                .zip(g.chunks(chunk))
                .zip(m.chunks_mut(chunk))
                .zip(v.chunks_mut(chunk))
            {
                s.spawn(move || fused_chunk(pc, gc, mc, vc, h));
            }
        });
    }
    true
}

/// Element-wise AdamW in torch's operation order, with f32 scalars as torch's CPU kernels use.
fn fused_chunk(param: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], h: &Hyper) {
    let (decay, w1, beta2, w2) = (h.decay as f32, h.w1 as f32, h.beta2 as f32, h.w2 as f32);
    let (bias2_sqrt, eps, neg_step) = (h.bias2_sqrt as f32, h.eps as f32, h.neg_step_size as f32);
    for (((p, &g), m), v) in param.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        let decayed = *p * decay;
        *m += w1 * (g - *m);
        *v = *v * beta2 + (w2 * g) * g;
        let denom = v.sqrt() / bias2_sqrt + eps;
        *p = decayed + (neg_step * *m) / denom;
    }
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
                };
                let p = &mut opt.params[0];
                let grad = p.tensor.grad();
                tch::no_grad(|| {
                    if fused {
                        assert!(fused_cpu(p, &grad, &h));
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
}
