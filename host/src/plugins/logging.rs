//! Host logging, and the sink that carries plugins' `log` records into it.

use abi_stable::std_types::RStr;
use medkit_sdk::LogSink;

/// env_logger at `level` (RUST_LOG wins when set), writing to stderr without timestamps.
pub fn init_logging(level: &str) {
    let mut builder = env_logger::Builder::new();
    builder.parse_filters(level);
    if let Ok(filters) = std::env::var("RUST_LOG") {
        builder.parse_filters(&filters);
    }
    builder.format_timestamp(None).format_target(false);
    let _ = builder.try_init();
}

extern "C" fn sink(level: u8, target: RStr<'_>, message: RStr<'_>) {
    // Must not unwind into the plugin.
    let _ = std::panic::catch_unwind(|| {
        let level = match level {
            1 => log::Level::Error,
            2 => log::Level::Warn,
            3 => log::Level::Info,
            4 => log::Level::Debug,
            _ => log::Level::Trace,
        };
        log::logger().log(
            &log::Record::builder()
                .level(level)
                .target(target.as_str())
                .args(format_args!("{}", message.as_str()))
                .build(),
        );
    });
}

pub(crate) fn log_sink() -> LogSink {
    LogSink { func: sink }
}

pub(crate) fn max_level() -> u8 {
    log::max_level() as usize as u8
}
