//! Streaming annotation: documents in, a NER operation on each document's raw segment (or on its
//! segments of one label, made by a segmentation operation when missing, as a medkit pipeline
//! runs an operation on the segments another made), documents with the found entities out.
//! Memory holds one batch of documents at a time.
//!
//! Output: whole lines are appended to `<output>.partial` after each batch, which is renamed onto
//! `<output>` at the end. A run killed midway leaves `<output>` as it was and `<output>.partial`
//! as valid medkit JSONL (header + the documents done); a run that fails keeps the `.partial`
//! file too (and says so) when it holds documents.
//!
//! Progress (`progress`): a bar on a terminal, else periodic log lines.

mod progress;

pub use progress::DEFAULT_LOG_DOCUMENT_INTERVAL;

use anyhow::{anyhow, Context as _};
use medkit_corpus::medkit_json::{read_documents, StreamingDocumentWriter};
use medkit_sdk::{Annotation, NerOperationBox, Segment, SegmentationOperationBox, TextDocument};
use std::path::Path;

#[derive(Debug, Default, Clone, Copy)]
pub struct AnnotateStats {
    pub documents: usize,
    pub entities: usize,
    pub seconds: f64,
    /// Segments the NER operation ran on.
    pub segments: usize,
    /// Documents that had no segment of the wanted label (and so no entity).
    pub without_segments: usize,
}

/// medkit's label of a document's raw segment (the whole text).
pub const RAW_SEGMENT_LABEL: &str = medkit_sdk::RAW_SEGMENT_LABEL;

/// What the NER operation runs on.
#[derive(Default)]
pub struct Segments {
    /// Segment label (`[annotate] segments`, `--segments`); None or `RAW_TEXT`: the raw segment.
    pub label: Option<String>,
    /// Run on the raw segment of each document that has no segment of `label`; its segments
    /// are added to the document.
    pub segmentation: Option<SegmentationOperationBox>,
}

impl Segments {
    fn label(&self) -> Option<&str> {
        self.label.as_deref().filter(|l| *l != RAW_SEGMENT_LABEL)
    }

    /// The segments to run the NER operation on, with the index of their document; adds the
    /// segments the segmentation operation makes to their documents.
    fn collect(
        &mut self,
        batch: &mut [TextDocument],
        stats: &mut AnnotateStats,
    ) -> anyhow::Result<(Vec<Segment>, Vec<usize>)> {
        let Some(label) = self.label().map(str::to_owned) else {
            if self.segmentation.is_some() {
                return Err(anyhow!(
                    "a segmentation operation is set but the segments to annotate are the raw \
                     segment ({RAW_SEGMENT_LABEL}): name the label of the segments it makes"
                ));
            }
            let segments: Vec<Segment> = batch.iter().map(TextDocument::raw_segment).collect();
            return Ok((segments, (0..batch.len()).collect()));
        };
        let has = |d: &TextDocument| {
            d.anns
                .iter()
                .any(|a| matches!(a, Annotation::Segment(s) if s.label.as_str() == label))
        };
        if let Some(seg) = &mut self.segmentation {
            let need: Vec<usize> = (0..batch.len()).filter(|&i| !has(&batch[i])).collect();
            if !need.is_empty() {
                let raws = need.iter().map(|&i| batch[i].raw_segment()).collect();
                let found = seg
                    .run_batch(raws)
                    .into_result()
                    .map_err(|e| anyhow!("segmentation operation: {e}"))?;
                if found.len() != need.len() {
                    return Err(anyhow!(
                        "the segmentation operation returned {} result lists for {} segments",
                        found.len(),
                        need.len()
                    ));
                }
                let made: std::collections::BTreeSet<&str> =
                    found.iter().flatten().map(|s| s.label.as_str()).collect();
                if !made.is_empty() && !made.contains(label.as_str()) {
                    let made: Vec<&str> = made.into_iter().collect();
                    return Err(anyhow!(
                        "the segmentation operation made segments labelled {} but the segments \
                         to annotate are labelled '{label}'",
                        made.join(", ")
                    ));
                }
                for (&i, segs) in need.iter().zip(found) {
                    batch[i]
                        .anns
                        .extend(segs.into_iter().map(Annotation::Segment));
                }
            }
        }
        let (mut segments, mut owners) = (Vec::new(), Vec::new());
        for (i, doc) in batch.iter().enumerate() {
            let before = segments.len();
            for a in doc.anns.iter() {
                match a {
                    Annotation::Segment(s) if s.label.as_str() == label => {
                        segments.push(s.clone());
                        owners.push(i);
                    }
                    _ => {}
                }
            }
            if segments.len() == before {
                stats.without_segments += 1;
            }
        }
        Ok((segments, owners))
    }
}

/// Runs `ner` over the segments `segments` selects in each document of `batch` and appends the
/// entities (document spans: the operation maps segment offsets through the segment's spans).
/// With `drop_existing`, the documents' entities are removed first (so the output holds
/// predictions only, e.g. to score them against the input's gold entities).
pub fn annotate_batch(
    ner: &mut NerOperationBox,
    batch: &mut [TextDocument],
    drop_existing: bool,
    segments: &mut Segments,
    stats: &mut AnnotateStats,
) -> anyhow::Result<usize> {
    if drop_existing {
        for doc in batch.iter_mut() {
            doc.remove_entities(|_| true);
        }
    }
    let (inputs, owners) = segments.collect(batch, stats)?;
    let n = inputs.len();
    stats.segments += n;
    let found = ner
        .run_batch(inputs.into())
        .into_result()
        .map_err(|e| anyhow!("{e}"))?;
    if found.len() != n {
        return Err(anyhow!(
            "the NER operation returned {} result lists for {n} segments",
            found.len(),
        ));
    }
    let mut count = 0;
    for (i, entities) in owners.into_iter().zip(found) {
        count += entities.len();
        batch[i]
            .anns
            .extend(entities.into_iter().map(Annotation::Entity));
    }
    Ok(count)
}

/// Says how many documents had no segment to annotate (they got no entity).
pub fn warn_without_segments(stats: &AnnotateStats, segments: &Segments) {
    if let (Some(label), n @ 1..) = (segments.label(), stats.without_segments) {
        log::warn!(
            "{n} of {} documents had no '{label}' segment and got no entity{}",
            stats.documents,
            if segments.segmentation.is_none() {
                " (add a segmentation operation to make them)"
            } else {
                ""
            }
        );
    }
}

/// Documents per call to the NER operation for a model batch size: at least 64, so the
/// operation can sort them by length into batches and run batches side by side (the hf matcher
/// does both). Entities do not depend on it (scores may move at float rounding, since the
/// batches' make-up does); memory holds one call's documents.
pub fn call_size(batch_size: usize) -> usize {
    batch_size.max(64)
}

/// How `annotate_file` goes through its input.
#[derive(Debug, Clone, Copy)]
pub struct AnnotateOptions {
    /// Documents per call to the NER operation.
    pub batch_size: usize,
    /// Annotate only the first N documents.
    pub max_documents: Option<usize>,
    /// Remove the input documents' entities first (output = predictions only).
    pub drop_existing: bool,
    /// Documents between progress log lines when stderr is not a terminal.
    pub log_document_interval: usize,
}

/// Annotates the medkit JSONL file `input` into `output` (see the module doc for the `.partial`
/// file).
pub fn annotate_file(
    ner: &mut NerOperationBox,
    input: &Path,
    output: &Path,
    options: &AnnotateOptions,
    segments: &mut Segments,
) -> anyhow::Result<AnnotateStats> {
    let start = std::time::Instant::now();
    let docs = read_documents(input)?;
    let mut writer = StreamingDocumentWriter::create(output)?;
    let mut stats = AnnotateStats::default();
    let total = progress::count_documents(input, options.max_documents);
    let mut progress = progress::Progress::new(total, options.log_document_interval);
    let result = annotate_into(
        ner,
        (input, docs),
        &mut writer,
        &mut stats,
        options,
        segments,
        &mut progress,
    );
    progress.finish();
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

fn annotate_into(
    ner: &mut NerOperationBox,
    (input, docs): (&Path, medkit_corpus::medkit_json::DocumentReader),
    writer: &mut StreamingDocumentWriter,
    stats: &mut AnnotateStats,
    options: &AnnotateOptions,
    segments: &mut Segments,
    progress: &mut progress::Progress,
) -> anyhow::Result<()> {
    let AnnotateOptions {
        batch_size,
        max_documents,
        drop_existing,
        ..
    } = *options;
    let mut batch = Vec::with_capacity(batch_size.max(1));
    let limit = max_documents.unwrap_or(usize::MAX);
    let mut flush = |batch: &mut Vec<TextDocument>,
                     stats: &mut AnnotateStats|
     -> anyhow::Result<()> {
        let near = stats.documents + 1;
        let found = annotate_batch(ner, batch, drop_existing, segments, stats)
            .with_context(|| format!("annotating {} (near document {near})", input.display()))?;
        stats.entities += found;
        for doc in batch.drain(..) {
            writer.write(&doc)?;
            stats.documents += 1;
        }
        writer.flush_lines()?;
        progress.update(stats.documents);
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
