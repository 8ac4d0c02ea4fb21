//! Streaming annotation: documents in, a NER operation on each document's raw segment, documents
//! with the found entities out. Memory holds one batch of documents at a time.
//!
//! Output: whole lines are appended to `<output>.partial` after each batch, which is renamed onto
//! `<output>` at the end. A run killed midway leaves `<output>` as it was and `<output>.partial`
//! as valid medkit JSONL (header + the documents done); a run that fails keeps the `.partial`
//! file too (and says so) when it holds documents.

use crate::corpus::medkit_json::{read_documents, StreamingDocumentWriter};
use anyhow::{anyhow, Context as _};
use medkit_sdk::{Annotation, NerBox, TextDocument};
use std::path::Path;

#[derive(Debug, Default, Clone, Copy)]
pub struct AnnotateStats {
    pub documents: usize,
    pub entities: usize,
    pub seconds: f64,
}

/// Runs `ner` over the raw segment of each document of `batch` and appends the entities.
/// With `drop_existing`, the documents' entities are removed first (so the output holds
/// predictions only, e.g. to score them against the input's gold entities).
pub fn annotate_batch(
    ner: &mut NerBox,
    batch: &mut [TextDocument],
    drop_existing: bool,
) -> anyhow::Result<usize> {
    if drop_existing {
        for doc in batch.iter_mut() {
            let removed: std::collections::HashSet<String> =
                doc.entities().map(|e| e.uid.to_string()).collect();
            // Relations that pointed at the removed entities go too.
            doc.anns.retain(|a| match a {
                Annotation::Entity(_) => false,
                Annotation::Relation(r) => {
                    !removed.contains(r.source_id.as_str())
                        && !removed.contains(r.target_id.as_str())
                }
                Annotation::Segment(_) => true,
            });
        }
    }
    let segments = batch.iter().map(TextDocument::raw_segment).collect();
    let found = ner
        .run_batch(segments)
        .into_result()
        .map_err(|e| anyhow!("{e}"))?;
    if found.len() != batch.len() {
        return Err(anyhow!(
            "the NER operation returned {} result lists for {} segments",
            found.len(),
            batch.len()
        ));
    }
    let mut count = 0;
    for (doc, entities) in batch.iter_mut().zip(found) {
        count += entities.len();
        doc.anns
            .extend(entities.into_iter().map(Annotation::Entity));
    }
    Ok(count)
}

/// Documents per call to the NER operation for a model batch size: at least 64, so the
/// operation can sort them by length into batches and run batches side by side (the hf matcher
/// does both). Entities do not depend on it (scores may move at float rounding, since the
/// batches' make-up does); memory holds one call's documents.
pub fn call_size(batch_size: usize) -> usize {
    batch_size.max(64)
}

/// Annotates the medkit JSONL file `input` into `output` (see the module doc for the `.partial`
/// file).
pub fn annotate_file(
    ner: &mut NerBox,
    input: &Path,
    output: &Path,
    batch_size: usize,
    max_documents: Option<usize>,
    drop_existing: bool,
) -> anyhow::Result<AnnotateStats> {
    let start = std::time::Instant::now();
    let docs = read_documents(input)?;
    let mut writer = StreamingDocumentWriter::create(output)?;
    let mut stats = AnnotateStats::default();
    let result = annotate_into(
        ner,
        input,
        docs,
        &mut writer,
        &mut stats,
        batch_size,
        max_documents,
        drop_existing,
    );
    match result {
        Ok(()) => writer.finish()?,
        Err(e) => {
            return Err(match writer.abandon() {
                Some(p) => e.context(format!(
                    "the {} documents annotated before the error are in {} (whole lines, valid \
                     medkit JSONL); {} is unchanged",
                    stats.documents,
                    p.display(),
                    output.display()
                )),
                None => e,
            })
        }
    }
    stats.seconds = start.elapsed().as_secs_f64();
    Ok(stats)
}

#[allow(clippy::too_many_arguments)]
fn annotate_into(
    ner: &mut NerBox,
    input: &Path,
    docs: crate::corpus::medkit_json::DocumentReader,
    writer: &mut StreamingDocumentWriter,
    stats: &mut AnnotateStats,
    batch_size: usize,
    max_documents: Option<usize>,
    drop_existing: bool,
) -> anyhow::Result<()> {
    let mut batch = Vec::with_capacity(batch_size.max(1));
    let limit = max_documents.unwrap_or(usize::MAX);
    let mut flush =
        |batch: &mut Vec<TextDocument>, stats: &mut AnnotateStats| -> anyhow::Result<()> {
            stats.entities += annotate_batch(ner, batch, drop_existing).with_context(|| {
                format!(
                    "annotating {} (near document {})",
                    input.display(),
                    stats.documents + 1
                )
            })?;
            for doc in batch.drain(..) {
                writer.write(&doc)?;
                stats.documents += 1;
            }
            writer.flush_lines()?;
            Ok(())
        };
    for doc in docs.take(limit) {
        match doc {
            Ok(doc) => batch.push(doc),
            Err(e) => {
                // The documents read before the bad line are annotated and written first.
                if !batch.is_empty() {
                    if let Err(f) = flush(&mut batch, stats) {
                        return Err(f.context(format!("reading went on to fail too: {e}")));
                    }
                }
                return Err(e.into());
            }
        }
        if batch.len() >= batch_size.max(1) {
            flush(&mut batch, stats)?;
        }
    }
    if !batch.is_empty() {
        flush(&mut batch, stats)?;
    }
    Ok(())
}
