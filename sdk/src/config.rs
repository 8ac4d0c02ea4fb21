//! The typed config reader: an operation's config (the JSON object the host sends) into the
//! author's serde struct, errors naming the key path.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Parses `config_json` (empty text counts as `{}`) into `T`. Put
/// `#[serde(deny_unknown_fields)]` on `T` so that a misspelt key is an error naming it.
pub fn parse_config<T: DeserializeOwned>(config_json: &str) -> Result<T, String> {
    let text = if config_json.trim().is_empty() {
        "{}"
    } else {
        config_json
    };
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            format!("config: {}", e.inner())
        } else {
            format!("config key '{path}': {}", e.inner())
        }
    })
}

/// [`parse_config`], then the config back as JSON with every default filled in: what an
/// operation's `validate` returns (`medkit check` prints it). The parsed value comes too, for
/// the checks serde cannot make.
pub fn filled_config<T: DeserializeOwned + Serialize>(
    config_json: &str,
) -> Result<(T, String), String> {
    let config: T = parse_config(config_json)?;
    let filled = serde_json::to_string(&config).map_err(|e| format!("config: {e}"))?;
    Ok((config, filled))
}

#[cfg(test)]
mod tests {
    use super::parse_config;

    #[derive(serde::Deserialize, Debug, Default, PartialEq)]
    #[serde(deny_unknown_fields, default)]
    struct C {
        label: String,
        chars: Vec<String>,
    }

    #[test]
    fn errors_name_the_key() {
        assert_eq!(parse_config::<C>("").unwrap(), C::default());
        let e = parse_config::<C>(r#"{"chars": [1]}"#).unwrap_err();
        assert!(e.starts_with("config key 'chars[0]'"), "{e}");
        let e = parse_config::<C>(r#"{"lable": "x"}"#).unwrap_err();
        assert!(e.contains("unknown field `lable`"), "{e}");
    }
}
