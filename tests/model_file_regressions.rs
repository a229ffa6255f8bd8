//! Replays the inputs of the `model_files` fuzz target (fuzz/fuzz_targets/
//! model_files.rs): its seeds (fuzz/seeds/model_files) and every input that
//! once made it fail (tests/fuzz_regressions/model_files), exactly as the
//! target builds a damaged model directory from them. Opening must give a
//! model or an error, and no single allocation may exceed a bound derived
//! from the files' sizes (a counting allocator watches: without that
//! bound, a 4-byte length in a pickle asked for gigabytes).

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use sbert4j::{Encoder, EncoderOptions};

/// The largest single allocation seen since the last reset.
static LARGEST: AtomicUsize = AtomicUsize::new(0);

struct Watching;

// SAFETY: forwards every call to the system allocator unchanged; only
// records the size asked for.
unsafe impl GlobalAlloc for Watching {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's layout contract is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: as above; ptr was allocated by System through us.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Watching = Watching;

#[path = "common/damaged_model.rs"]
mod damaged_model;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Bytes of every file under `dir`.
fn size_of_tree(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            if path.is_dir() { size_of_tree(&path) } else { path.metadata().unwrap().len() }
        })
        .sum()
}

#[test]
fn every_seed_and_past_failure_opens_or_fails_cleanly_within_bounded_memory() {
    let mut inputs: Vec<PathBuf> = Vec::new();
    for corpus in ["fuzz/seeds/model_files", "tests/fuzz_regressions/model_files"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(corpus)).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        assert!(!files.is_empty(), "{corpus} is empty");
        inputs.extend(files);
    }
    let (mut opened, mut refused) = (0, 0);
    for input in &inputs {
        let data = std::fs::read(input).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        if !damaged_model::build(&data, &root().join("tests/fixtures/models"), tmp.path()).unwrap() {
            continue;
        }
        // Generous: the vocabulary's embedding table is the largest tensor
        // of these fixtures, and every file is read whole at most a few times.
        let bound = 64 * size_of_tree(tmp.path()) as usize + (64 << 20);
        LARGEST.store(0, Ordering::Relaxed);
        match Encoder::open(tmp.path(), EncoderOptions { batch_size: 2, ..Default::default() }) {
            Ok(encoder) => {
                encoder.encode("a text after the damage").map(drop).unwrap_or_default();
                opened += 1;
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                refused += 1;
            }
        }
        let largest = LARGEST.load(Ordering::Relaxed);
        assert!(largest <= bound, "{}: an allocation of {largest} bytes (bound {bound})", input.display());
    }
    eprintln!("model-file inputs: {opened} opened, {refused} refused cleanly");
    assert!(opened > 0 && refused > 0, "the corpus exercises both outcomes");
}
