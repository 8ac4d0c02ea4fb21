//! `medkit convert`: medkit JSONL / BRAT / CoNLL in, medkit JSONL / BRAT out, optionally filtering
//! overlapping entities and splitting into sentence mini-documents on the way.

use crate::context::Context;
use anyhow::Context as _;
use medkit_corpus::{self as corpus, medkit_json, CorpusError};
use medkit_sdk::data::TextDocument;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    Medkit,
    Brat,
    Conll,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Medkit,
    Brat,
}

#[derive(clap::Args)]
pub struct Args {
    /// Input format: medkit (JSONL file), brat (folder of .txt/.ann), conll (token<TAB>tag file).
    #[arg(long = "from", value_enum)]
    pub from: InputFormat,
    /// Output format: medkit (JSONL file) or brat (new or empty folder).
    #[arg(long = "to", value_enum)]
    pub to: OutputFormat,
    /// Input file (medkit, conll) or folder (brat).
    #[arg(long)]
    pub input: PathBuf,
    /// Output file (medkit; written atomically) or folder (brat; must not exist or be empty).
    #[arg(long)]
    pub output: PathBuf,
    /// One document per sentence (medkit's SentenceTokenizer + DocumentSplitter).
    #[arg(long)]
    pub split_sentences: bool,
    /// End-of-sentence characters, each character one of SentenceTokenizer's `punct_chars`
    /// (the medkit cookbook splits QUAERO with `--punct-chars '?!'`).
    #[arg(
        long,
        value_name = "CHARS",
        default_value = ".;?!",
        requires = "split_sentences"
    )]
    pub punct_chars: String,
    /// Whether a sentence keeps its end punctuation (SentenceTokenizer's `keep_punct`).
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set, requires = "split_sentences")]
    pub keep_punct: bool,
    /// Whether newlines end sentences (SentenceTokenizer's `split_on_newlines`).
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set, requires = "split_sentences")]
    pub split_on_newlines: bool,
    /// Drop overlapping entities, keeping the longest (medkit's filter_overlapping_entities).
    #[arg(long)]
    pub filter_overlaps: bool,
    /// An annotation that cannot be built (entity text whose length disagrees with its spans, a
    /// span outside the text or reversed, a malformed .ann or CoNLL tag line, a relation,
    /// attribute or note pointing at a missing or skipped annotation): error = stop, naming
    /// file:line and the annotation id, no output written; skip = drop it with that warning,
    /// count it, convert the rest. A document that cannot be read at all (unreadable file, bad
    /// UTF-8, a line that is not JSON or not a document) is an error in both modes.
    #[arg(long = "on-error", value_enum, default_value = "error")]
    pub on_error: corpus::OnError,
}

#[derive(Default)]
struct Counts {
    read: usize,
    written: usize,
    entities: usize,
    dropped: usize,
    lost: usize,
}

pub fn run(_ctx: &Context, args: Args) -> anyhow::Result<()> {
    let input = &args.input;
    let invalid = corpus::InvalidAnnotations::new(args.on_error);
    let docs: Box<dyn Iterator<Item = Result<TextDocument, CorpusError>>> = match args.from {
        InputFormat::Medkit => Box::new(medkit_json::read_documents_with(input, invalid.clone())?),
        InputFormat::Brat => Box::new(
            corpus::brat::read_dir_with(input, &invalid)?
                .into_iter()
                .map(Ok),
        ),
        InputFormat::Conll => Box::new(
            corpus::conll::read_with(input, &invalid)?
                .into_iter()
                .map(Ok),
        ),
    };
    let punct: Vec<String> = args.punct_chars.chars().map(String::from).collect();
    let rules = corpus::split::SentenceRules::new(&punct, args.keep_punct, args.split_on_newlines)
        .map_err(|e| anyhow::anyhow!("--punct-chars: {e}"))?;
    let mut c = Counts::default();
    let mut convert =
        |doc: Result<TextDocument, CorpusError>| -> anyhow::Result<Vec<TextDocument>> {
            let mut doc = doc?;
            c.read += 1;
            if args.filter_overlaps {
                c.dropped += corpus::overlaps::filter_overlapping_entities(&mut doc);
            }
            let out = if args.split_sentences {
                let (parts, lost) = corpus::split::split_sentences_with(&doc, &rules);
                c.lost += lost;
                parts
            } else {
                vec![doc]
            };
            c.written += out.len();
            c.entities += out.iter().map(|d| d.entities().count()).sum::<usize>();
            Ok(out)
        };
    match args.to {
        OutputFormat::Medkit => {
            // streamed: a dropped writer (on error) leaves no output file
            let mut w = medkit_json::DocumentWriter::create(&args.output)?;
            for doc in docs {
                for d in convert(doc)? {
                    w.write(&d)?;
                }
            }
            w.finish()?;
        }
        OutputFormat::Brat => {
            let mut all = Vec::new();
            for doc in docs {
                all.extend(convert(doc)?);
            }
            corpus::brat::write_dir(&args.output, &all)
                .with_context(|| format!("writing BRAT folder {}", args.output.display()))?;
        }
    }
    log::info!(
        "{} documents read, {} written with {} entities to {}; {} entities dropped as overlapping, {} lost by sentence splitting; {} annotations skipped as invalid",
        c.read,
        c.written,
        c.entities,
        args.output.display(),
        c.dropped,
        c.lost,
        invalid.skipped()
    );
    Ok(())
}
