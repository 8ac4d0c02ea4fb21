//! Annotation progress, as the trainer's printer shows training's: a progress bar on a
//! terminal, else an info line every `log_document_interval` documents or every
//! [`LOG_SECONDS`], whichever comes first, with the documents per second.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

/// Documents between log lines when no bar is drawn (`[annotate] log_document_interval`).
pub const DEFAULT_LOG_DOCUMENT_INTERVAL: usize = 1000;
/// The longest wait between two log lines (checked when a batch ends).
pub const LOG_SECONDS: u64 = 30;

pub struct Progress {
    bar: Option<ProgressBar>,
    total: Option<usize>,
    every: usize,
    start: Instant,
    /// Documents done, and when, at the last log line.
    logged: (usize, Instant),
}

impl Progress {
    /// A bar when stderr is a terminal, else log lines; `total`: the documents to annotate when
    /// known.
    pub fn new(total: Option<usize>, log_document_interval: usize) -> Self {
        let mut p = Self::lines(total, log_document_interval, Instant::now());
        if std::io::stderr().is_terminal() {
            let bar = match total {
                Some(n) => {
                    ProgressBar::with_draw_target(Some(n as u64), ProgressDrawTarget::stderr())
                }
                None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
            };
            let template = if total.is_some() {
                "annotate {wide_bar} {pos}/{len} docs [{elapsed_precise}<{eta_precise}] {per_sec}"
            } else {
                "annotate {spinner} {pos} docs [{elapsed_precise}] {per_sec}"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            p.bar = Some(bar);
        }
        p
    }

    /// Log lines only, started at `start`.
    fn lines(total: Option<usize>, every: usize, start: Instant) -> Self {
        Progress {
            bar: None,
            total,
            every: every.max(1),
            start,
            logged: (0, start),
        }
    }

    /// `done` documents are annotated.
    pub fn update(&mut self, done: usize) {
        match &self.bar {
            Some(bar) => bar.set_position(done as u64),
            None => {
                if let Some(line) = self.line_at(done, Instant::now()) {
                    log::info!("{line}");
                }
            }
        }
    }

    /// The log line due at `now` with `done` documents annotated, if one is.
    fn line_at(&mut self, done: usize, now: Instant) -> Option<String> {
        let (last, at) = self.logged;
        let due = done >= last + self.every
            || (done > last && now.duration_since(at) >= Duration::from_secs(LOG_SECONDS));
        if !due {
            return None;
        }
        self.logged = (done, now);
        let secs = now.duration_since(self.start).as_secs_f64().max(1e-9);
        let rate = done as f64 / secs;
        Some(match self.total {
            Some(total) => {
                let left = total.saturating_sub(done) as f64 / rate.max(1e-9);
                format!(
                    "Annotated {done}/{total} documents ({rate:.1} docs/s, about {left:.0}s left)"
                )
            }
            None => format!("Annotated {done} documents ({rate:.1} docs/s)"),
        })
    }

    /// Clears the bar (the caller prints the summary).
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// The documents of the medkit JSONL file `input` (its non-empty lines after the header), at
/// most `limit`; None when it is not a regular file (a pipe would be consumed by counting).
pub fn count_documents(input: &Path, limit: Option<usize>) -> Option<usize> {
    use std::io::BufRead;
    if !std::fs::metadata(input).ok()?.is_file() {
        return None;
    }
    let file = std::io::BufReader::new(std::fs::File::open(input).ok()?);
    let mut n = 0usize;
    for line in file.split(b'\n').skip(1) {
        if !line.ok()?.iter().all(u8::is_ascii_whitespace) {
            n += 1;
        }
        if limit.is_some_and(|l| n >= l) {
            break;
        }
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_come_every_interval_documents_or_after_the_longest_wait() {
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut p = Progress::lines(Some(300), 100, t0);
        assert_eq!(p.line_at(64, at(2)), None);
        assert_eq!(
            p.line_at(128, at(4)).as_deref(),
            Some("Annotated 128/300 documents (32.0 docs/s, about 5s left)")
        );
        assert_eq!(p.line_at(192, at(6)), None, "64 since the last line");
        // 30 s without a line: one comes whatever the count
        assert!(p.line_at(200, at(40)).is_some());
        assert_eq!(p.line_at(200, at(80)), None, "nothing new done");
        let mut p = Progress::lines(None, 1, t0);
        assert_eq!(
            p.line_at(5, at(2)).as_deref(),
            Some("Annotated 5 documents (2.5 docs/s)")
        );
    }

    #[test]
    fn counts_documents_not_the_header_nor_blank_lines() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("entrée.jsonl");
        std::fs::write(&p, "{\"header\": 1}\n{\"a\": \"é\"}\n\n{\"b\": 2}\n").unwrap();
        assert_eq!(count_documents(&p, None), Some(2));
        assert_eq!(count_documents(&p, Some(1)), Some(1));
        assert_eq!(count_documents(&tmp.path().join("absent"), None), None);
        assert_eq!(count_documents(tmp.path(), None), None);
    }
}
