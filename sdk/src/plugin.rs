//! Registration inside a plugin, the plugin's root module, and the log bridge.
//!
//! ```ignore
//! medkit_sdk::register_operation! {
//!     kind: metrics, name: "my-metric", description: "…", config_example: "",
//!     create: |config_json: &str| MyMetric::from_config(config_json),
//! }
//! medkit_sdk::export_plugin!();
//! ```
//!
//! What the host must know of an operation's config travels in its [`ConfigContract`], declared
//! at registration (`path_keys: [..]`, `output_keys: [..]`, `accepts_seed: true`, `default: true`), so that the host
//! names no plugin's key.

use crate::guard::guard;
use crate::ops::{Operation, OperationKind, Operation_NE};
use abi_stable::{
    declare_root_module_statics,
    library::RootModule,
    package_version_strings,
    sabi_types::VersionStrings,
    std_types::{ROption, RResult, RStr, RString, RVec},
    StableAbi,
};

/// One operation a plugin offers. Submitted with `inventory` by `register_operation!`.
pub struct Registration {
    /// The registering crate, so that a plugin linking another plugin's rlib exports only its own.
    pub crate_name: &'static str,
    pub version: &'static str,
    pub kind: OperationKind,
    pub name: &'static str,
    pub description: &'static str,
    /// A TOML fragment showing the operation's config keys.
    pub config_example: &'static str,
    /// Config keys holding paths (see [`ConfigContract::path_keys`]).
    pub path_keys: &'static [&'static str],
    /// See [`ConfigContract::output_keys`].
    pub output_keys: &'static [&'static str],
    /// See [`ConfigContract::accepts_seed`].
    pub accepts_seed: bool,
    /// See [`ConfigContract::is_default`].
    pub is_default: bool,
    /// Checks a config without building the operation (no model loaded), returning it with
    /// its defaults filled in, as JSON text; `medkit check` and `medkit run` call it first.
    pub validate: Option<ValidateFn>,
    /// Builds the operation from its config, a JSON object.
    pub create: fn(&str) -> Result<Operation, String>,
}

/// An operation's config check: the config (JSON text) in, the config with its defaults filled
/// in out (see [`Registration::validate`]).
pub type ValidateFn = fn(&str) -> Result<String, String>;

/// What the host needs to know about an operation's config, so that it names no plugin's key.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigContract {
    /// Keys whose string value is a path: the host resolves a relative one against the pipeline
    /// file's folder when something exists there (else it is left as is: a hub model name, say),
    /// and replaces `@best` / `@last` by the pipeline's `[train]` checkpoint.
    pub path_keys: RVec<RString>,
    /// Keys whose string value is a path the operation writes: a relative one is always
    /// resolved against the pipeline file's folder.
    pub output_keys: RVec<RString>,
    /// The config takes a `seed` key; the pipeline passes the trainer's seed there unless the
    /// config sets one.
    pub accepts_seed: bool,
    /// The host uses this operation when a pipeline names none of its kind (e.g. the trainer
    /// callback that prints progress).
    pub is_default: bool,
}

inventory::collect!(Registration);

/// This plugin's registrations (those of `crate_name`), sorted by kind then name.
pub fn registrations(crate_name: &str) -> Vec<&'static Registration> {
    let mut v: Vec<_> = inventory::iter::<Registration>
        .into_iter()
        .filter(|r| r.crate_name == crate_name)
        .collect();
    v.sort_by(|a, b| (a.kind, a.name).cmp(&(b.kind, b.name)));
    v
}

/// Describes one operation across the ABI.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct OperationInfo {
    pub name: RString,
    /// The kind's name ([`OperationKind::as_str`]); see [`OperationInfo::kind`].
    pub kind_name: RString,
    pub version: RString,
    pub description: RString,
    pub config_example: RString,
    pub contract: ConfigContract,
}

impl OperationInfo {
    /// The operation's kind; None for a kind this SDK does not know (a newer plugin's).
    pub fn kind(&self) -> Option<OperationKind> {
        OperationKind::parse(&self.kind_name)
    }
}

/// Describes a plugin across the ABI.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct PluginInfo {
    pub name: RString,
    pub version: RString,
    pub sdk_version: RString,
    pub operations: RVec<OperationInfo>,
}

/// Receives the plugin's `log` records in the host. The function must not unwind.
#[repr(C)]
#[derive(StableAbi, Clone, Copy)]
pub struct LogSink {
    pub func: extern "C" fn(level: u8, target: RStr<'_>, message: RStr<'_>),
}

/// The root module every plugin exports (via `export_plugin!`).
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModRef)))]
#[sabi(missing_field(panic))]
pub struct PluginMod {
    pub describe: extern "C" fn() -> RResult<PluginInfo, RString>,
    /// Routes the plugin's `log` records to the host; `max_level` as `log::LevelFilter as u8`.
    pub set_log_sink: extern "C" fn(sink: LogSink, max_level: u8),
    #[sabi(last_prefix_field)]
    /// `kind`: the kind's name ([`OperationKind::as_str`]).
    pub create: extern "C" fn(
        kind: RStr<'_>,
        name: RStr<'_>,
        config_json: RStr<'_>,
    ) -> RResult<Operation_NE, RString>,
    /// The operation's `validate` (None inside: it has none). A field after the prefix: a
    /// plugin built before it existed still loads, and the host sees it missing.
    #[sabi(missing_field(option))]
    pub validate: extern "C" fn(
        kind: RStr<'_>,
        name: RStr<'_>,
        config_json: RStr<'_>,
    ) -> RResult<ROption<RString>, RString>,
}

impl RootModule for PluginModRef {
    declare_root_module_statics! {PluginModRef}
    const BASE_NAME: &'static str = "medkit_plugin";
    const NAME: &'static str = "medkit_plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

#[doc(hidden)]
pub fn describe_impl(
    crate_name: &'static str,
    version: &'static str,
) -> RResult<PluginInfo, RString> {
    guard(|| {
        let operations = registrations(crate_name)
            .into_iter()
            .map(|r| OperationInfo {
                name: r.name.into(),
                kind_name: r.kind.as_str().into(),
                version: r.version.into(),
                description: r.description.into(),
                config_example: r.config_example.into(),
                contract: ConfigContract {
                    path_keys: r.path_keys.iter().map(|k| RString::from(*k)).collect(),
                    output_keys: r.output_keys.iter().map(|k| RString::from(*k)).collect(),
                    accepts_seed: r.accepts_seed,
                    is_default: r.is_default,
                },
            })
            .collect();
        Ok(PluginInfo {
            name: crate_name.into(),
            version: version.into(),
            sdk_version: crate::SDK_VERSION.into(),
            operations,
        })
    })
}

#[doc(hidden)]
pub fn validate_impl(
    crate_name: &'static str,
    kind: RStr<'_>,
    name: RStr<'_>,
    config_json: RStr<'_>,
) -> RResult<ROption<RString>, RString> {
    guard(|| match registration(crate_name, kind, name)?.validate {
        None => Ok(ROption::RNone),
        Some(v) => v(config_json.as_str()).map(|s| ROption::RSome(s.into())),
    })
}

#[doc(hidden)]
pub fn create_impl(
    crate_name: &'static str,
    kind: RStr<'_>,
    name: RStr<'_>,
    config_json: RStr<'_>,
) -> RResult<Operation_NE, RString> {
    guard(|| {
        let reg = registration(crate_name, kind, name)?;
        (reg.create)(config_json.as_str()).map(Operation_NE::new)
    })
}

/// The registration of operation (`kind`, `name`) of this plugin.
fn registration(
    crate_name: &str,
    kind: RStr<'_>,
    name: RStr<'_>,
) -> Result<&'static Registration, String> {
    registrations(crate_name)
        .into_iter()
        .find(|r| r.kind.as_str() == kind.as_str() && r.name == name.as_str())
        .ok_or_else(|| format!("no {kind} operation named '{name}'"))
}

struct Bridge;
static SINK: std::sync::OnceLock<LogSink> = std::sync::OnceLock::new();

impl log::Log for Bridge {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }
    fn log(&self, record: &log::Record) {
        if let (true, Some(sink)) = (self.enabled(record.metadata()), SINK.get()) {
            let message = record.args().to_string();
            (sink.func)(
                record.level() as u8,
                RStr::from_str(record.target()),
                RStr::from_str(&message),
            );
        }
    }
    fn flush(&self) {}
}

#[doc(hidden)]
pub fn set_log_sink_impl(sink: LogSink, max_level: u8) {
    let _ = std::panic::catch_unwind(|| {
        // This plugin's own std: route its panic messages to the log (guard() already returns
        // them as errors) instead of printing them on the user's terminal.
        std::panic::set_hook(Box::new(|info| log::debug!("plugin panic: {info}")));
        let _ = SINK.set(sink);
        let _ = log::set_logger(&Bridge);
        log::set_max_level(match max_level {
            0 => log::LevelFilter::Off,
            1 => log::LevelFilter::Error,
            2 => log::LevelFilter::Warn,
            3 => log::LevelFilter::Info,
            4 => log::LevelFilter::Debug,
            _ => log::LevelFilter::Trace,
        });
    });
}

/// Registers an operation of this crate. `kind` is one of `ner`, `segmentation`, `tagging_scheme`,
/// `metrics`, `callback`, `trainable`; `create` takes the config (a JSON object as `&str`) and returns
/// `Result<impl TheKindsTrait, String>`. Optional, in this order before `create`: `path_keys:
/// ["model"]`, `output_keys: ["output_dir"]`, `accepts_seed: true`, `default: true` (see
/// [`ConfigContract`]), `validate: |config: &str| …` (see [`Registration::validate`];
/// [`filled_config`](crate::filled_config) does most of it).
#[macro_export]
macro_rules! register_operation {
    (kind: $kind:ident, name: $name:expr, description: $desc:expr, config_example: $ex:expr,
     $(path_keys: [$($pk:expr),* $(,)?],)? $(output_keys: [$($ok:expr),* $(,)?],)?
     $(accepts_seed: $seed:expr,)? $(default: $def:expr,)? $(validate: $validate:expr,)?
     create: $create:expr $(,)?) => {
        const _: () = {
            fn __medkit_create(
                config_json: &str,
            ) -> ::std::result::Result<$crate::Operation, ::std::string::String> {
                let op = ($create)(config_json)?;
                Ok($crate::Operation::$kind(op))
            }
            $crate::inventory::submit! {
                $crate::Registration {
                    crate_name: env!("CARGO_PKG_NAME"),
                    version: env!("CARGO_PKG_VERSION"),
                    kind: $crate::__kind!($kind),
                    name: $name,
                    description: $desc,
                    config_example: $ex,
                    path_keys: &[$($($pk),*)?],
                    output_keys: &[$($($ok),*)?],
                    accepts_seed: false $(|| $seed)?,
                    is_default: false $(|| $def)?,
                    validate: $crate::__validate!($($validate)?),
                    create: __medkit_create,
                }
            }
        };
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __validate {
    () => {
        ::std::option::Option::None
    };
    ($v:expr) => {
        ::std::option::Option::Some($v as $crate::plugin::ValidateFn)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __kind {
    (ner) => {
        $crate::OperationKind::Ner
    };
    (tagging_scheme) => {
        $crate::OperationKind::TaggingScheme
    };
    (metrics) => {
        $crate::OperationKind::Metrics
    };
    (callback) => {
        $crate::OperationKind::Callback
    };
    (trainable) => {
        $crate::OperationKind::Trainable
    };
    (segmentation) => {
        $crate::OperationKind::Segmentation
    };
}

/// Exports this crate's root module; put it once in the plugin's `lib.rs`.
/// Equivalent to abi_stable's `#[export_root_module]`, spelled through this crate so that a
/// plugin depends on the SDK alone.
#[macro_export]
macro_rules! export_plugin {
    () => {
        #[doc(hidden)]
        pub mod __medkit_plugin_root {
            use $crate::abi_stable::std_types::{RResult, RStr, RString};
            use $crate::abi_stable::prefix_type::PrefixTypeTrait;

            extern "C" fn describe() -> RResult<$crate::PluginInfo, RString> {
                $crate::plugin::describe_impl(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"))
            }
            extern "C" fn set_log_sink(sink: $crate::LogSink, max_level: u8) {
                $crate::plugin::set_log_sink_impl(sink, max_level)
            }
            extern "C" fn create(
                kind: RStr<'_>,
                name: RStr<'_>,
                config_json: RStr<'_>,
            ) -> RResult<$crate::Operation_NE, RString> {
                $crate::plugin::create_impl(env!("CARGO_PKG_NAME"), kind, name, config_json)
            }
            extern "C" fn validate(
                kind: RStr<'_>,
                name: RStr<'_>,
                config_json: RStr<'_>,
            ) -> RResult<$crate::abi_stable::std_types::ROption<RString>, RString> {
                $crate::plugin::validate_impl(env!("CARGO_PKG_NAME"), kind, name, config_json)
            }
            pub fn root_module() -> $crate::PluginModRef {
                $crate::PluginMod {
                    describe,
                    set_log_sink,
                    create,
                    validate,
                }
                .leak_into_prefix()
            }

            // What `#[export_root_module]` expands to (abi_stable 0.11).
            #[no_mangle]
            pub static _1as_0lib_1header_0root_bmodule_bloader: $crate::abi_stable::library::LibHeader = {
                pub extern "C" fn erased() -> $crate::abi_stable::library::RootModuleResult {
                    $crate::abi_stable::library::__call_root_module_loader(root_module)
                }
                unsafe {
                    $crate::abi_stable::library::LibHeader::from_constructor::<$crate::PluginModRef>(
                        erased,
                        $crate::abi_stable::library::CheckTypeLayout::Yes,
                    )
                }
            };
        }
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn loader_symbol_name_matches_abi_stable() {
        assert_eq!(
            abi_stable::library::ROOT_MODULE_LOADER_NAME,
            "_1as_0lib_1header_0root_bmodule_bloader"
        );
    }
}
