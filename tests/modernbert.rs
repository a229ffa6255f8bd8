//! ModernBERT on two small random-weight fixtures made by
//! tests/reference/make_arch_fixtures.py and checked against
//! sentence-transformers 6.2's own vectors, through both engines, text by
//! text and batched: `modernbert-mean-st6` (4 layers alternating global and
//! sliding-window attention, local_attention 8, so most texts are longer
//! than the window; no biases; mean pooling + Normalize) and
//! `modernbert-cls-bias-st6` (every bias on, gelu_pytorch_tanh, CLS
//! pooling). Run under each forced CPU path by `gradle cpuPathTests`.

mod common;

use common::*;
use sbert4j::{Encoder, EncoderOptions, Engine};

const MODELS: [&str; 2] = ["modernbert-mean-st6", "modernbert-cls-bias-st6"];
const TOL: f32 = 1e-5;

fn dir(name: &str) -> std::path::PathBuf {
    root().join("tests/fixtures/models").join(name)
}

fn open(name: &str, engine: Engine, batch_size: usize) -> Encoder {
    Encoder::open(dir(name), EncoderOptions { engine, batch_size, ..Default::default() }).unwrap()
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let norm = |v: &[f32]| v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (norm(a) * norm(b))
}

#[test]
fn modernbert_fixtures_match_sentence_transformers_text_by_text_and_batched() {
    for name in MODELS {
        let fixture = fixture(&format!("{name}.reference.json"));
        let case = &fixture.cases[0];
        assert!(case.tokens.iter().any(|&n| n > 9), "{name}: some text must be longer than the sliding window");
        for engine in [Engine::Fast, Engine::Reference] {
            let encoder = open(name, engine, 32);
            assert_eq!(encoder.dimension(), case.vectors[0].len(), "{name}");
            assert_eq!(Some(encoder.max_seq_length()), fixture.max_seq_length, "{name}");
            for (i, text) in case.texts.iter().enumerate() {
                assert_eq!(encoder.count_tokens(text, None).unwrap().min(encoder.max_seq_length()), case.tokens[i], "{name}: text {i} tokens");
            }
            for (i, (text, want)) in case.texts.iter().zip(&case.vectors).enumerate() {
                let got = encoder.encode(text).unwrap();
                let what = format!("{name}, {engine:?} engine, text {i} {:?}", text.chars().take(30).collect::<String>());
                assert_close(&got, want, TOL, &what);
                assert!(cosine(&got, want) >= 0.99999, "{what}: cosine {}", cosine(&got, want));
            }
            // Batched: padded and masked in the reference engine (the
            // sliding window and the padding mask together), packed in the
            // fast one.
            let got = encoder.encode_batch(&case.texts).unwrap();
            for (i, (got, want)) in got.iter().zip(&case.vectors).enumerate() {
                assert_close(got, want, TOL, &format!("{name}, {engine:?} engine, batched, text {i}"));
            }
        }
    }
}

#[test]
fn modernbert_batches_in_any_order_equal_single_texts() {
    for name in MODELS {
        let texts = fixture(&format!("{name}.reference.json")).cases.remove(0).texts;
        let single = open(name, Engine::Fast, 1);
        let batched = open(name, Engine::Fast, 7);
        let mixed: Vec<&str> = texts.iter().rev().chain(texts.iter()).map(String::as_str).collect();
        for (got, text) in batched.encode_batch(&mixed).unwrap().iter().zip(&mixed) {
            let diff = max_abs_diff(got, &single.encode(text).unwrap());
            assert!(diff <= 1e-5, "{name}: batch vs single differ by {diff}");
        }
    }
}

/// A copy of the mean fixture with `config.json` edited by `edit`.
fn with_config(edit: impl FnOnce(&mut serde_json::Value)) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&dir("modernbert-mean-st6"), tmp.path());
    let path = tmp.path().join("config.json");
    let mut config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut config);
    std::fs::write(&path, config.to_string()).unwrap();
    tmp
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn transformers_4_config_names_give_the_same_vectors_and_thetas_and_window_matter() {
    // Most ModernBERT configs on the Hub predate transformers 5: rope thetas
    // as global_rope_theta / local_rope_theta, layers by
    // global_attn_every_n_layers, no layer_types.
    let tmp = with_config(|c| {
        let c = c.as_object_mut().unwrap();
        c.remove("rope_parameters");
        c.remove("layer_types");
        c.insert("global_rope_theta".into(), 1000.0.into());
        c.insert("local_rope_theta".into(), 100.0.into());
    });
    let fixture = fixture("modernbert-mean-st6.reference.json");
    let encoder = Encoder::open(tmp.path(), EncoderOptions::default()).unwrap();
    for (text, want) in fixture.cases[0].texts.iter().zip(&fixture.cases[0].vectors) {
        assert_close(&encoder.encode(text).unwrap(), want, TOL, "transformers 4 names");
    }
    // ... and the thetas matter: other values give other vectors.
    let tmp = with_config(|c| {
        c["rope_parameters"]["sliding_attention"]["rope_theta"] = 10000.0.into();
    });
    let encoder = Encoder::open(tmp.path(), EncoderOptions::default()).unwrap();
    let long = fixture.cases[0].tokens.iter().position(|&n| n > 20).unwrap();
    let diff = max_abs_diff(&encoder.encode(&fixture.cases[0].texts[long]).unwrap(), &fixture.cases[0].vectors[long]);
    assert!(diff > 1e-3, "local theta ignored: {diff}");
    // ... and so does the window: without it, other vectors.
    let tmp = with_config(|c| c["local_attention"] = 4096.into());
    let encoder = Encoder::open(tmp.path(), EncoderOptions::default()).unwrap();
    let diff = max_abs_diff(&encoder.encode(&fixture.cases[0].texts[long]).unwrap(), &fixture.cases[0].vectors[long]);
    assert!(diff > 1e-3, "sliding window ignored: {diff}");
}

#[test]
fn unsupported_modernbert_settings_fail_at_open_naming_file_value_and_choices() {
    let cases: [(&str, fn(&mut serde_json::Value), &[&str]); 3] = [
        ("activation", |c| c["hidden_activation"] = "silu".into(), &["config.json", "hidden_activation", "silu", "gelu_pytorch_tanh"]),
        ("rope type", |c| c["rope_parameters"]["full_attention"]["rope_type"] = "yarn".into(), &["config.json", "rope_type", "yarn", "default"]),
        ("layer type", |c| c["layer_types"][1] = "chunked_attention".into(), &["config.json", "chunked_attention", "sliding_attention"]),
    ];
    for (what, edit, parts) in cases {
        let tmp = with_config(edit);
        let err = Encoder::open(tmp.path(), EncoderOptions::default()).err().unwrap_or_else(|| panic!("{what}: opened")).to_string();
        for part in parts {
            assert!(err.contains(part), "{what}: {err:?} lacks {part:?}");
        }
    }
}
