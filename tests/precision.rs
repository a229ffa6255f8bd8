//! BF16 and INT8 quality, measured against sentence-transformers' float32
//! vectors (tests/reference/make_precision_reference.py), not against our
//! own fp32: the default model on every multilingual fixture text and on
//! the 1000 benchmark sentences (minimum cosine, and each sentence's 10
//! nearest neighbours among the 1000 against sentence-transformers'
//! neighbours), and a looser check on every fixture architecture. `gradle
//! test` runs this under each forced CPU path too (`SBERT4J_CPU`), so every
//! kernel meets the same bounds.

mod common;

use common::*;
use sbert4j::core::cpu_settings;
use sbert4j::{Encoder, EncoderOptions, Precision};
use serde::Deserialize;

/// (precision, least cosine to sentence-transformers, least mean neighbour overlap)
const BOUNDS: [(Precision, f64, f64); 2] = [(Precision::Bf16, 0.999, 0.99), (Precision::Int8, 0.99, 0.95)];
const NEIGHBOURS: usize = 10;

#[derive(Deserialize)]
struct Multilingual {
    texts: Vec<String>,
    vectors: Vec<Vec<f32>>,
}

#[derive(Deserialize)]
struct Neighbours {
    dimension: usize,
    neighbours: Vec<Vec<usize>>,
}

fn precision_fixture(name: &str) -> std::path::PathBuf {
    root().join("tests/fixtures/precision").join(name)
}

fn open(dir: impl AsRef<std::path::Path>, precision: Precision) -> Encoder {
    let encoder = Encoder::open(dir, EncoderOptions { precision, ..Default::default() }).unwrap();
    assert_eq!(encoder.precision(), precision);
    encoder
}

fn f16_to_f32(h: u16) -> f32 {
    let (sign, exp, frac) = ((h >> 15) as u32, ((h >> 10) & 0x1f) as i32, (h & 0x3ff) as f32);
    let magnitude = match exp {
        0 => frac * 2f32.powi(-24),
        31 => f32::INFINITY,
        _ => (1.0 + frac / 1024.0) * 2f32.powi(exp - 15),
    };
    if sign == 1 { -magnitude } else { magnitude }
}

fn unit(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter().map(|x| x / norm).collect()
}

/// Each row's `NEIGHBOURS` nearest other rows by cosine, best first.
fn nearest(vectors: &[Vec<f32>]) -> Vec<Vec<usize>> {
    let units: Vec<Vec<f32>> = vectors.iter().map(|v| unit(v)).collect();
    (0..units.len())
        .map(|i| {
            let mut sims: Vec<(f32, usize)> = (0..units.len())
                .filter(|&j| j != i)
                .map(|j| (units[i].iter().zip(&units[j]).map(|(a, b)| a * b).sum(), j))
                .collect();
            sims.sort_by(|a, b| b.0.total_cmp(&a.0));
            sims.iter().take(NEIGHBOURS).map(|&(_, j)| j).collect()
        })
        .collect()
}

fn path() -> String {
    cpu_settings().map(|s| s.path.to_string()).unwrap_or_default()
}

#[test]
fn every_multilingual_text_stays_close_to_sentence_transformers() {
    let text = std::fs::read_to_string(precision_fixture("multilingual.all-MiniLM-L6-v2.json")).unwrap();
    let reference: Multilingual = serde_json::from_str(&text).unwrap();
    assert_eq!(reference.texts.len(), 22);
    for (precision, least, _) in BOUNDS {
        let encoder = open(default_model(), precision);
        let got = encoder.encode_batch(&reference.texts).unwrap();
        let (worst, at) = got.iter().zip(&reference.vectors).map(|(g, w)| cosine(g, w)).zip(0..).fold((1.0, 0), |a, b| if b.0 < a.0 { b } else { a });
        eprintln!("{precision} ({} path): multilingual min cosine {worst:.6} (text {at})", path());
        assert!(worst >= least, "{precision}: cosine {worst} < {least} on {:?}", reference.texts[at]);
    }
}

#[test]
fn the_benchmark_corpus_keeps_its_vectors_and_neighbours() {
    let sentences: Vec<String> = std::fs::read_to_string(root().join("bench/sentences.txt")).unwrap().lines().map(str::to_string).collect();
    let reference: Neighbours = serde_json::from_str(&std::fs::read_to_string(precision_fixture("corpus.all-MiniLM-L6-v2.neighbours.json")).unwrap()).unwrap();
    let raw = std::fs::read(precision_fixture("corpus.all-MiniLM-L6-v2.f16")).unwrap();
    assert_eq!((sentences.len(), reference.neighbours.len(), raw.len()), (1000, 1000, 1000 * reference.dimension * 2));
    let st: Vec<Vec<f32>> = raw
        .chunks_exact(reference.dimension * 2)
        .map(|row| row.chunks_exact(2).map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]]))).collect())
        .collect();
    // The check itself: sentence-transformers' neighbours recomputed from
    // the float16 copy are (nearly) its float32 neighbours.
    let from_f16 = nearest(&st);
    let self_overlap = overlap(&from_f16, &reference.neighbours);
    assert!(self_overlap >= 0.99, "float16 reference neighbours overlap only {self_overlap}");
    for (precision, least_cosine, least_overlap) in BOUNDS {
        let got = open(default_model(), precision).encode_batch(&sentences).unwrap();
        let worst = got.iter().zip(&st).map(|(g, w)| cosine(g, w)).fold(1.0, f64::min);
        let mean_overlap = overlap(&nearest(&got), &reference.neighbours);
        eprintln!("{precision} ({} path): corpus min cosine {worst:.6}, 10-NN overlap {:.2}%", path(), mean_overlap * 100.0);
        assert!(worst >= least_cosine, "{precision}: corpus min cosine {worst} < {least_cosine}");
        assert!(mean_overlap >= least_overlap, "{precision}: 10-NN overlap {mean_overlap} < {least_overlap}");
    }
}

/// Mean fraction of each row's neighbours found among the reference's.
fn overlap(got: &[Vec<usize>], want: &[Vec<usize>]) -> f64 {
    let shared: usize = got.iter().zip(want).map(|(g, w)| g.iter().filter(|j| w.contains(j)).count()).sum();
    shared as f64 / (got.len() * NEIGHBOURS) as f64
}

/// Every architecture's fixture (random weights, so values less tame than
/// a trained model's): the narrow precisions run and stay close.
#[test]
fn every_fixture_architecture_runs_and_stays_close() {
    let models = [
        "seed-standin", "xlm-roberta-cls", "distilbert-max", "bert-pytorch-bin", "bert-mean-sqrt-len",
        "mpnet-mean-st6", "bert-dense-normalize-st6", "distilbert-dense-tanh-st6", "roberta-bpe-st6",
    ];
    for name in models {
        let fixture = fixture(&format!("{name}.reference.json"));
        let case = &fixture.cases[0];
        let dir = root().join("tests/fixtures/models").join(name);
        for (precision, least) in [(Precision::Bf16, 0.995), (Precision::Int8, 0.97)] {
            let got = open(&dir, precision).encode_batch(&case.texts).unwrap();
            let worst = got.iter().zip(&case.vectors).map(|(g, w)| cosine(g, w)).fold(1.0, f64::min);
            eprintln!("{name}: {precision} ({} path) min cosine {worst:.6}", path());
            assert!(worst >= least, "{name}: {precision} min cosine {worst} < {least}");
        }
    }
}

#[test]
fn fp32_is_the_default_and_each_precision_is_its_own_model() {
    assert_eq!(EncoderOptions::default().precision, Precision::Fp32);
    let text = "客户投诉物流太慢";
    let fp32 = open(default_model(), Precision::Fp32).encode(text).unwrap();
    let int8 = open(default_model(), Precision::Int8);
    // Opened side by side on one directory, each keeps its own weights.
    let bf16 = open(default_model(), Precision::Bf16);
    let default = Encoder::open(default_model(), EncoderOptions::default()).unwrap();
    assert_eq!(default.precision(), Precision::Fp32);
    assert_eq!(default.encode(text).unwrap(), fp32);
    let (a, b) = (int8.encode(text).unwrap(), bf16.encode(text).unwrap());
    assert!(a != fp32 && b != fp32 && a != b, "int8, bf16 and fp32 give distinct vectors");
    let err = Encoder::open(default_model(), EncoderOptions { precision: Precision::Int8, engine: sbert4j::Engine::Reference, ..Default::default() })
        .err()
        .expect("the reference engine is fp32 only")
        .to_string();
    assert!(err.contains("fp32 only"), "{err}");
}
