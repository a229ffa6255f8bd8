//! Shared by the Rust integration tests: the default model's location and
//! the sentence-transformers reference fixtures.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The default model; the tests fail (not skip) when it has not been fetched.
pub fn default_model() -> PathBuf {
    let dir = root().join("models/all-MiniLM-L6-v2");
    assert!(
        dir.join("model.safetensors").is_file(),
        "{} is missing: run `python3 models/fetch_default_model.py` (the Gradle build does this for you)",
        dir.display()
    );
    dir
}

#[derive(Deserialize)]
pub struct Fixture {
    /// The truncation length sentence-transformers resolved (newer fixtures).
    #[serde(default)]
    pub max_seq_length: Option<usize>,
    pub cases: Vec<Case>,
}

#[derive(Deserialize)]
pub struct Case {
    pub name: String,
    /// Files that differ from the shipped model directory.
    pub files: serde_json::Map<String, serde_json::Value>,
    /// The `encode` arguments the case was computed with.
    #[serde(default)]
    pub options: CaseOptions,
    pub texts: Vec<String>,
    pub vectors: Vec<Vec<f32>>,
    /// Per text: tokens that went through the model (newer fixtures) ...
    #[serde(default)]
    pub tokens: Vec<usize>,
    /// ... tokens before truncation, by the `tokenizers` library ...
    #[serde(default)]
    pub token_counts: Vec<usize>,
    /// ... and whether the text was truncated.
    #[serde(default)]
    pub truncated: Vec<bool>,
}

/// `SentenceTransformer.encode` arguments of a case.
#[derive(Deserialize, Default, Debug)]
pub struct CaseOptions {
    pub prompt_name: Option<String>,
    pub prompt: Option<String>,
    pub truncate_dim: Option<usize>,
    pub normalize_embeddings: Option<bool>,
}

pub fn fixture(name: &str) -> Fixture {
    let path = root().join("tests/fixtures").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Rebuilds the model directory a case was computed on: links to every
/// file of `base`, with the case's own files written over them.
pub fn materialize(base: &Path, case: &Case, into: &Path) -> PathBuf {
    if case.files.is_empty() {
        return base.to_path_buf();
    }
    link_tree(base, base, into);
    for (rel, content) in &case.files {
        let dest = into.join(rel);
        let _ = std::fs::remove_file(&dest);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(&dest, serde_json::to_vec_pretty(content).unwrap()).unwrap();
    }
    into.to_path_buf()
}

fn link_tree(base: &Path, dir: &Path, into: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let dest = into.join(path.strip_prefix(base).unwrap());
        if path.is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            link_tree(base, &path, into);
        } else {
            std::os::unix::fs::symlink(&path, &dest).unwrap();
        }
    }
}

pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "vector lengths differ");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

/// Asserts parity with a reference vector: cosine ≥ 0.99999 and
/// max |difference| ≤ `tol`.
pub fn assert_close(got: &[f32], want: &[f32], tol: f32, what: &str) {
    let diff = max_abs_diff(got, want);
    let cos = cosine(got, want);
    assert!(cos >= 0.99999 && diff <= tol, "{what}: cosine {cos}, max |difference| {diff} (allowed {tol})");
}
