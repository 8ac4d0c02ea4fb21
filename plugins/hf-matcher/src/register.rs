//! The plugin's operations: `trainable hf-entity-matcher` (medkit's make_trainable) and
//! `ner hf-entity-matcher` (medkit's HFEntityMatcher).

use crate::inference::{HfEntityMatcher, MatcherConfig};
use crate::trainable::{HfEntityMatcherTrainable, TrainableConfig};

/// The trainable's config checked without loading the model, defaults filled, the token masked.
fn validate_trainable(config_json: &str) -> Result<String, String> {
    let (mut c, _) = medkit_sdk::filled_config::<TrainableConfig>(config_json)?;
    c.check()?;
    c.hf_auth_token = c.hf_auth_token.map(|_| MASKED.into());
    serde_json::to_string(&c).map_err(|e| e.to_string())
}

/// The matcher's config checked without loading the model, defaults filled, the token masked.
fn validate_matcher(config_json: &str) -> Result<String, String> {
    let (mut c, _) = medkit_sdk::filled_config::<MatcherConfig>(config_json)?;
    c.check()?;
    c.hf_auth_token = c.hf_auth_token.map(|_| MASKED.into());
    serde_json::to_string(&c).map_err(|e| e.to_string())
}

/// What a checked config shows instead of a hub token.
const MASKED: &str = "***";

medkit_sdk::register_operation! {
    kind: trainable,
    name: "hf-entity-matcher",
    description: "Fine-tunes a HuggingFace token-classification model (medkit's HFEntityMatcher.make_trainable)",
    config_example: r#"model_name_or_path = "camembert-base"   # local dir or hub name
labels = ["problem", "treatment", "test"]
tagging_scheme = "iob2"                  # iob2 | bilou
tag_subtokens = false
# tokenizer_max_length = 512             # default: the tokenizer's model_max_length
long_documents = "windows"               # windows (overlapping, nothing lost) | truncate (medkit)
# window_stride = 126                    # tokens shared by windows; default: a quarter of one
device = -1                              # -1 = cpu, N = cuda:N (or "cpu", "cuda:0")
# hf_auth_token = "hf_..."               # private hub models; never logged
# cache_dir = "hf-cache"                 # hub models' cache; default: HF_HUB_CACHE / HF_HOME
# seed = 0                               # seeds the new classification head
# bf16 = false                           # bf16 autocast (faster on CPUs with AVX-512 BF16 and GPUs)
"#,
    path_keys: ["model_name_or_path"],
    output_keys: ["cache_dir"],
    accepts_seed: true,
    validate: validate_trainable,
    create: |config_json: &str| HfEntityMatcherTrainable::from_json(config_json),
}

medkit_sdk::register_operation! {
    kind: ner,
    name: "hf-entity-matcher",
    description: "Entities from a HuggingFace token-classification model (medkit's HFEntityMatcher)",
    config_example: r#"model = "checkpoints/checkpoint_best"  # local dir or hub name
aggregation_strategy = "max"             # none | simple | first | average | max
attrs_to_copy = []
device = -1                              # -1 = cpu, N = cuda:N (or "cpu", "cuda:0")
batch_size = 1
# tokenizer_max_length = 512             # default: the tokenizer's model_max_length (a checkpoint: its training length)
# stride = 128                           # tokens shared by the windows of long segments
# bf16 = false                           # bf16 autocast for the forward pass
# hf_auth_token = "hf_..."
# cache_dir = "hf-cache"                 # hub models' cache; default: HF_HUB_CACHE / HF_HOME
# threads = 1                            # libtorch threads of the process; default: libtorch's
# quantize = "none"                      # "int8": dynamic int8 linears (CPU; scores differ slightly)
"#,
    path_keys: ["model"],
    output_keys: ["cache_dir"],
    validate: validate_matcher,
    create: |config_json: &str| HfEntityMatcher::from_json(config_json),
}
