//! The packed CPU engine: the transformer forward pass on plain f32
//! buffers, with the texts of a batch packed end to end instead of padded
//! (attention runs per text, so no work is spent on padding and no mask is
//! needed). The architectures (`crate::core::arch`) are built from the
//! shared blocks in `blocks.rs`: linear layers packed once for the CPU
//! path's micro-kernel (`packed_linear.rs`), with bias, residual and
//! activation applied as their outputs are stored; attention and the
//! element-wise work use the vectorised kernels in `kernels.rs`. Every
//! parallel step runs on the team's threads (`team.rs`). Same weights,
//! same results (within 1e-5) as the reference engine.

mod bf16;
pub(crate) mod config;
pub(crate) mod blocks;
mod kernels;
mod linear_avx2;
mod linear_avx512;
mod linear_bf16_avx2;
mod linear_bf16_avx512;
mod linear_bf16_portable;
mod linear_int8_avx2;
mod linear_int8_portable;
mod linear_int8_vnni;
mod linear_portable;
mod packed_linear;
mod quantize;
pub(crate) mod scratch;
mod team;

use super::precision::Precision;
use super::tokenize::Tokens;
use blocks::Packing;
use team::team;

pub(crate) use team::Pass;

pub(crate) use team::{fail_thread_spawns_for_testing, shutdown, spin_seconds};

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

pub(crate) struct PackedModel(pub Box<dyn FastArchitecture>);

impl PackedModel {
    /// The hidden states of every token of every text, texts one after
    /// another: (Σ lengths) × hidden, row-major, on at most `threads`
    /// threads (default: the thread budget). With `others_waiting` (a
    /// micro-batch of several callers' texts) the pass runs on the team's
    /// leader thread; otherwise the calling thread works through it with
    /// the team's helpers (see `team`).
    pub fn forward(&self, texts: &[&Tokens], others_waiting: bool, threads: Option<usize>) -> Result<Vec<f32>, crate::core::Error> {
        let team = started_team()?;
        if others_waiting {
            team.pass_on_leader(threads, |pass| self.0.forward(texts, pass))
        } else {
            team.pass(threads, |pass| self.0.forward(texts, pass))
        }
    }
}
