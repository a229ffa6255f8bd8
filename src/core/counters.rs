//! What one encoder has done so far: texts, tokens, truncated texts,
//! forward passes and the time they took. Counted once per pass, with
//! relaxed atomics (a few adds per pass, never per token).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::core::tokenize::Tokens;

/// Running totals of one encoder's forward passes.
#[derive(Default)]
pub(crate) struct Counters {
    texts: AtomicU64,
    tokens: AtomicU64,
    truncated: AtomicU64,
    passes: AtomicU64,
    nanos: AtomicU64,
}

/// A reading of [`Counters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// Texts encoded.
    pub texts: u64,
    /// Tokens that went through the model (special and prompt tokens included, after truncation).
    pub tokens: u64,
    /// Texts cut at the maximum sequence length.
    pub truncated: u64,
    /// Forward passes run.
    pub passes: u64,
    /// Nanoseconds those passes took (wall time).
    pub nanos: u64,
}

impl Counters {
    /// Counts one pass over `batch` that took `took`.
    pub(crate) fn count_pass(&self, batch: &[&Tokens], took: Duration) {
        let tokens: usize = batch.iter().map(|t| t.len()).sum();
        let truncated = batch.iter().filter(|t| t.truncated).count();
        let add = |counter: &AtomicU64, n: u64| counter.fetch_add(n, Ordering::Relaxed);
        add(&self.texts, batch.len() as u64);
        add(&self.tokens, tokens as u64);
        add(&self.truncated, truncated as u64);
        add(&self.passes, 1);
        add(&self.nanos, u64::try_from(took.as_nanos()).unwrap_or(u64::MAX));
    }

    pub(crate) fn snapshot(&self) -> CounterSnapshot {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        CounterSnapshot {
            texts: read(&self.texts),
            tokens: read(&self.tokens),
            truncated: read(&self.truncated),
            passes: read(&self.passes),
            nanos: read(&self.nanos),
        }
    }
}
