//! Bad inputs give errors naming the file / tensor / key, never panics.
mod encoder_util;

use std::path::{Path, PathBuf};

use encoder_util::fixtures;
use medkit_plugin_hf::device::parse_device;
use medkit_plugin_hf::model::{ModelError, TokenClassifier};
use medkit_plugin_hf::tokenizer::HfTokenizer;
use tch::Device;

/// A writable copy of a fixture model.
fn copy_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join(name);
    std::fs::create_dir(&dst).unwrap();
    for e in std::fs::read_dir(fixtures().join(name)).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
    }
    (tmp, dst)
}

fn load_err(dir: &Path) -> String {
    match TokenClassifier::from_dir(dir, None, Device::Cpu) {
        Ok(_) => panic!("{} loaded", dir.display()),
        Err(e) => e.to_string(),
    }
}

fn edit_config(dir: &Path, f: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>)) {
    let p = dir.join("config.json");
    let mut v: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(&p, serde_json::to_string(&v).unwrap()).unwrap();
}

#[test]
fn missing_or_corrupt_config() {
    let (_t, dir) = copy_fixture("tiny_roberta");
    std::fs::remove_file(dir.join("config.json")).unwrap();
    let e = load_err(&dir);
    assert!(e.contains("config.json") && e.contains("missing"), "{e}");
    std::fs::write(dir.join("config.json"), "{ not json").unwrap();
    let e = load_err(&dir);
    assert!(
        e.contains("config.json") && e.contains("invalid JSON"),
        "{e}"
    );
}

#[test]
fn bad_config_keys() {
    let (_t, dir) = copy_fixture("tiny_roberta");
    edit_config(&dir, |c| {
        c.insert("model_type".into(), "gpt2".into());
    });
    let e = load_err(&dir);
    assert!(
        e.contains("unsupported model_type `gpt2`") && e.contains("config.json"),
        "{e}"
    );
    edit_config(&dir, |c| {
        c.insert("model_type".into(), "roberta".into());
        c.insert("hidden_size".into(), "big".into());
    });
    let e = load_err(&dir);
    assert!(
        e.contains("`hidden_size`") && e.contains("expected an integer"),
        "{e}"
    );
    edit_config(&dir, |c| {
        c.insert("hidden_size".into(), 32.into());
        c.insert("hidden_act".into(), "mish".into());
    });
    let e = load_err(&dir);
    assert!(e.contains("`hidden_act`") && e.contains("mish"), "{e}");
    edit_config(&dir, |c| {
        c.remove("model_type");
    });
    let e = load_err(&dir);
    assert!(e.contains("`model_type`") && e.contains("missing"), "{e}");
}

#[test]
fn distilbert_key_names_in_errors() {
    let (_t, dir) = copy_fixture("tiny_distilbert");
    edit_config(&dir, |c| {
        c.insert("n_heads".into(), 5.into());
    });
    let e = load_err(&dir);
    assert!(e.contains("`n_heads`"), "{e}");
}

#[test]
fn missing_or_corrupt_weights() {
    let (_t, dir) = copy_fixture("tiny_roberta");
    std::fs::write(dir.join("model.safetensors"), b"garbage").unwrap();
    let e = load_err(&dir);
    assert!(
        e.contains("model.safetensors") && e.contains("not a valid safetensors"),
        "{e}"
    );
    std::fs::remove_file(dir.join("model.safetensors")).unwrap();
    let e = load_err(&dir);
    assert!(
        e.contains("model.safetensors is missing") && e.contains("pytorch_model.bin"),
        "{e}"
    );
    std::fs::write(dir.join("pytorch_model.bin"), b"garbage").unwrap();
    let e = load_err(&dir);
    assert!(
        e.contains("pytorch_model.bin") && e.contains("safetensors"),
        "{e}"
    );
}

#[test]
fn missing_shard() {
    let (_t, dir) = copy_fixture("tiny_bert");
    std::fs::remove_file(dir.join("model-00002-of-00003.safetensors")).unwrap();
    let e = load_err(&dir);
    assert!(e.contains("model-00002-of-00003.safetensors"), "{e}");
}

#[test]
fn missing_tensor_and_shape_mismatch() {
    let (_t, dir) = copy_fixture("tiny_roberta");
    let path = dir.join("model.safetensors");
    let mut tensors = medkit_plugin_hf::weights::read_safetensors(&path).unwrap();
    let keep: Vec<_> = tensors
        .iter()
        .filter(|(n, _)| n != "roberta.encoder.layer.1.output.dense.bias")
        .collect();
    let keep: Vec<(String, tch::Tensor)> = keep
        .iter()
        .map(|(n, t)| (n.clone(), t.shallow_clone()))
        .collect();
    medkit_plugin_hf::weights::write_safetensors(&path, &keep).unwrap();
    let e = load_err(&dir);
    assert!(
        e.contains("`roberta.encoder.layer.1.output.dense.bias` not found")
            && e.contains("model.safetensors"),
        "{e}"
    );
    for (n, t) in tensors.iter_mut() {
        if n == "roberta.encoder.layer.0.attention.self.query.weight" {
            *t = t.narrow(0, 0, 16).contiguous();
        }
    }
    medkit_plugin_hf::weights::write_safetensors(&path, &tensors).unwrap();
    let e = load_err(&dir);
    assert!(
        e.contains("`roberta.encoder.layer.0.attention.self.query.weight`")
            && e.contains("[16, 32]"),
        "{e}"
    );
}

#[test]
fn head_with_other_hidden_size_is_an_error() {
    let (_t, dir) = copy_fixture("tiny_roberta");
    let path = dir.join("model.safetensors");
    let mut tensors = medkit_plugin_hf::weights::read_safetensors(&path).unwrap();
    for (n, t) in tensors.iter_mut() {
        if n == "classifier.weight" {
            *t = t.narrow(1, 0, 8).contiguous();
        }
    }
    medkit_plugin_hf::weights::write_safetensors(&path, &tensors).unwrap();
    let e = load_err(&dir);
    assert!(e.contains("`classifier.weight`"), "{e}");
}

#[test]
fn bad_labels() {
    let dir = fixtures().join("tiny_roberta");
    let e = TokenClassifier::from_dir(&dir, Some(&[]), Device::Cpu)
        .err()
        .unwrap();
    assert!(matches!(e, ModelError::Labels(_)));
    let dup = vec!["O".to_string(), "O".to_string()];
    let e = TokenClassifier::from_dir(&dir, Some(&dup), Device::Cpu)
        .err()
        .unwrap();
    assert!(e.to_string().contains("duplicate"), "{e}");
}

#[test]
fn missing_tokenizer() {
    let tmp = tempfile::tempdir().unwrap();
    let e = HfTokenizer::from_dir(tmp.path()).err().unwrap().to_string();
    assert!(e.contains("tokenizer.json is missing"), "{e}");
    std::fs::write(tmp.path().join("sentencepiece.bpe.model"), b"x").unwrap();
    let e = HfTokenizer::from_dir(tmp.path()).err().unwrap().to_string();
    assert!(
        e.contains("sentencepiece.bpe.model") && e.contains("tokenizer.json"),
        "{e}"
    );
    std::fs::write(tmp.path().join("tokenizer.json"), b"{}").unwrap();
    let e = HfTokenizer::from_dir(tmp.path()).err().unwrap().to_string();
    assert!(e.contains("tokenizer.json"), "{e}");
}

#[test]
fn devices() {
    assert_eq!(parse_device("cpu").unwrap(), Device::Cpu);
    let e = parse_device("gpu").err().unwrap().to_string();
    assert!(e.contains("unknown device `gpu`"), "{e}");
    assert!(parse_device("cuda:x").is_err());
    match parse_device("cuda") {
        Ok(d) => assert_eq!(d, Device::Cuda(0)),
        Err(e) => {
            let e = e.to_string();
            assert!(e.contains("CUDA") && e.contains("cuda"), "{e}");
            eprintln!("cuda absent, as reported: {e}");
        }
    }
    let e = parse_device("cuda:64").err().unwrap().to_string();
    assert!(e.contains("cuda:64"), "{e}");
}

#[test]
fn impossible_sizes() {
    for (key, value) in [
        ("intermediate_size", -1),
        ("type_vocab_size", 0),
        ("pad_token_id", 100000),
    ] {
        let (_t2, d) = copy_fixture("tiny_bert");
        edit_config(&d, |c| {
            c.insert(key.into(), value.into());
        });
        let e = load_err(&d);
        assert!(e.contains(&format!("`{key}`")), "{e}");
    }
}

#[test]
fn distilbert_sinusoidal_positions_are_frozen() {
    let (_t, dir) = copy_fixture("tiny_distilbert");
    edit_config(&dir, |c| {
        c.insert("sinusoidal_pos_embds".into(), true.into());
    });
    let model = TokenClassifier::from_dir(&dir, None, Device::Cpu).unwrap();
    let vars = model.vs.variables();
    assert!(!vars["distilbert.embeddings.position_embeddings.weight"].requires_grad());
    assert!(vars["distilbert.embeddings.word_embeddings.weight"].requires_grad());
}

/// Rewrites the fixture's pytorch_model.bin with data.pkl passed through `mutate`.
fn write_mutated_bin(src: &Path, dst: &Path, mutate: impl Fn(&mut Vec<u8>)) {
    use std::io::{Read, Write};
    let mut zin = zip::ZipArchive::new(std::fs::File::open(src).unwrap()).unwrap();
    let mut zout = zip::ZipWriter::new(std::fs::File::create(dst).unwrap());
    let opts =
        zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).unwrap();
        let name = f.name().to_string();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        if name.ends_with("data.pkl") {
            mutate(&mut data);
        }
        zout.start_file(name, opts).unwrap();
        zout.write_all(&data).unwrap();
    }
    zout.finish().unwrap();
}

#[test]
fn corrupt_torch_pickles_are_errors_not_panics() {
    let (_t, dir) = copy_fixture("tiny_distilbert");
    let src = fixtures().join("tiny_distilbert/pytorch_model.bin");
    let dst = dir.join("pytorch_model.bin");
    let len = {
        let mut z = zip::ZipArchive::new(std::fs::File::open(&src).unwrap()).unwrap();
        let n = (0..z.len())
            .find(|&i| z.by_index(i).unwrap().name().ends_with("data.pkl"))
            .unwrap();
        let size = z.by_index(n).unwrap().size();
        size as usize
    };
    let mut errors = 0;
    for k in 0..60 {
        let at = (k * 7919) % len;
        write_mutated_bin(&src, &dst, |d| {
            if k % 3 == 0 {
                d.truncate(at);
            } else {
                d[at] ^= 0x5a;
            }
        });
        if TokenClassifier::from_dir(&dir, None, Device::Cpu).is_err() {
            errors += 1;
        }
    }
    assert!(errors > 0);
    std::fs::write(&dst, &std::fs::read(&src).unwrap()[..1000]).unwrap();
    let e = load_err(&dir);
    assert!(
        e.contains("pytorch_model.bin") && e.contains("safetensors"),
        "{e}"
    );
}

#[test]
fn bad_model_inputs_are_errors() {
    use tch::{Kind, Tensor};
    let model =
        TokenClassifier::from_dir(&fixtures().join("tiny_roberta"), None, Device::Cpu).unwrap();
    let ids = Tensor::from_slice(&[0i64, 5, 9999, 2]).view([1, 4]);
    let mask = Tensor::ones([1, 4], (Kind::Int64, Device::Cpu));
    let e = model
        .try_forward_t(&ids, &mask, false)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("outside the vocabulary"), "{e}");
    let e = model
        .try_forward_t(&ids, &mask.view([4, 1]), false)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("same [batch, seq]"), "{e}");
    let long = Tensor::ones([1, 100], (Kind::Int64, Device::Cpu));
    let e = model
        .try_forward_t(&long, &long, false)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("exceeds"), "{e}");
    let ok = Tensor::from_slice(&[0i64, 5, 9, 2]).view([1, 4]);
    assert_eq!(
        model.try_forward_t(&ok, &mask, false).unwrap().size(),
        [1, 4, 3]
    );
}
