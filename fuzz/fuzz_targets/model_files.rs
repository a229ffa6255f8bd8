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

/// The files an input can stand for, in the order its first byte picks them.
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

fn fixture(name: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/models")).join(name)
}

/// Copies every file of `from` into `to`.
fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("fixture") {
        let path = entry.expect("fixture").path();
        let dest = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            std::fs::create_dir_all(&dest).expect("tmp");
            copy_tree(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).expect("tmp");
        }
    }
}

static RUN: AtomicU64 = AtomicU64::new(0);

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let file = FILES[selector as usize % FILES.len()];
    // The pickle weights belong to the pytorch_model.bin fixture.
    let base = fixture(if file == "pytorch_model.bin" { "bert-pytorch-bin" } else { "bert-mean-sqrt-len-st6" });
    let dir = std::env::temp_dir().join(format!(
        "sbert4j-fuzz-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("tmp");
    copy_tree(&base, &dir);
    let target = dir.join(file);
    std::fs::create_dir_all(target.parent().expect("parent")).expect("tmp");
    // The selector's high bit: splice the body into the original at an
    // offset the body's first bytes choose, instead of replacing the file.
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
    std::fs::write(&target, content).expect("tmp");
    if let Ok(encoder) = Encoder::open(&dir, EncoderOptions { batch_size: 2, ..Default::default() }) {
        let _ = encoder.encode("a text after the damage");
    }
    let _ = std::fs::remove_dir_all(&dir);
});
