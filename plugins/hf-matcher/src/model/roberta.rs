//! RoBERTa-family specifics (CamemBERT, XLM-RoBERTa share them); the layers are BERT's.
use tch::{Kind, Tensor};

/// transformers' `create_position_ids_from_input_ids`: non-padding tokens get
/// padding_idx+1, padding_idx+2, …; padding tokens get padding_idx.
pub fn position_ids_from_input_ids(input_ids: &Tensor, padding_idx: i64) -> Tensor {
    let mask = input_ids.ne(padding_idx).to_kind(Kind::Int64);
    mask.cumsum(1, Kind::Int64) * mask + padding_idx
}
