//! The packed CPU engine: the transformer forward pass on plain f32
//! buffers, with the texts of a batch packed end to end instead of padded
//! (attention runs per text, so no work is spent on padding and no mask is
//! needed). The architectures (`crate::core::arch`) are built from the
//! shared blocks in `blocks.rs`: linear layers packed once for the CPU
//! path's micro-kernels (`matmul/`, one file per precision and
//! instruction set), with bias, residual and
//! activation applied as their outputs are stored; attention and the
//! element-wise work use the vectorised kernels in `kernels.rs`. Every
//! parallel step runs on the team's threads (`team.rs`). Same weights,
//! same results (within 1e-5) as the reference engine.

pub(crate) mod config;
pub(crate) mod blocks;
mod kernels;
mod matmul;
pub(crate) mod scratch;
mod team;

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;

use super::precision::Precision;
use super::tokenize::Tokens;
use blocks::Packing;
use team::team;

pub(crate) use team::Pass;

pub(crate) use team::{counters as team_counters, fail_thread_spawns_for_testing, shutdown, spin_seconds};

/// The team, or why its threads could not be started (the next call tries
/// again).
fn started_team() -> Result<&'static team::Team, crate::core::Error> {
    team().map_err(|e| {
        crate::core::Error::Platform(format!("could not start sbert4j's compute threads: {e} (the next call tries again)"))
    })
}

/// An architecture's forward pass on the fast engine (see `crate::core::arch`).
pub(crate) trait FastArchitecture: Send + Sync {
    /// The hidden states of every token of every text, texts one after
    /// another: (Σ lengths) × hidden, row-major.
    /// Fails only where reading the model's file does (an embedding table
    /// read in place, from a file changed since).
    fn forward(&self, texts: &[&Tokens], pass: &Pass) -> Result<Vec<f32>, crate::core::Error>;
}

/// How this process packs a model's linear layers: its CPU path (fixed now
/// if nothing fixed it yet; see `config`) and the model's precision.
pub(crate) fn packing(precision: Precision) -> Result<Packing, crate::core::Error> {
    let path = config::current().map_err(crate::core::Error::Platform)?.path;
    Ok(Packing { path, precision })
}

/// `f` over `items`, in order, on the team's threads (at most `threads`),
/// as one pass: nothing else runs on them meanwhile.
pub(crate) fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    threads: Option<usize>,
    f: impl Fn(&T) -> R + Sync,
) -> Result<Vec<R>, crate::core::Error> {
    if items.len() < 2 {
        return Ok(items.iter().map(f).collect());
    }
    Ok(started_team()?.pass(threads, |pass| pass.concat_ranges(items.len(), |first, end| items[first..end].iter().map(&f).collect())))
}

pub(crate) struct PackedModel {
    arch: Box<dyn FastArchitecture>,
    hidden: usize,
    intermediate: usize,
    /// Floats of output a pass holds per text, and at most besides (a head
    /// on the encoder: `with_output`).
    per_text: usize,
    fixed: usize,
}

impl PackedModel {
    /// `arch`, packed, for a model of this hidden and feed-forward size
    /// (`config.json`'s), which bound what its passes hold at once.
    pub fn new(arch: Box<dyn FastArchitecture>, hidden: usize, intermediate: usize) -> Self {
        Self { arch, hidden, intermediate, per_text: 0, fixed: 0 }
    }

    /// The same, its passes holding besides `per_text` floats per text and
    /// at most `fixed` more (a head's output and work, as SPLADE's).
    pub fn with_output(self, per_text: usize, fixed: usize) -> Self {
        Self { per_text, fixed, ..self }
    }

    /// The encoder itself (to build a model with a head on it).
    pub fn into_arch(self) -> Box<dyn FastArchitecture> {
        self.arch
    }

    /// The most floats a pass over `texts` on `threads` threads holds at
    /// once, over-estimated: per token, the layer's input and output, its
    /// query-key-value rows, context, attention output and feed-forward
    /// activations (post-norm: 7 hidden + 1 inner; ModernBERT's gated
    /// feed-forward: 9 hidden + 3 inner), and per thread, the attention's
    /// scratch for the longest text (its scores, keys and output).
    fn pass_floats(&self, texts: &[&Tokens], threads: usize) -> usize {
        let total: usize = texts.iter().map(|t| t.len()).sum();
        let longest = texts.iter().map(|t| t.len()).max().unwrap_or(0);
        let per_token = 9usize.saturating_mul(self.hidden).saturating_add(3usize.saturating_mul(self.intermediate));
        let attention = longest.next_multiple_of(16).saturating_mul(kernels::QUERY_BLOCK + 2 * self.hidden);
        total
            .saturating_mul(per_token)
            .saturating_add(threads.saturating_mul(attention))
            .saturating_add(texts.len().saturating_mul(self.per_text))
            .saturating_add(self.fixed)
    }

    /// The hidden states of every token of every text, texts one after
    /// another: (Σ lengths) × hidden, row-major, on at most `threads`
    /// threads (default: the thread budget). With `others_waiting` (a
    /// micro-batch of several callers' texts) the pass runs on the team's
    /// leader thread; otherwise the calling thread works through it with
    /// the team's helpers (see `team`).
    /// A batch with enough tokens for every thread of the pass runs as
    /// lanes (see `lanes`).
    ///
    /// Fails, before it starts, if the memory the pass needs at most
    /// cannot be reserved (`scratch::reserve`).
    pub fn forward(&self, texts: &[&Tokens], others_waiting: bool, threads: Option<usize>) -> Result<Vec<f32>, crate::core::Error> {
        let team = started_team()?;
        let budget = config::settings().threads;
        scratch::reserve(self.pass_floats(texts, threads.unwrap_or(budget).clamp(1, budget))).map_err(|needed| {
            let tokens: usize = texts.iter().map(|t| t.len()).sum();
            crate::core::Error::Platform(format!(
                "out of memory: a forward pass over {} texts ({tokens} tokens) needs up to {} MiB, which this process \
                 could not reserve (encode fewer or shorter texts at once, or give the process more memory)",
                texts.len(),
                needed.div_ceil(1 << 20)
            ))
        })?;
        let run = |pass: &Pass| match lanes(texts, pass.threads()) {
            Some(bounds) => self.forward_in_lanes(texts, &bounds, pass),
            None => self.arch.forward(texts, pass),
        };
        if others_waiting {
            team.pass_on_leader(threads, run)
        } else {
            team.pass(threads, run)
        }
    }

    /// One step of `pass`: thread t runs the texts `bounds[t]..bounds[t + 1]`
    /// through the whole model by itself; their hidden states are then
    /// put one after another, as one pass over all the texts gives them.
    fn forward_in_lanes(&self, texts: &[&Tokens], bounds: &[usize], pass: &Pass) -> Result<Vec<f32>, crate::core::Error> {
        LANE_PASSES.fetch_add(1, Ordering::Relaxed);
        type Lane = Mutex<Option<Result<Vec<f32>, crate::core::Error>>>;
        let lanes: Vec<Lane> = bounds[1..].iter().map(|_| Mutex::new(None)).collect();
        pass.run(&|t| {
            if let Some(lane) = lanes.get(t) {
                *lane.lock() = Some(self.arch.forward(&texts[bounds[t]..bounds[t + 1]], &pass.alone()));
            }
        });
        let mut hidden = Vec::new();
        for lane in lanes {
            // `pass.run` returns once every thread has left its step, so each lane holds its result.
            let lane = lane.into_inner().unwrap_or_else(|| Err(crate::core::Error::Internal("a lane of the pass did not run".into())))?;
            if hidden.is_empty() {
                hidden = lane;
            } else {
                hidden.extend_from_slice(&lane);
            }
        }
        Ok(hidden)
    }
}

/// The fewest tokens worth a lane: a lane reads every weight of the model
/// for its own rows, so a lane of a few short texts would spend its time
/// on memory rather than arithmetic.
const MIN_LANE_TOKENS: usize = 64;

/// Batches run as lanes so far (`lane_passes`).
static LANE_PASSES: AtomicU64 = AtomicU64::new(0);

/// Forward passes run as lanes since the process started.
pub(crate) fn lane_passes() -> u64 {
    LANE_PASSES.load(Ordering::Relaxed)
}

/// Where a batch splits into lanes, one per thread of the pass, or `None`
/// for one pass on all its threads: text indices `0 = b₀ < b₁ < … = len`,
/// lane t taking texts `b_t..b_{t+1}`, with about the same number of
/// tokens each and at least `MIN_LANE_TOKENS`.
///
/// A lane is the whole model on one thread for its texts. With several
/// threads in one pass, every layer, attention and norm is a step that all
/// of them share and wait for each other at the end of (a few dozen per
/// layer): the slowest thread sets the pace of each step, and a thread
/// preempted by anything else on its core stalls the others. Lanes meet
/// once, at the end. Measured on a 2-core Zen 4 (docs/measurements/2026-12-03-25e86d7-bench.md),
/// batches of 32 short Chinese texts on the 12-layer stand-in of the
/// seed's model: BF16 1.12×, INT8 1.18× the texts per second of one pass
/// on both threads, FP32 unchanged; all-MiniLM-L6-v2 unchanged.
/// (More lanes than threads, taken by whichever thread is free, were
/// tried: no faster on all-MiniLM-L6-v2, 8% slower in INT8 on the
/// stand-in, its lanes of 96 tokens reading the weights twice as often.)
fn lanes(texts: &[&Tokens], threads: usize) -> Option<Vec<usize>> {
    let total: usize = texts.iter().map(|t| t.len()).sum();
    if threads < 2 || texts.len() < threads || total < threads * MIN_LANE_TOKENS {
        return None;
    }
    split_tokens(texts, total, threads)
}

/// `texts` cut into `count` runs of about `total / count` tokens each (each
/// cut at the text boundary nearest its share), if every run has at least
/// `MIN_LANE_TOKENS`.
fn split_tokens(texts: &[&Tokens], total: usize, count: usize) -> Option<Vec<usize>> {
    let mut bounds = vec![0];
    let (mut seen, mut i) = (0, 0);
    for k in 1..count {
        let target = k * total / count;
        // Take texts while that brings the run closer to its share, leaving
        // a text for each run still to come.
        while i < texts.len() - (count - k) && (seen + texts[i].len()).abs_diff(target) < seen.abs_diff(target) {
            seen += texts[i].len();
            i += 1;
        }
        if i == bounds[k - 1] {
            seen += texts[i].len();
            i += 1;
        }
        bounds.push(i);
    }
    bounds.push(texts.len());
    let run = |w: &[usize]| texts[w[0]..w[1]].iter().map(|t| t.len()).sum::<usize>();
    bounds.windows(2).all(|w| run(w) >= MIN_LANE_TOKENS).then_some(bounds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lens: &[usize]) -> Vec<Tokens> {
        lens.iter().map(|&n| Tokens { ids: vec![1; n], type_ids: vec![0; n], truncated: false, pooling_skip: 0 }).collect()
    }

    fn bounds(lens: &[usize], threads: usize) -> Option<Vec<usize>> {
        let texts = texts(lens);
        lanes(&texts.iter().collect::<Vec<_>>(), threads)
    }

    struct Unreachable;
    impl FastArchitecture for Unreachable {
        fn forward(&self, _: &[&Tokens], _: &Pass) -> Result<Vec<f32>, crate::core::Error> {
            panic!("the pass ran although its memory could not be reserved")
        }
    }

    #[test]
    fn a_pass_whose_memory_cannot_be_had_is_an_error_before_it_runs() {
        // A hidden size no allocator can give a row of (the reservation
        // fails as it would under `ulimit -v`; `PassMemoryTest` does that).
        let model = PackedModel::new(Box::new(Unreachable), usize::MAX / 64, 8);
        let texts = texts(&[3, 2]);
        let texts: Vec<&Tokens> = texts.iter().collect();
        for others_waiting in [false, true] {
            let error = model.forward(&texts, others_waiting, None).expect_err("out of memory");
            let message = error.to_string();
            assert!(matches!(error, crate::core::Error::Platform(_)), "{error:?}");
            assert!(message.starts_with("out of memory: a forward pass over 2 texts (5 tokens) needs up to"), "{message}");
        }
    }

    #[test]
    fn lanes_split_the_tokens_evenly_at_text_boundaries() {
        assert_eq!(bounds(&[12; 16], 2), Some(vec![0, 8, 16]));
        assert_eq!(bounds(&[12; 18], 3), Some(vec![0, 6, 12, 18]));
        assert_eq!(bounds(&[23; 32], 4), Some(vec![0, 8, 16, 24, 32]));
        // Longest first, as encode_batch sorts them: each cut nearest its share.
        assert_eq!(bounds(&[100, 60, 40, 30, 20, 10], 2), Some(vec![0, 1, 6]));
        // Too few tokens for a lane per thread, or one text too long to share: one pass.
        assert_eq!(bounds(&[12; 10], 2), None);
        assert_eq!(bounds(&[12; 16], 3), None);
        assert_eq!(bounds(&[300, 10, 10], 2), None);
        assert_eq!(bounds(&[12; 40], 1), None);
        // A lane per thread, each at least one text and 64 tokens.
        for lens in [vec![64, 64], vec![200; 3], vec![7; 100], std::iter::once(128).chain([1; 120]).collect()] {
            for threads in 2..=4 {
                if let Some(b) = bounds(&lens, threads) {
                    assert_eq!(b.len() - 1, threads, "{b:?}");
                    assert!(b.windows(2).all(|w| w[0] < w[1] && lens[w[0]..w[1]].iter().sum::<usize>() >= MIN_LANE_TOKENS), "{lens:?}: {b:?}");
                    assert_eq!((b[0], *b.last().unwrap()), (0, lens.len()));
                }
            }
        }
    }
}
