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

/// The files an input can stand for, in the order its first byte picks
/// them (as in the fuzz target).
const FILES: [&str; 10] = [
    "model.safetensors",
    "pytorch_model.bin",
    "config.json",
    "tokenizer.json",
    "modules.json",
    "1_Pooling/config.json",
    "sentence_bert_config.json",
    "tokenizer_config.json",
    "config_sentence_transformers.json",
    "2_Normalize/config.json",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let dest = to.join(path.file_name().unwrap());
        if path.is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).unwrap();
        }
    }
}

/// The damaged directory the fuzz target builds from `data`; None for an
/// empty input.
fn damaged(data: &[u8], dir: &Path) -> Option<()> {
    let (&selector, body) = data.split_first()?;
    let file = FILES[selector as usize % FILES.len()];
    let base = if file == "pytorch_model.bin" { "bert-pytorch-bin" } else { "bert-mean-sqrt-len-st6" };
    copy_tree(&root().join("tests/fixtures/models").join(base), dir);
    let target = dir.join(file);
    std::fs::create_dir_all(target.parent().unwrap()).unwrap();
    let content = match (selector & 0x80 != 0, std::fs::read(&target)) {
        (true, Ok(original)) if body.len() >= 2 && !original.is_empty() => {
            let at = usize::from(u16::from_le_bytes([body[0], body[1]])) * original.len() / 65536;
            let mut spliced = original[..at].to_vec();
            spliced.extend_from_slice(&body[2..]);
            spliced.extend_from_slice(original.get(at + body.len() - 2..).unwrap_or_default());
            spliced
        }
        _ => body.to_vec(),
    };
    std::fs::write(&target, content).unwrap();
    Some(())
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
        if damaged(&data, tmp.path()).is_none() {
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
