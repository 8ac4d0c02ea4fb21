//! Concurrent single-threaded forward passes ("streams") for CPU inference. At batch size 1 a
//! document is ~30 tokens: libtorch splits each ~30-row GEMM across its threads poorly and every
//! operator pays an OpenMP wake-up. Passes side by side, one thread each, keep the cores busy
//! instead; each pass computes what it would alone (same batches, same order within a batch).

use crate::model::TokenClassifier;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Batches below this size run on streams by default: measured on 2 cores (MiniLM-L6, NCBI
/// test split), streams gain 6-10% at batch sizes 1-2 and ~4% at 4, and lose 15% at 16, where
/// one batch already keeps both threads busy.
const AUTO_BELOW: usize = 8;

/// How many streams to run `jobs` forward passes of `batch_size` on: `asked`, or for 0 libtorch's
/// intra-op thread count when batches are small (else 1); at most one per job; 1 means the plain
/// sequential loop.
pub fn count(asked: usize, batch_size: usize, jobs: usize, cpu: bool) -> usize {
    if !cpu {
        return 1;
    }
    let n = match asked {
        0 if batch_size < AUTO_BELOW => tch::get_num_threads().max(1) as usize,
        0 => 1,
        n => n,
    };
    n.min(jobs).max(1)
}

/// Runs `job(0..jobs)` on `streams` threads with libtorch's intra-op threads set to 1 (restored
/// after), taking jobs in order as threads free up; results in job order. A job's error (or
/// panic) stops the others at their next job and is returned.
pub fn run<T: Send>(
    streams: usize,
    jobs: usize,
    job: &(dyn Fn(usize) -> Result<T, String> + Sync),
) -> Result<Vec<T>, String> {
    let _threads = IntraOpThreads::set(1);
    let next = AtomicUsize::new(0);
    let failed = std::sync::atomic::AtomicBool::new(false);
    let worker = || -> Result<Vec<(usize, T)>, String> {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= jobs || failed.load(Ordering::Relaxed) {
                return Ok(done);
            }
            match tch::no_grad(|| job(i)) {
                Ok(t) => done.push((i, t)),
                Err(e) => {
                    failed.store(true, Ordering::Relaxed);
                    return Err(e);
                }
            }
        }
    };
    let per_stream: Vec<Result<Vec<(usize, T)>, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..streams).map(|_| s.spawn(worker)).collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|p| {
                    failed.store(true, Ordering::Relaxed);
                    Err(format!(
                        "inference stream panicked: {}",
                        medkit_sdk::panic_message(&*p)
                    ))
                })
            })
            .collect()
    });
    let mut slots: Vec<Option<T>> = (0..jobs).map(|_| None).collect();
    for r in per_stream {
        for (i, t) in r? {
            slots[i] = Some(t);
        }
    }
    slots
        .into_iter()
        .enumerate()
        .map(|(i, t)| t.ok_or_else(|| format!("inference job {i} did not run")))
        .collect()
}

/// libtorch's intra-op thread count, set for a scope. The setting is process-wide, which is
/// why only the host's single calling thread may use it.
struct IntraOpThreads(i32);

impl IntraOpThreads {
    fn set(n: i32) -> Self {
        let old = tch::get_num_threads();
        tch::set_num_threads(n);
        IntraOpThreads(old)
    }
}

impl Drop for IntraOpThreads {
    fn drop(&mut self) {
        tch::set_num_threads(self.0);
    }
}

/// Lets the stream threads share what they only read. libtorch tensors are safe to read from
/// several threads (atomic reference counts, no shared mutable state in a forward pass under
/// no_grad); tch marks them `Send` but not `Sync` only because it cannot know how they are used.
/// Only for the model: its forward pass has no interior mutability (the fused and packed weights
/// are built before, autocast and grad mode are thread-local).
pub struct ReadOnly<'a>(pub &'a TokenClassifier);

impl<'a> ReadOnly<'a> {
    /// Through a method, so closures capture the wrapper (Sync), not the field.
    pub fn get(&self) -> &'a TokenClassifier {
        self.0
    }
}

// SAFETY: see the type's doc; the streams only run inference forward passes through it.
unsafe impl Sync for ReadOnly<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_in_job_order_and_threads_restored() {
        let before = tch::get_num_threads();
        let out = run(2, 7, &|i| Ok(i * 10)).unwrap();
        assert_eq!(out, vec![0, 10, 20, 30, 40, 50, 60]);
        assert_eq!(tch::get_num_threads(), before);
    }

    #[test]
    fn errors_and_panics_are_returned() {
        let before = tch::get_num_threads();
        let err = run(2, 5, &|i| if i == 3 { Err("bad".into()) } else { Ok(i) }).unwrap_err();
        assert_eq!(err, "bad");
        let err = run(2, 5, &|i| -> Result<usize, String> {
            if i == 1 {
                panic!("boom")
            }
            Ok(i)
        })
        .unwrap_err();
        assert!(err.contains("boom"), "{err}");
        assert_eq!(tch::get_num_threads(), before);
    }

    #[test]
    fn stream_count() {
        assert_eq!(count(3, 1, 10, false), 1, "CPU only");
        assert_eq!(count(3, 1, 2, true), 2, "at most one per job");
        assert_eq!(count(1, 1, 10, true), 1);
        assert_eq!(count(3, 16, 10, true), 3, "asked");
        assert_eq!(count(0, 16, 10, true), 1, "auto: large batches alone");
        let threads = tch::get_num_threads().max(1) as usize;
        assert_eq!(
            count(0, 1, 10, true),
            threads.min(10),
            "auto: small batches"
        );
    }
}
