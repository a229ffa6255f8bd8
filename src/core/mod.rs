//! The pure-Rust core: everything needed to turn text into sentence
//! embeddings, with no knowledge of JNI.

mod arch;
mod batcher;
mod counters;
mod cpu;
mod cross;
mod dense_module;
mod encoder;
mod engine;
mod error;
mod heap;
mod model;
mod pooling;
mod precision;
mod registry;
mod st_config;
mod sparse;
mod static_embedding;
mod tokenize;

pub use counters::CounterSnapshot;
pub use cross::{CrossEncoder, CrossEncoderOptions, ScoreActivation};
pub use encoder::{Encoder, EncoderOptions, Prompt, TextInfo};
pub use sparse::{SparseEncoder, SparseOptions, SparseVector};
pub use error::{Error, Result};
pub use pooling::PoolingMode;
pub use precision::Precision;
pub use engine::Engine;
pub use registry::loaded_model_count;

pub use cpu::config::{CpuPath, Settings as CpuSettings};

/// Fixes the process's CPU path (`auto|avx512|avx2|portable`) and thread
/// budget (`None`: the `SBERT4J_CPU` / `SBERT4J_THREADS` environment
/// variables, then the defaults: the best path, every CPU this process may
/// use); later calls must ask for the same. See `cpu::config`.
pub fn configure_cpu(path: Option<&str>, threads: Option<&str>) -> Result<CpuSettings> {
    cpu::config::configure(path, threads).map_err(Error::Platform)
}

/// The process's CPU path and thread budget, fixing them from the
/// environment if nothing fixed them yet.
pub fn cpu_settings() -> Result<CpuSettings> {
    cpu::config::current().map_err(Error::Platform)
}

/// Test hook: thread spawns of the fast engine's team, when it starts on
/// the calling thread, fail (`refused` of them, after `allowed`), as in a
/// process out of threads. The pass fails with `Error::Platform`; the
/// next one starts the team again.
#[doc(hidden)]
pub fn fail_thread_spawns_for_testing(allowed: usize, refused: usize) {
    cpu::fail_thread_spawns_for_testing(allowed, refused);
}

/// CPU time, in seconds, the fast engine's threads have spent spinning
/// (waiting for each other between the steps of a pass) since the process
/// started (`bench/rust/idle_cpu.rs` reports it against the compute).
pub fn spin_seconds() -> f64 {
    cpu::spin_seconds()
}

/// Forward passes the fast engine has run as lanes (each thread of the
/// pass running a share of the batch's texts through the whole model by
/// itself) since the process started.
#[doc(hidden)]
pub fn lane_passes() -> u64 {
    cpu::lane_passes()
}

/// The fast engine's thread team, as its counters see it: threads of the
/// passes under way now (callers and crews), the most there ever were at
/// once, its workers parked now, and its workers in all (zeros before its
/// first pass). See `cpu/team.rs`.
#[doc(hidden)]
pub fn team_counters() -> (usize, usize, usize, usize) {
    let c = cpu::team_counters();
    (c.running, c.most_running, c.parked, c.workers)
}

/// Stops the fast engine's helper threads (before the library is
/// unloaded); passes started afterwards run on their caller's thread alone.
pub fn shutdown_threads() {
    cpu::shutdown();
}
