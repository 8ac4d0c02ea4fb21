use clap::{Parser, Subcommand};
use medkit_host::{commands, context};
use std::path::PathBuf;
use std::process::ExitCode;

/// medkit-rs: clinical NER with HuggingFace token-classification models, as plugins.
#[derive(Parser)]
#[command(name = "medkit", version, about)]
struct Cli {
    /// Extra plugin directory (repeatable); searched before MEDKIT_PLUGIN_PATH.
    #[arg(long = "plugin-dir", global = true)]
    plugin_dirs: Vec<PathBuf>,
    /// Log level (error, warn, info, debug, trace); RUST_LOG overrides it.
    #[arg(long, global = true, default_value = "info")]
    log_level: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List plugin files, their versions and operations.
    Plugins(commands::plugins::Args),
    /// Convert a corpus between medkit JSONL, BRAT and CoNLL.
    Convert(commands::convert::Args),
    /// Run a TOML pipeline (corpus, train, evaluate, annotate stages).
    Run(commands::run::Args),
    /// Check a TOML pipeline without running it; print it resolved, defaults filled in.
    Check(commands::check::Args),
    /// seqeval's classification_report over sequence pairs (JSONL).
    Seqeval(commands::seqeval::Args),
    /// Evaluate predicted entities against reference documents (seqeval on tags).
    Evaluate(commands::evaluate::Args),
    /// Annotate documents with a token-classification model.
    Annotate(commands::annotate::Args),
    /// Write an HTML report: training curves, per-label scores, gold vs predicted entities.
    Report(commands::report::Args),
}

fn main() -> ExitCode {
    // libtorch's OpenMP threads spin-wait ~300k iterations between parallel regions by default:
    // with one other busy process on this 2-core machine that made training 5-10x slower here,
    // while never spinning (PASSIVE) cost 8% in training and 20% in batch-1 annotation on an idle
    // machine (many small ops, each waking the other thread). A short spin keeps most of the idle
    // speed (61 vs 63 ex/s, 138 vs 141 docs/s) and most of PASSIVE's robustness (28 vs 30 ex/s
    // with a busy core; BENCHMARKS.md). libgomp reads these when a plugin first loads it, so
    // setting them now (single-threaded, before any plugin) is enough; the user's settings win.
    if std::env::var_os("OMP_WAIT_POLICY").is_none() && std::env::var_os("GOMP_SPINCOUNT").is_none()
    {
        std::env::set_var("GOMP_SPINCOUNT", "1000");
    }
    // oneDNN (libtorch's GELU, and the matmuls under bf16) keeps a primitive per input shape, up
    // to 1,024 by default; packed batches have a new token count at nearly every step, so the
    // cache grew the annotate process by ~120 MB (fp32) to ~380 MB (bf16) at no speed gain here
    // (BENCHMARKS.md, "oneDNN's primitive cache"). 16 holds one step's shapes.
    if std::env::var_os("ONEDNN_PRIMITIVE_CACHE_CAPACITY").is_none() {
        std::env::set_var("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "16");
    }
    // A closed stdout (`medkit plugins | head`) ends the process quietly, as other Unix tools
    // do, instead of a print panicking on EPIPE (Rust ignores SIGPIPE by default).
    #[cfg(unix)]
    // SAFETY: called first thing, single-threaded, with the default disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    medkit_host::plugins::init_logging(&cli.log_level);
    let ctx = context::Context {
        plugin_dirs: cli.plugin_dirs,
    };
    let result = match cli.command {
        Command::Plugins(a) => commands::plugins::run(&ctx, a),
        Command::Convert(a) => commands::convert::run(&ctx, a),
        Command::Run(a) => commands::run::run(&ctx, a),
        Command::Check(a) => commands::check::run(&ctx, a),
        Command::Seqeval(a) => commands::seqeval::run(&ctx, a),
        Command::Evaluate(a) => commands::evaluate::run(&ctx, a),
        Command::Annotate(a) => commands::annotate::run(&ctx, a),
        Command::Report(a) => commands::report::run(&ctx, a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
