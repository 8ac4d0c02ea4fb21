//! Reader for `torch.save` zip checkpoints (pytorch_model.bin): a pickle machine limited to what
//! a state dict needs (dicts, tuples, tensors rebuilt from storages). libtorch's own unpickler
//! (tch's `loadz_multi`) rejects the OrderedDict-with-`_metadata` that `model.state_dict()` is.
//! Nothing is ever executed: unknown callables just yield an opaque value.
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use tch::{Kind, Tensor};

#[derive(Debug)]
enum V {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Tuple(Vec<V>),
    List(Vec<V>),
    Dict(Vec<(V, V)>),
    Global(String),
    Storage { key: String, kind: Kind },
    Tensor(Tensor),
    Mark,
    Opaque,
}

impl V {
    /// Deep copy (memo values are copied, not shared); `budget` bounds the nodes a crafted
    /// pickle could make us copy.
    fn copy(&self, budget: &mut usize) -> Result<V, String> {
        *budget = budget
            .checked_sub(1)
            .ok_or("pickle too large or too deeply shared")?;
        Ok(match self {
            V::None => V::None,
            V::Bool(b) => V::Bool(*b),
            V::Int(i) => V::Int(*i),
            V::Float(f) => V::Float(*f),
            V::Str(s) => V::Str(s.clone()),
            V::Tuple(v) => V::Tuple(v.iter().map(|x| x.copy(budget)).collect::<Result<_, _>>()?),
            V::List(v) => V::List(v.iter().map(|x| x.copy(budget)).collect::<Result<_, _>>()?),
            V::Dict(v) => V::Dict(
                v.iter()
                    .map(|(a, b)| Ok((a.copy(budget)?, b.copy(budget)?)))
                    .collect::<Result<_, String>>()?,
            ),
            V::Global(g) => V::Global(g.clone()),
            V::Storage { key, kind } => V::Storage {
                key: key.clone(),
                kind: *kind,
            },
            V::Tensor(t) => V::Tensor(t.shallow_clone()),
            V::Mark => V::Mark,
            V::Opaque => V::Opaque,
        })
    }
    fn ints(&self) -> Result<Vec<i64>, String> {
        match self {
            V::Tuple(v) | V::List(v) => v
                .iter()
                .map(|x| match x {
                    V::Int(i) => Ok(*i),
                    o => Err(format!("expected an int, found {o:?}")),
                })
                .collect(),
            o => Err(format!("expected a tuple of ints, found {o:?}")),
        }
    }
}

fn storage_kind(name: &str) -> Option<Kind> {
    Some(match name.rsplit('.').next()? {
        "FloatStorage" => Kind::Float,
        "DoubleStorage" => Kind::Double,
        "HalfStorage" => Kind::Half,
        "BFloat16Storage" => Kind::BFloat16,
        "LongStorage" => Kind::Int64,
        "IntStorage" => Kind::Int,
        "ShortStorage" => Kind::Int16,
        "CharStorage" => Kind::Int8,
        "ByteStorage" => Kind::Uint8,
        "BoolStorage" => Kind::Bool,
        _ => return None,
    })
}

struct Machine<'a, R: Read + std::io::Seek> {
    data: &'a [u8],
    pos: usize,
    stack: Vec<V>,
    memo: HashMap<u32, V>,
    zip: &'a mut zip::ZipArchive<R>,
    prefix: String,
    storages: HashMap<String, Tensor>,
    /// Nodes left to copy out of the memo.
    budget: usize,
}

impl<R: Read + std::io::Seek> Machine<'_, R> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.data.len())
            .ok_or("truncated pickle")?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn line(&mut self) -> Result<String, String> {
        let start = self.pos;
        let nl = self.data[start..]
            .iter()
            .position(|&b| b == b'\n')
            .ok_or("unterminated GLOBAL")?;
        self.pos = start + nl + 1;
        Ok(String::from_utf8_lossy(&self.data[start..start + nl]).into_owned())
    }
    fn pop(&mut self) -> Result<V, String> {
        self.stack
            .pop()
            .ok_or_else(|| "pickle stack underflow".to_string())
    }
    fn pop_mark(&mut self) -> Result<Vec<V>, String> {
        let at = self
            .stack
            .iter()
            .rposition(|v| matches!(v, V::Mark))
            .ok_or("pickle MARK not found")?;
        let items = self.stack.split_off(at + 1);
        self.stack.pop();
        Ok(items)
    }
    fn top_dict(&mut self) -> Result<&mut Vec<(V, V)>, String> {
        match self.stack.last_mut() {
            Some(V::Dict(d)) => Ok(d),
            o => Err(format!("SETITEM(S) on {o:?}")),
        }
    }
    fn memoize(&mut self, id: u32) -> Result<(), String> {
        let v = self
            .stack
            .last()
            .ok_or("memo of empty stack")?
            .copy(&mut self.budget)?;
        self.memo.insert(id, v);
        Ok(())
    }

    fn storage(&mut self, key: &str, kind: Kind) -> Result<Tensor, String> {
        if let Some(t) = self.storages.get(key) {
            return Ok(t.shallow_clone());
        }
        let name = format!("{}data/{key}", self.prefix);
        let mut f = self
            .zip
            .by_name(&name)
            .map_err(|e| format!("{name}: {e}"))?;
        let mut bytes = Vec::with_capacity(f.size() as usize);
        f.read_to_end(&mut bytes)
            .map_err(|e| format!("{name}: {e}"))?;
        let numel = (bytes.len() / kind.elt_size_in_bytes()) as i64;
        let t =
            Tensor::f_from_data_size(&bytes, &[numel], kind).map_err(|e| format!("{name}: {e}"))?;
        self.storages.insert(key.to_string(), t.shallow_clone());
        Ok(t)
    }

    fn reduce(&mut self, callable: V, args: V) -> Result<V, String> {
        let V::Global(name) = callable else {
            return Ok(V::Opaque);
        };
        let mut args = match args {
            V::Tuple(a) => a,
            _ => return Ok(V::Opaque),
        };
        match name.as_str() {
            "collections.OrderedDict" | "builtins.dict" => Ok(V::Dict(Vec::new())),
            "torch._utils._rebuild_tensor_v2" | "torch._utils._rebuild_tensor"
                if args.len() >= 4 =>
            {
                let V::Storage { key, kind } = std::mem::replace(&mut args[0], V::None) else {
                    return Err(format!("{name}: first argument is not a storage"));
                };
                let offset = match args[1] {
                    V::Int(i) => i,
                    _ => return Err(format!("{name}: bad storage offset")),
                };
                let (size, stride) = (args[2].ints()?, args[3].ints()?);
                let base = self.storage(&key, kind)?;
                let t = base
                    .f_as_strided(&size, &stride, offset)
                    .and_then(|t| t.f_contiguous())
                    .map_err(|e| format!("tensor from storage {key}: {e}"))?;
                Ok(V::Tensor(t))
            }
            "torch._utils._rebuild_parameter" | "torch._utils._rebuild_parameter_with_state"
                if !args.is_empty() =>
            {
                Ok(std::mem::replace(&mut args[0], V::None))
            }
            _ => Ok(V::Opaque),
        }
    }

    fn run(&mut self) -> Result<V, String> {
        loop {
            let op = self.u8()?;
            match op {
                0x80 => {
                    self.u8()?;
                }
                0x95 => {
                    self.take(8)?;
                }
                b'c' => {
                    let (m, n) = (self.line()?, self.line()?);
                    self.stack.push(V::Global(format!("{m}.{n}")));
                }
                0x93 => {
                    let (n, m) = (self.pop()?, self.pop()?);
                    match (m, n) {
                        (V::Str(m), V::Str(n)) => self.stack.push(V::Global(format!("{m}.{n}"))),
                        _ => return Err("STACK_GLOBAL without strings".into()),
                    }
                }
                b'q' => {
                    let id = self.u8()? as u32;
                    self.memoize(id)?;
                }
                b'r' => {
                    let id = self.u32()?;
                    self.memoize(id)?;
                }
                0x94 => {
                    let id = self.memo.len() as u32;
                    self.memoize(id)?;
                }
                b'h' | b'j' => {
                    let id = if op == b'h' {
                        self.u8()? as u32
                    } else {
                        self.u32()?
                    };
                    let v = self
                        .memo
                        .get(&id)
                        .ok_or_else(|| format!("memo {id} missing"))?
                        .copy(&mut self.budget)?;
                    self.stack.push(v);
                }
                b'}' => self.stack.push(V::Dict(Vec::new())),
                b')' => self.stack.push(V::Tuple(Vec::new())),
                b']' => self.stack.push(V::List(Vec::new())),
                b'(' => self.stack.push(V::Mark),
                b's' => {
                    let (v, k) = (self.pop()?, self.pop()?);
                    self.top_dict()?.push((k, v));
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    let mut it = items.into_iter();
                    let mut pairs = Vec::new();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        pairs.push((k, v));
                    }
                    self.top_dict()?.extend(pairs);
                }
                b'a' => {
                    let v = self.pop()?;
                    if let Some(V::List(l)) = self.stack.last_mut() {
                        l.push(v);
                    }
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    if let Some(V::List(l)) = self.stack.last_mut() {
                        l.extend(items);
                    }
                }
                b't' => {
                    let items = self.pop_mark()?;
                    self.stack.push(V::Tuple(items));
                }
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize;
                    let at = self
                        .stack
                        .len()
                        .checked_sub(n)
                        .ok_or("pickle stack underflow")?;
                    let items = self.stack.split_off(at);
                    self.stack.push(V::Tuple(items));
                }
                b'J' => {
                    let i = i32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes"));
                    self.stack.push(V::Int(i as i64));
                }
                b'K' => {
                    let i = self.u8()?;
                    self.stack.push(V::Int(i as i64));
                }
                b'M' => {
                    let i = u16::from_le_bytes(self.take(2)?.try_into().expect("2 bytes"));
                    self.stack.push(V::Int(i as i64));
                }
                0x8a => {
                    let n = self.u8()? as usize;
                    let b = self.take(n)?;
                    if n > 8 {
                        return Err("LONG1 wider than 64 bits".into());
                    }
                    let mut buf = if b.last().is_some_and(|&x| x & 0x80 != 0) {
                        [0xffu8; 8]
                    } else {
                        [0u8; 8]
                    };
                    buf[..n].copy_from_slice(b);
                    self.stack.push(V::Int(i64::from_le_bytes(buf)));
                }
                b'X' | 0x8c | b'T' | b'U' | b'B' | b'C' => {
                    let n = if matches!(op, 0x8c | b'U' | b'C') {
                        self.u8()? as usize
                    } else {
                        self.u32()? as usize
                    };
                    let s = String::from_utf8_lossy(self.take(n)?).into_owned();
                    self.stack.push(V::Str(s));
                }
                0x88 => self.stack.push(V::Bool(true)),
                0x89 => self.stack.push(V::Bool(false)),
                b'N' => self.stack.push(V::None),
                b'G' => {
                    let f = f64::from_be_bytes(self.take(8)?.try_into().expect("8 bytes"));
                    self.stack.push(V::Float(f));
                }
                b'R' => {
                    let (args, callable) = (self.pop()?, self.pop()?);
                    let v = self.reduce(callable, args)?;
                    self.stack.push(v);
                }
                0x81 => {
                    self.pop()?;
                    self.pop()?;
                    self.stack.push(V::Opaque);
                }
                // BUILD: object state (e.g. the state dict's `_metadata`), not needed.
                b'b' => {
                    self.pop()?;
                }
                b'Q' => {
                    let pid = self.pop()?;
                    let V::Tuple(mut t) = pid else {
                        return Err("persistent id is not a tuple".into());
                    };
                    if t.len() < 3 {
                        return Err("short persistent id".into());
                    }
                    let kind = match &t[1] {
                        V::Global(g) => storage_kind(g)
                            .ok_or_else(|| format!("unsupported storage type {g}"))?,
                        o => return Err(format!("bad storage type {o:?}")),
                    };
                    let V::Str(key) = std::mem::replace(&mut t[2], V::None) else {
                        return Err("storage key is not a string".into());
                    };
                    self.stack.push(V::Storage { key, kind });
                }
                b'.' => return self.pop(),
                _ => {
                    return Err(format!(
                        "unsupported pickle opcode 0x{op:02x} at byte {}",
                        self.pos - 1
                    ))
                }
            }
        }
    }
}

/// Reads the named tensors of a `torch.save` zip archive holding a (nested) dict of tensors.
pub fn read_torch_zip(path: &Path) -> Result<Vec<(String, Tensor)>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file)).map_err(|e| {
        format!("not a zip archive ({e}): the legacy torch<1.6 format is not supported")
    })?;
    let pkl = (0..zip.len())
        .filter_map(|i| zip.by_index(i).ok().map(|f| f.name().to_string()))
        .find(|n| n.ends_with("data.pkl"))
        .ok_or("no data.pkl in the archive")?;
    let prefix = pkl.trim_end_matches("data.pkl").to_string();
    let mut data = Vec::new();
    zip.by_name(&pkl)
        .map_err(|e| e.to_string())?
        .read_to_end(&mut data)
        .map_err(|e| e.to_string())?;
    let mut m = Machine {
        data: &data,
        pos: 0,
        stack: Vec::new(),
        memo: HashMap::new(),
        zip: &mut zip,
        prefix,
        storages: HashMap::new(),
        budget: 50_000_000,
    };
    let root = m.run()?;
    let mut out = Vec::new();
    collect("", root, &mut out)?;
    if out.is_empty() {
        return Err("no tensors in the pickle".into());
    }
    Ok(out)
}

/// Flattens nested dicts into dotted names (a state dict is flat: names stay as saved).
fn collect(prefix: &str, v: V, out: &mut Vec<(String, Tensor)>) -> Result<(), String> {
    match v {
        V::Dict(items) => {
            for (k, v) in items {
                let V::Str(k) = k else { continue };
                let name = if prefix.is_empty() {
                    k
                } else {
                    format!("{prefix}.{k}")
                };
                collect(&name, v, out)?;
            }
        }
        V::Tensor(t) => out.push((prefix.to_string(), t)),
        _ => {}
    }
    Ok(())
}
