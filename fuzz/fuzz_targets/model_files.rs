//! Fuzzes model loading with damaged or hostile files: a small fixture
//! model directory (safetensors weights, or a `pytorch_model.bin` pickle)
//! with one of its files replaced by the input, or the input spliced into
//! it (so headers stay mostly valid and the damage lands deeper). Opening
//! must give a model or an error, never a crash, an abort or a hang; an
//! opened model must encode a text. Allocations are bounded by the run's
//! `-malloc_limit_mb` (see docs/reliability.md). Run:
//!
//!     cd fuzz && cargo +nightly fuzz run model_files seeds/model_files -- -max_total_time=1800 -malloc_limit_mb=512
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use libfuzzer_sys::fuzz_target;
use sbert4j::{Encoder, EncoderOptions};

#[path = "../../tests/common/damaged_model.rs"]
mod damaged_model;

fn fixtures() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/models")).to_path_buf()
}

static RUN: AtomicU64 = AtomicU64::new(0);

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("sbert4j-fuzz-{}-{}", std::process::id(), RUN.fetch_add(1, Ordering::Relaxed)));
    std::fs::create_dir_all(&dir).expect("tmp");
    if damaged_model::build(data, &fixtures(), &dir).expect("tmp") {
        if let Ok(encoder) = Encoder::open(&dir, EncoderOptions { batch_size: 2, ..Default::default() }) {
            let _ = encoder.encode("a text after the damage");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
});
