//! The SparseEncoder (SPLADE: a masked-LM Transformer + SpladePooling)
//! against sentence-transformers 6.2's `SparseEncoder.encode`, on
//! directories written by its own `save()` (tests/reference/make_sparse_fixtures.py):
//! BERT (tied decoder, max), DistilBERT (tied, sum), XLM-RoBERTa (untied
//! decoder, max + log1p_relu), with `max_active_dims`, truncation, literal
//! special tokens, on both engines, one text at a time and in batches.
//! Same non-zero dimensions, cosine ≥ 0.99999, and every value within 1e-4
//! (relative above 1): a value sums log1p of up to max_seq_length logits of
//! magnitude ~10, each with float32 rounding of ~1e-6, so 1e-5 is below
//! float32's own noise for sum pooling.

mod common;

use common::root;
use sbert4j::{Engine, Precision, SparseEncoder, SparseOptions, SparseVector};
use serde::Deserialize;

const MODELS: [&str; 3] = ["splade-bert-max", "splade-distilbert-sum", "splade-xlmr-log1p"];

#[derive(Deserialize)]
struct Fixture {
    max_seq_length: usize,
    dimension: usize,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    options: Options,
    texts: Vec<String>,
    vectors: Vec<Vector>,
}

#[derive(Deserialize, Default)]
struct Options {
    max_active_dims: Option<usize>,
}

#[derive(Deserialize)]
struct Vector {
    indices: Vec<u32>,
    values: Vec<f32>,
}

fn fixture(name: &str) -> Fixture {
    let path = root().join(format!("tests/fixtures/{name}.reference.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn dir(name: &str) -> std::path::PathBuf {
    root().join("tests/fixtures/models").join(name)
}

fn check(got: &SparseVector, want: &Vector, what: &str) {
    assert_eq!(got.indices, want.indices, "{what}: non-zero dimensions");
    let dot: f64 = got.values.iter().zip(&want.values).map(|(a, b)| *a as f64 * *b as f64).sum();
    let norm = |v: &[f32]| v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let cos = dot / (norm(&got.values) * norm(&want.values));
    assert!(cos >= 0.99999, "{what}: cosine {cos}");
    for (a, b) in got.values.iter().zip(&want.values) {
        assert!((a - b).abs() <= 1e-4 * b.abs().max(1.0), "{what}: {a} vs {b}");
    }
}

#[test]
fn every_case_matches_sentence_transformers() {
    for name in MODELS {
        let fixture = fixture(name);
        for case in &fixture.cases {
            for engine in [Engine::Reference, Engine::Fast] {
                let options = SparseOptions { engine, max_active_dims: case.options.max_active_dims, batch_size: 5, ..Default::default() };
                let encoder = SparseEncoder::open(dir(name), options).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(encoder.dimension(), fixture.dimension);
                assert_eq!(encoder.max_seq_length(), fixture.max_seq_length);
                for (i, text) in case.texts.iter().enumerate() {
                    let what = format!("{name} / {} / {engine:?} / text {i} {:?}", case.name, text.chars().take(30).collect::<String>());
                    check(&encoder.encode(text).unwrap(), &case.vectors[i], &what);
                }
                let batch = encoder.encode_batch(&case.texts, None).unwrap();
                for (i, (got, want)) in batch.iter().zip(&case.vectors).enumerate() {
                    check(got, want, &format!("{name} / {} / {engine:?} / batch text {i}", case.name));
                }
                if let Some(k) = case.options.max_active_dims {
                    assert!(batch.iter().all(|v| v.indices.len() <= k));
                }
            }
        }
    }
}

#[test]
fn dimensions_are_named_by_the_vocabulary() {
    let encoder = SparseEncoder::open(dir("splade-bert-max"), SparseOptions::default()).unwrap();
    assert_eq!(encoder.token(2).as_deref(), Some("[CLS]"));
    assert_eq!(encoder.token(encoder.dimension() + 5), None);
}

#[test]
fn bad_input_is_an_error_not_a_crash() {
    let encoder = SparseEncoder::open(dir("splade-bert-max"), SparseOptions::default()).unwrap();
    // An empty text still has [CLS] [SEP]; a huge one is truncated.
    assert!(!encoder.encode("").unwrap().indices.is_empty());
    assert!(!encoder.encode(&"word ".repeat(100_000)).unwrap().indices.is_empty());
    let refused = |o: SparseOptions| SparseEncoder::open(dir("splade-bert-max"), o).err().expect("accepted").to_string();
    assert!(refused(SparseOptions { max_active_dims: Some(0), ..Default::default() }).contains("max_active_dims"));
    assert!(refused(SparseOptions { engine: Engine::Reference, precision: Precision::Bf16, ..Default::default() }).contains("fp32"));
    assert!(refused(SparseOptions { max_seq_length: Some(100_000), ..Default::default() }).contains("outside"));
    // A sentence-transformers (dense) directory is not a SparseEncoder.
    let err = SparseEncoder::open(dir("prompts-st6"), SparseOptions::default()).err().expect("accepted").to_string();
    assert!(err.contains("Pooling"), "{err}");
}

/// BF16 and INT8 keep the strongest dimensions: the top 10 of every text
/// are among the fp32 vector's non-zero ones, cosine ≥ 0.99.
#[test]
fn reduced_precisions_stay_close() {
    let fixture = fixture("splade-bert-max");
    let texts = &fixture.cases[0].texts;
    for precision in [Precision::Bf16, Precision::Int8] {
        let encoder = SparseEncoder::open(dir("splade-bert-max"), SparseOptions { precision, ..Default::default() }).unwrap();
        for (v, want) in encoder.encode_batch(texts, None).unwrap().iter().zip(&fixture.cases[0].vectors) {
            let dense = |idx: &[u32], val: &[f32]| {
                let mut d = vec![0f64; fixture.dimension];
                idx.iter().zip(val).for_each(|(&i, &x)| d[i as usize] = x as f64);
                d
            };
            let (a, b) = (dense(&v.indices, &v.values), dense(&want.indices, &want.values));
            let dot: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            let cos = dot / (a.iter().map(|x| x * x).sum::<f64>().sqrt() * b.iter().map(|x| x * x).sum::<f64>().sqrt());
            assert!(cos >= 0.99, "{precision:?}: cosine {cos}");
        }
    }
}
