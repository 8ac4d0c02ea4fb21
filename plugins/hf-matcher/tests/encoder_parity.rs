//! Logits parity with Python transformers (fixtures by scripts/encoder_fixtures.py).
mod encoder_util;

use std::path::Path;

use encoder_util::*;
use medkit_plugin_hf::collate::{pack, PackedBatch};
use medkit_plugin_hf::model::TokenClassifier;
use medkit_plugin_hf::tokenizer::HfTokenizer;
use tch::{Device, Kind, Tensor};

const TOL: f64 = 1e-4;
const TINY_MAX_LEN: usize = 48;

fn logits(model: &TokenClassifier, ids: &Tensor, mask: &Tensor) -> Tensor {
    tch::no_grad(|| model.forward_t(ids, mask, false))
}

#[test]
fn minilm_logits_match_transformers() {
    tch::set_num_threads(2);
    let dir = minilm_dir();
    let fx = fixtures().join("minilm");
    let labels: Vec<String> =
        serde_json::from_str(&std::fs::read_to_string(fx.join("labels.json")).unwrap()).unwrap();
    tch::manual_seed(0);
    // Bare BERT checkpoint (no `bert.` prefix, pooler, position_ids): the head is new.
    let model = TokenClassifier::from_dir(&dir, Some(&labels), Device::Cpu).unwrap();
    assert_eq!(model.id2label(), labels);
    let head = read_tensors(&fx.join("head.safetensors"));
    let vars = model.vs.variables();
    tch::no_grad(|| {
        for (name, t) in &head {
            vars[name].shallow_clone().copy_(t);
        }
    });
    let exp = read_tensors(&fx.join("expected.safetensors"));
    // Our tokenizer must produce the very batch Python fed the model.
    let tok = HfTokenizer::from_dir(&dir).unwrap();
    let (ids, mask) = batch(&tok, &sentences(), None);
    assert_eq!(ids, exp["input_ids"]);
    assert_eq!(mask, exp["attention_mask"]);
    let diff = max_abs_diff(&logits(&model, &ids, &mask), &exp["logits"]);
    eprintln!("MiniLM-L6 logits max abs diff vs transformers: {diff:.3e}");
    assert!(diff < TOL, "max abs diff {diff}");
}

fn check_tiny(name: &str) -> f64 {
    tch::set_num_threads(2);
    let dir = fixtures().join(name);
    let tok = HfTokenizer::from_dir(&dir).unwrap();
    check_tokens(&tok, &dir);
    let exp = read_tensors(&dir.join("expected.safetensors"));
    let (ids, mask) = batch(&tok, &sentences(), Some(TINY_MAX_LEN));
    assert_eq!(ids, exp["input_ids"], "{name}: truncated batch ids");
    assert_eq!(mask, exp["attention_mask"]);
    let model = TokenClassifier::from_dir(&dir, None, Device::Cpu).unwrap();
    let ours = logits(&model, &ids, &mask);
    let diff = max_abs_diff(&ours, &exp["logits"]);
    eprintln!("{name}: logits max abs diff vs transformers: {diff:.3e}");
    assert!(diff < TOL, "{name}: max abs diff {diff}");
    check_packed(name, &model, &ids, &mask, &ours);
    let mut frozen = TokenClassifier::from_dir(&dir, None, Device::Cpu).unwrap();
    frozen.freeze_for_inference();
    let d = max_abs_diff(&logits(&frozen, &ids, &mask), &ours);
    assert!(d < 1e-6, "{name}: inference-frozen model differs by {d}");
    check_gradients(name, &model, &tok, &dir);
    check_relabel(&dir, &model, &ids, &mask, &ours);
    check_save_roundtrip(&model, &tok, &ids, &mask, &ours);
    diff
}

/// The padded batch `ids`/`mask` (right padding) packed: real tokens only.
fn packed(ids: &Tensor, mask: &Tensor) -> PackedBatch {
    let rows: Vec<Vec<i64>> = (0..ids.size()[0])
        .map(|r| {
            let len = mask.get(r).sum(Kind::Int64).int64_value(&[]);
            Vec::<i64>::try_from(ids.get(r).narrow(0, 0, len)).unwrap()
        })
        .collect();
    pack(rows.iter().map(|r| (r.as_slice(), &[][..]))).unwrap()
}

/// The packed forward gives the padded forward's logits at the real positions.
fn check_packed(name: &str, model: &TokenClassifier, ids: &Tensor, mask: &Tensor, ours: &Tensor) {
    let p = packed(ids, mask);
    assert!(
        p.tokens() < (p.batch * p.seq_len),
        "{name}: the batch has padding"
    );
    let got = tch::no_grad(|| model.forward_packed(&p.to_input(Device::Cpu), false));
    let n = model.num_labels();
    let want = ours
        .view([-1, n])
        .index_select(0, &mask.view([-1]).nonzero().squeeze_dim(1));
    let diff = max_abs_diff(&got, &want);
    eprintln!("{name}: packed vs padded logits max abs diff {diff:.3e}");
    assert!(diff < 1e-5, "{name}: packed logits differ by {diff}");
}

/// Loss and every parameter's gradient equal transformers' (dropout off), through the padded
/// and the packed forward.
fn check_gradients(name: &str, model: &TokenClassifier, tok: &HfTokenizer, dir: &Path) {
    for packed_forward in [false, true] {
        check_gradients_once(name, model, tok, dir, packed_forward);
    }
}

fn check_gradients_once(
    name: &str,
    model: &TokenClassifier,
    tok: &HfTokenizer,
    dir: &Path,
    packed_forward: bool,
) {
    let exp = read_tensors(&dir.join("grads.safetensors"));
    let (ids, mask) = batch(tok, &sentences()[..12], Some(TINY_MAX_LEN));
    let n = model.num_labels();
    let labels = ids.remainder(n).masked_fill(&mask.eq(0), -100);
    let (logits, labels) = if packed_forward {
        let p = packed(&ids, &mask);
        let real = mask.view([-1]).nonzero().squeeze_dim(1);
        let labels = labels.view([-1]).index_select(0, &real);
        (
            model.forward_packed(&p.to_input(Device::Cpu), false),
            labels,
        )
    } else {
        (model.forward_t(&ids, &mask, false), labels)
    };
    let loss = logits.view([-1, n]).cross_entropy_loss::<Tensor>(
        &labels.view([-1]),
        None,
        tch::Reduction::Mean,
        -100,
        0.0,
    );
    let loss_diff = max_abs_diff(&loss.reshape([1]), &exp["loss"]);
    loss.backward();
    let mut worst = (0.0, String::new());
    for (var, t) in model.vs.variables() {
        let want = exp
            .get(&var)
            .unwrap_or_else(|| panic!("{name}: no Python gradient for {var}"));
        let d = max_abs_diff(&t.grad(), want);
        if d > worst.0 {
            worst = (d, var);
        }
    }
    eprintln!(
        "{name} (packed: {packed_forward}): loss diff {loss_diff:.3e}, worst gradient max abs diff {:.3e} ({})",
        worst.0, worst.1
    );
    assert!(loss_diff < 1e-5 && worst.0 < TOL, "{name}: {worst:?}");
    for t in model.vs.trainable_variables() {
        let mut g = t.grad();
        let _ = g.zero_();
    }
}

/// Same label set in another order → rows permuted; another set → new head of the right size.
fn check_relabel(dir: &Path, model: &TokenClassifier, ids: &Tensor, mask: &Tensor, ours: &Tensor) {
    let mut labels = model.id2label();
    labels.reverse();
    let rev = TokenClassifier::from_dir(dir, Some(&labels), Device::Cpu).unwrap();
    assert_eq!(rev.id2label(), labels);
    let flipped = logits(&rev, ids, mask).flip([2]);
    assert!(max_abs_diff(&flipped, ours) < 1e-6);
    let other = vec![
        "O".to_string(),
        "B-new".into(),
        "I-new".into(),
        "B-z".into(),
    ];
    let re = TokenClassifier::from_dir(dir, Some(&other), Device::Cpu).unwrap();
    assert_eq!(logits(&re, ids, mask).size()[2], 4);
}

fn check_save_roundtrip(
    model: &TokenClassifier,
    tok: &HfTokenizer,
    ids: &Tensor,
    mask: &Tensor,
    ours: &Tensor,
) {
    let out = tempfile::tempdir().unwrap();
    model.save(out.path()).unwrap();
    tok.save(out.path()).unwrap();
    let again = TokenClassifier::from_dir(out.path(), None, Device::Cpu).unwrap();
    assert_eq!(again.id2label(), model.id2label());
    assert_eq!(max_abs_diff(&logits(&again, ids, mask), ours), 0.0);
    let tok2 = HfTokenizer::from_dir(out.path()).unwrap();
    for s in sentences() {
        assert_eq!(
            tok2.encode(&s, None).unwrap(),
            tok.encode(&s, None).unwrap()
        );
    }
    assert_eq!(tok2.pad_id(), tok.pad_id());
}

#[test]
fn tiny_bert_sharded_safetensors() {
    check_tiny("tiny_bert");
}

#[test]
fn tiny_roberta() {
    check_tiny("tiny_roberta");
}

#[test]
fn tiny_xlmr_bare_legacy_names() {
    check_tiny("tiny_xlmr");
}

#[test]
fn tiny_distilbert_pytorch_bin() {
    check_tiny("tiny_distilbert");
}

#[test]
fn train_mode_uses_dropout_and_grads_flow() {
    let dir = fixtures().join("tiny_bert");
    let model = TokenClassifier::from_dir(&dir, None, Device::Cpu).unwrap();
    let ids = Tensor::from_slice(&[2i64, 10, 11, 12, 3]).view([1, 5]);
    let mask = Tensor::ones([1, 5], (Kind::Int64, Device::Cpu));
    tch::manual_seed(1);
    let a = model.forward_t(&ids, &mask, true);
    let b = model.forward_t(&ids, &mask, true);
    assert!(
        max_abs_diff(&a, &b) > 0.0,
        "dropout must be active in train mode"
    );
    a.sum(Kind::Float).backward();
    let grads = model
        .vs
        .trainable_variables()
        .iter()
        .filter(|v| v.grad().defined())
        .count();
    assert_eq!(grads, model.vs.trainable_variables().len());
}

#[test]
fn autocast_bf16_switch() {
    use medkit_plugin_hf::model::autocast;
    // The process-wide CUDA autocast dtype can be read and set without a GPU.
    let before = autocast::cuda_autocast_dtype().unwrap();
    assert_eq!(
        before,
        autocast::HALF,
        "libtorch's default CUDA autocast dtype is fp16"
    );
    autocast::set_cuda_autocast_dtype(autocast::BFLOAT16).unwrap();
    assert_eq!(autocast::cuda_autocast_dtype().unwrap(), autocast::BFLOAT16);
    autocast::set_cuda_autocast_dtype(before).unwrap();
    // On the CPU: bf16 matmuls (close to fp32, not equal), fp32 logits, and the thread's
    // autocast state restored afterwards.
    let mut model =
        TokenClassifier::from_dir(&fixtures().join("tiny_bert"), None, Device::Cpu).unwrap();
    let ids = Tensor::from_slice(&[2i64, 10, 11, 3]).view([1, 4]);
    let mask = Tensor::ones([1, 4], (Kind::Int64, Device::Cpu));
    let a = logits(&model, &ids, &mask);
    model.set_autocast_bf16(true).unwrap();
    assert!(model.autocast_bf16());
    let b = logits(&model, &ids, &mask);
    assert_eq!(b.kind(), Kind::Float);
    let diff = max_abs_diff(&a, &b);
    assert!(diff > 0.0 && diff < 0.5, "bf16 vs fp32 logits: {diff}");
    let x = Tensor::ones([2, 2], (Kind::Float, Device::Cpu));
    assert_eq!(x.matmul(&x).kind(), Kind::Float, "autocast left on");
    model.set_autocast_bf16(false).unwrap();
    assert_eq!(max_abs_diff(&a, &logits(&model, &ids, &mask)), 0.0);
    // Frozen for bf16 inference (weights cast once; MKL's bf16 GEMM, fp32 out, where it is):
    // a bf16 computation as close to fp32 as autocast's (whose linears round their outputs to
    // bf16; MKL's unit test checks its products exactly).
    let mut frozen =
        TokenClassifier::from_dir(&fixtures().join("tiny_bert"), None, Device::Cpu).unwrap();
    frozen.set_autocast_bf16(true).unwrap();
    frozen.freeze_for_inference();
    let c = logits(&frozen, &ids, &mask);
    assert_eq!(c.kind(), Kind::Float);
    let d = max_abs_diff(&a, &c);
    assert!(
        d > 0.0 && d < 2.0 * diff,
        "bf16-frozen vs fp32 logits: {d} (autocast: {diff})"
    );
    // and an int8-frozen model is refused under bf16, as is fp32 once frozen in bf16
    assert!(frozen.freeze_for_int8_inference().is_err());
    let err = frozen.set_autocast_bf16(false).unwrap_err().to_string();
    assert!(err.contains("frozen for bf16 inference"), "{err}");
    assert!(frozen.autocast_bf16());
}

#[test]
fn model_is_send_tokenizer_is_send_and_sync() {
    // tch tensors are Send, not Sync: a model moves between threads, a tokenizer can be shared.
    fn send<T: Send>() {}
    fn sync<T: Send + Sync>() {}
    send::<TokenClassifier>();
    sync::<HfTokenizer>();
}
