//! Reading checkpoint tensors: model.safetensors, sharded safetensors (index.json), and
//! pytorch_model.bin (torch >= 1.6 zip archives, read by model/torch_pickle.rs; the legacy
//! non-zip format of torch < 1.6 is not readable: convert it to safetensors with transformers).
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};
use tch::{Kind, Tensor};

pub use crate::model::ModelError;

pub const SAFETENSORS: &str = "model.safetensors";
pub const SAFETENSORS_INDEX: &str = "model.safetensors.index.json";
pub const PYTORCH_BIN: &str = "pytorch_model.bin";
pub const PYTORCH_BIN_INDEX: &str = "pytorch_model.bin.index.json";

/// All tensors of a checkpoint, on the CPU, under canonical names (legacy LayerNorm
/// `gamma`/`beta` renamed to `weight`/`bias`).
pub struct Checkpoint {
    /// The file (or index) the tensors came from, for error messages.
    pub path: PathBuf,
    pub tensors: HashMap<String, Tensor>,
}

/// Finds and reads the weights of an HF model directory.
pub fn load_dir(dir: &Path) -> Result<Checkpoint, ModelError> {
    let (path, raw) = if dir.join(SAFETENSORS).is_file() {
        let p = dir.join(SAFETENSORS);
        let t = read_safetensors(&p)?;
        (p, t)
    } else if dir.join(SAFETENSORS_INDEX).is_file() {
        let p = dir.join(SAFETENSORS_INDEX);
        let mut all = Vec::new();
        for shard in shard_files(&p)? {
            all.extend(read_safetensors(&dir.join(shard))?);
        }
        (p, all)
    } else if dir.join(PYTORCH_BIN).is_file() {
        let p = dir.join(PYTORCH_BIN);
        let t = read_pytorch_bin(&p)?;
        (p, t)
    } else if dir.join(PYTORCH_BIN_INDEX).is_file() {
        let p = dir.join(PYTORCH_BIN_INDEX);
        let mut all = Vec::new();
        for shard in shard_files(&p)? {
            all.extend(read_pytorch_bin(&dir.join(shard))?);
        }
        (p, all)
    } else {
        return Err(ModelError::MissingFile {
            path: dir.join(SAFETENSORS),
            hint: format!(
                " (also looked for {SAFETENSORS_INDEX}, {PYTORCH_BIN}, {PYTORCH_BIN_INDEX}; TF/Flax weights are not supported)"
            ),
        });
    };
    let tensors = raw
        .into_iter()
        .map(|(n, t)| (canonical_name(&n), t))
        .collect();
    Ok(Checkpoint { path, tensors })
}

/// Legacy (TF-converted) checkpoints name LayerNorm parameters gamma/beta.
pub fn canonical_name(name: &str) -> String {
    if let Some(base) = name.strip_suffix(".gamma") {
        format!("{base}.weight")
    } else if let Some(base) = name.strip_suffix(".beta") {
        format!("{base}.bias")
    } else {
        name.to_string()
    }
}

fn shard_files(index: &Path) -> Result<BTreeSet<String>, ModelError> {
    let text = std::fs::read_to_string(index).map_err(|e| ModelError::io(index, e))?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| ModelError::Json {
        path: index.into(),
        msg: e.to_string(),
    })?;
    let map = v
        .get("weight_map")
        .and_then(|m| m.as_object())
        .ok_or_else(|| ModelError::ConfigKey {
            path: index.into(),
            key: "weight_map".into(),
            msg: "missing or not an object".into(),
        })?;
    map.values()
        .map(|f| {
            f.as_str()
                .map(String::from)
                .ok_or_else(|| ModelError::ConfigKey {
                    path: index.into(),
                    key: "weight_map".into(),
                    msg: format!("bad file name {f}"),
                })
        })
        .collect()
}

fn kind_of(dtype: Dtype) -> Option<Kind> {
    Some(match dtype {
        Dtype::F32 => Kind::Float,
        Dtype::F16 => Kind::Half,
        Dtype::BF16 => Kind::BFloat16,
        Dtype::F64 => Kind::Double,
        Dtype::I64 => Kind::Int64,
        Dtype::I32 => Kind::Int,
        Dtype::I16 => Kind::Int16,
        Dtype::I8 => Kind::Int8,
        Dtype::U8 => Kind::Uint8,
        Dtype::BOOL => Kind::Bool,
        _ => return None,
    })
}

pub fn read_safetensors(path: &Path) -> Result<Vec<(String, Tensor)>, ModelError> {
    let bytes = std::fs::read(path).map_err(|e| ModelError::io(path, e))?;
    let st = SafeTensors::deserialize(&bytes).map_err(|e| ModelError::Weights {
        path: path.into(),
        msg: format!("not a valid safetensors file: {e}"),
    })?;
    let mut out = Vec::with_capacity(st.len());
    for (name, view) in st.tensors() {
        let kind = kind_of(view.dtype()).ok_or_else(|| ModelError::Weights {
            path: path.into(),
            msg: format!("tensor `{name}` has unsupported dtype {:?}", view.dtype()),
        })?;
        let size: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
        let t = Tensor::f_from_data_size(view.data(), &size, kind).map_err(|e| {
            ModelError::Weights {
                path: path.into(),
                msg: format!("tensor `{name}`: {e}"),
            }
        })?;
        out.push((name, t));
    }
    Ok(out)
}

fn read_pytorch_bin(path: &Path) -> Result<Vec<(String, Tensor)>, ModelError> {
    if !path.is_file() {
        return Err(ModelError::MissingFile {
            path: path.into(),
            hint: String::new(),
        });
    }
    crate::model::torch_pickle::read_torch_zip(path).map_err(|msg| ModelError::Weights {
        path: path.into(),
        msg: format!(
            "cannot read this torch checkpoint: {msg}; convert it to safetensors \
             (transformers: AutoModel.from_pretrained(dir).save_pretrained(dir, safe_serialization=True))"
        ),
    })
}

/// Writes tensors as safetensors with the `{"format": "pt"}` metadata transformers requires.
pub fn write_safetensors(path: &Path, tensors: &[(String, Tensor)]) -> Result<(), ModelError> {
    struct Raw {
        dtype: Dtype,
        shape: Vec<usize>,
        data: Vec<u8>,
    }
    impl safetensors::View for &Raw {
        fn dtype(&self) -> Dtype {
            self.dtype
        }
        fn shape(&self) -> &[usize] {
            &self.shape
        }
        fn data(&self) -> std::borrow::Cow<'_, [u8]> {
            std::borrow::Cow::Borrowed(&self.data)
        }
        fn data_len(&self) -> usize {
            self.data.len()
        }
    }
    let mut raws = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        let t = t
            .f_to_device(tch::Device::Cpu)
            .and_then(|t| t.f_contiguous())
            .map_err(|e| ModelError::torch(format!("saving `{name}`"), e))?;
        let dtype = match t.kind() {
            Kind::Float => Dtype::F32,
            Kind::Half => Dtype::F16,
            Kind::BFloat16 => Dtype::BF16,
            Kind::Double => Dtype::F64,
            Kind::Int64 => Dtype::I64,
            k => {
                return Err(ModelError::Weights {
                    path: path.into(),
                    msg: format!("cannot save `{name}` of kind {k:?}"),
                })
            }
        };
        let numel = t.numel();
        let mut data = vec![0u8; numel * t.kind().elt_size_in_bytes()];
        t.f_copy_data_u8(&mut data, numel)
            .map_err(|e| ModelError::torch(format!("saving `{name}`"), e))?;
        raws.push((
            name.clone(),
            Raw {
                dtype,
                shape: t.size().iter().map(|&d| d as usize).collect(),
                data,
            },
        ));
    }
    let meta = Some(HashMap::from([("format".to_string(), "pt".to_string())]));
    let views = raws.iter().map(|(n, r)| (n.as_str(), r));
    safetensors::serialize_to_file(views, meta, path).map_err(|e| ModelError::Weights {
        path: path.into(),
        msg: format!("cannot write: {e}"),
    })
}
