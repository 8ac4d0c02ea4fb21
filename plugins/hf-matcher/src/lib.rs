//! HuggingFace entity matcher: token-classification encoders on libtorch, trainable and inference

medkit_sdk::export_plugin!();
