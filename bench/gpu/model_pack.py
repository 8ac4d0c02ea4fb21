#!/usr/bin/env python3
"""Compact transport of a HF model folder for the GPU benchmark (the device's working tree is
limited to 64 MiB; all-MiniLM-L6-v2's fp32 safetensors is 91 MB).

  pack SRC_DIR PACK_DIR     2-D float tensors -> int8, symmetric, one fp32 scale per row
                            (row max |w| / 127); 1-D float tensors -> fp16; other dtypes as is;
                            the small files of SRC_DIR (config, tokenizer) copied
  unpack PACK_DIR OUT_DIR   dequantizes to an fp32 model.safetensors (same tensor names) + files

Both implementations then load the same dequantized fp32 weights. The int8 round trip changes
the pretrained weights by at most half a quantization step per row (reported by `pack`), so
F1 figures from such a copy are close to, not equal to, runs on the original file.
Needs numpy and safetensors.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

SMALL_FILE_LIMIT = 2_000_000


def pack(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    tensors = load_file(str(src / "model.safetensors"))
    arrays, manifest, worst = {}, {}, 0.0
    for i, (name, t) in enumerate(tensors.items()):
        key = f"t{i}"
        if t.dtype == np.float32 and t.ndim == 2:
            scale = np.abs(t).max(axis=1, keepdims=True) / 127.0
            scale[scale == 0] = 1.0
            q = np.clip(np.rint(t / scale), -127, 127).astype(np.int8)
            arrays[key + "_q"], arrays[key + "_s"] = q, scale.astype(np.float32)
            manifest[name] = {"key": key, "kind": "int8_rows", "shape": list(t.shape)}
            err = np.abs(q.astype(np.float32) * scale - t).max() / max(float(np.abs(t).max()), 1e-12)
            worst = max(worst, float(err))
        elif t.dtype == np.float32:
            arrays[key] = t.astype(np.float16)
            manifest[name] = {"key": key, "kind": "fp16", "shape": list(t.shape)}
        else:
            arrays[key] = t
            manifest[name] = {"key": key, "kind": "raw", "shape": list(t.shape)}
    np.savez_compressed(dst / "weights.npz", **arrays)
    (dst / "manifest.json").write_text(json.dumps(manifest, indent=1))
    for f in src.iterdir():
        if f.is_file() and f.name != "model.safetensors" and f.stat().st_size < SMALL_FILE_LIMIT:
            shutil.copy2(f, dst / f.name)
    size = sum(f.stat().st_size for f in dst.iterdir())
    print(f"packed {len(tensors)} tensors into {dst} ({size / 1e6:.1f} MB); worst int8 error "
          f"{worst:.2e} of a tensor's max |w|")


def unpack(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    manifest = json.loads((src / "manifest.json").read_text())
    z = np.load(src / "weights.npz")
    out = {}
    for name, m in manifest.items():
        k = m["key"]
        if m["kind"] == "int8_rows":
            out[name] = (z[k + "_q"].astype(np.float32) * z[k + "_s"]).astype(np.float32)
        elif m["kind"] == "fp16":
            out[name] = z[k].astype(np.float32)
        else:
            out[name] = z[k]
        assert list(out[name].shape) == m["shape"], name
    save_file(out, str(dst / "model.safetensors"), metadata={"format": "pt"})
    for f in src.iterdir():
        if f.name not in ("weights.npz", "manifest.json"):
            shutil.copy2(f, dst / f.name)
    print(f"unpacked {len(out)} tensors to {dst}/model.safetensors (fp32)")


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("pack", "unpack"):
        sys.exit(__doc__)
    (pack if sys.argv[1] == "pack" else unpack)(Path(sys.argv[2]), Path(sys.argv[3]))
