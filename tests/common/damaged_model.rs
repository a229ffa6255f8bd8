//! How the `model_files` fuzz target (fuzz/fuzz_targets/model_files.rs)
//! turns an input into a damaged model directory; shared with
//! tests/model_file_regressions.rs, which replays its inputs.

use std::path::Path;

/// The files an input can stand for, in the order its first byte picks them.
pub const FILES: [&str; 10] = [
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

/// Copies every file of `from` into `to`.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let path = entry?.path();
        let dest = to.join(path.file_name().expect("a file name"));
        if path.is_dir() {
            std::fs::create_dir_all(&dest)?;
            copy_tree(&path, &dest)?;
        } else {
            std::fs::copy(&path, &dest)?;
        }
    }
    Ok(())
}

/// Builds in `dir` the model directory `data` stands for: a fixture model
/// from `fixtures` (tests/fixtures/models) with the file the first byte
/// picks replaced by the rest of the input or, when the first byte's high
/// bit is set, with the rest spliced into it (at an offset its first two
/// bytes choose, so headers stay mostly valid and the damage lands deeper).
/// False for an empty input.
pub fn build(data: &[u8], fixtures: &Path, dir: &Path) -> std::io::Result<bool> {
    let Some((&selector, body)) = data.split_first() else { return Ok(false) };
    let file = FILES[selector as usize % FILES.len()];
    // The pickle weights belong to the pytorch_model.bin fixture.
    let base = if file == "pytorch_model.bin" { "bert-pytorch-bin" } else { "bert-mean-sqrt-len-st6" };
    copy_tree(&fixtures.join(base), dir)?;
    let target = dir.join(file);
    std::fs::create_dir_all(target.parent().expect("a parent"))?;
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
    std::fs::write(&target, content)?;
    Ok(true)
}
