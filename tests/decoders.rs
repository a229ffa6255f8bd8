//! Qwen3 and Gemma3 (the decoders, `src/core/arch/decoder.rs`), on the two
//! small random-weight stand-ins of tests/reference/make_decoder_fixtures.py:
//! `qwen3-lasttoken-st6` (causal grouped-query attention, lasttoken pooling
//! + Normalize, Qwen3-Embedding's prompts, a Qwen2 tokenizer appending
//! `<|endoftext|>`, left padding) and `gemma3-mean-dense-st6`
//! (EmbeddingGemma's shape: bidirectional attention, sliding and global
//! layers with their own rotary bases, mean pooling, Dense, Dense,
//! Normalize, its prompts). Every case of their reference files, computed
//! by sentence-transformers 6.2, through both engines, text by text and
//! batched: texts one at a time, the batch of 16 mixed lengths, the query
//! and document prompts, truncate_dim, special tokens typed in the text.
//! Run under each forced CPU path by `gradle cpuPathTests`.

mod common;

use common::*;
use sbert4j::{Encoder, EncoderOptions, Engine, Precision, TextInfo};

const MODELS: [&str; 2] = ["qwen3-lasttoken-st6", "gemma3-mean-dense-st6"];
const TOL: f32 = 1e-5;

fn dir(name: &str) -> std::path::PathBuf {
    root().join("tests/fixtures/models").join(name)
}

fn open(name: &std::path::Path, engine: Engine, batch_size: usize) -> Encoder {
    Encoder::open(name, EncoderOptions { engine, batch_size, ..Default::default() }).unwrap()
}

/// The prompt a case's texts get: `None` is the encoder's default.
fn prompt<'a>(encoder: &'a Encoder, case: &'a Case) -> Option<&'a str> {
    match (&case.options.prompt, &case.options.prompt_name) {
        (Some(text), _) => Some(text),
        (None, Some(name)) => Some(encoder.prompt(name).unwrap()),
        (None, None) => None,
    }
}

#[test]
fn every_case_matches_sentence_transformers_on_both_engines() {
    for name in MODELS {
        let fixture = fixture(&format!("{name}.reference.json"));
        assert_eq!(fixture.cases.len(), 6, "{name}");
        for engine in [Engine::Reference, Engine::Fast] {
            for batch_size in [1, 16] {
                for case in &fixture.cases {
                    let options = EncoderOptions { engine, batch_size, truncate_dim: case.options.truncate_dim, ..Default::default() };
                    let encoder = Encoder::open(dir(name), options).unwrap();
                    assert_eq!(Some(encoder.max_seq_length()), fixture.max_seq_length, "{name}");
                    let dim = encoder.dimension();
                    assert_eq!(dim, case.vectors[0].len(), "{name} / {}", case.name);
                    // All the case's texts in one call: batches of `batch_size`.
                    let mut got = vec![0f32; case.texts.len() * dim];
                    let mut info = vec![TextInfo::default(); case.texts.len()];
                    encoder.encode_into_with(&case.texts, prompt(&encoder, case), &mut got, Some(&mut info)).unwrap();
                    for (i, want) in case.vectors.iter().enumerate() {
                        let what = format!("{name}, {engine:?}, batch {batch_size}, case {:?}, text {i}", case.name);
                        assert_close(&got[i * dim..(i + 1) * dim], want, TOL, &what);
                        assert_eq!(info[i].tokens, case.tokens[i], "{what}: tokens used");
                        assert_eq!(info[i].truncated, case.truncated[i], "{what}: truncated");
                    }
                }
            }
        }
    }
}

/// The cases test what they say only if their texts do: long texts cut at
/// max_seq_length, a batch of mixed lengths, texts outrunning Gemma's
/// window, counted as sentence-transformers counts them.
#[test]
fn the_fixture_texts_cover_truncation_mixed_batches_and_the_window() {
    for name in MODELS {
        let fixture = fixture(&format!("{name}.reference.json"));
        let encoder = open(&dir(name), Engine::Fast, 32);
        let shipped = &fixture.cases[0];
        assert!(shipped.truncated.iter().any(|&t| t), "{name}: no text truncated");
        for (i, text) in shipped.texts.iter().enumerate() {
            assert_eq!(encoder.count_tokens(text, None).unwrap().min(encoder.max_seq_length()), shipped.tokens[i], "{name}: text {i} tokens");
        }
        let batch = &fixture.cases[1];
        let (short, long) = (batch.tokens.iter().min().unwrap(), batch.tokens.iter().max().unwrap());
        assert!(long - short > 20, "{name}: the batch does not mix lengths");
        // Gemma's fixture: sliding_window 8, reach 4 either side.
        assert!(*long > 9, "{name}: no text outruns the window");
    }
}

#[test]
fn qwen3_pools_the_appended_end_of_text_token() {
    let encoder = open(&dir("qwen3-lasttoken-st6"), Engine::Fast, 32);
    // The tokenizer appends <|endoftext|>: "a" alone is its token and the end token.
    assert_eq!(encoder.count_tokens("<|endoftext|>", None).unwrap(), 2);
    let fixture = fixture("qwen3-lasttoken-st6.reference.json");
    let query = &fixture.cases[2];
    assert_eq!(query.options.prompt_name.as_deref(), Some("query"));
    // The prompt changes the vector (lasttoken pooling includes the prompt).
    let plain = encoder.encode(&query.texts[0]).unwrap();
    assert!(max_abs_diff(&plain, &query.vectors[0]) > 1e-2);
}

/// A copy of a fixture with `config.json` edited by `edit`.
fn with_config(name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&dir(name), tmp.path());
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

/// The settings the fixtures pin matter: other values give other vectors,
/// so a forward pass ignoring them would fail the parity test.
#[test]
fn windows_thetas_and_scales_matter() {
    let edits: [(&str, &str, fn(&mut serde_json::Value)); 5] = [
        ("gemma3-mean-dense-st6", "sliding window", |c| c["sliding_window"] = 4096.into()),
        ("gemma3-mean-dense-st6", "local theta", |c| c["rope_parameters"]["sliding_attention"]["rope_theta"] = 10000.0.into()),
        ("gemma3-mean-dense-st6", "query_pre_attn_scalar", |c| c["query_pre_attn_scalar"] = 24.into()),
        ("gemma3-mean-dense-st6", "bidirectional", |c| c["use_bidirectional_attention"] = false.into()),
        ("qwen3-lasttoken-st6", "rope theta", |c| c["rope_parameters"]["rope_theta"] = 10000.0.into()),
    ];
    for (name, what, edit) in edits {
        let fixture = fixture(&format!("{name}.reference.json"));
        let case = &fixture.cases[0];
        let long = case.tokens.iter().position(|&n| n > 30).unwrap();
        let tmp = with_config(name, edit);
        let encoder = open(tmp.path(), Engine::Fast, 32);
        let diff = max_abs_diff(&encoder.encode(&case.texts[long]).unwrap(), &case.vectors[long]);
        assert!(diff > 1e-3, "{name}: {what} ignored ({diff})");
    }
}

#[test]
fn unsupported_decoder_settings_fail_at_open_naming_file_value_and_choices() {
    let cases: [(&str, &str, fn(&mut serde_json::Value), &[&str]); 4] = [
        ("qwen3-lasttoken-st6", "activation", |c| c["hidden_act"] = "gelu".into(), &["config.json", "hidden_act", "gelu", "silu"]),
        ("qwen3-lasttoken-st6", "rope type", |c| c["rope_parameters"]["rope_type"] = "yarn".into(), &["config.json", "rope_type", "yarn", "default"]),
        ("gemma3-mean-dense-st6", "softcapping", |c| c["attn_logit_softcapping"] = 50.0.into(), &["config.json", "attn_logit_softcapping", "50"]),
        ("gemma3-mean-dense-st6", "layer type", |c| c["layer_types"][1] = "chunked_attention".into(), &["config.json", "chunked_attention", "sliding_attention"]),
    ];
    for (name, what, edit, parts) in cases {
        let tmp = with_config(name, edit);
        let err = Encoder::open(tmp.path(), EncoderOptions::default()).err().unwrap_or_else(|| panic!("{what}: opened")).to_string();
        for part in parts {
            assert!(err.contains(part), "{what}: {err:?} lacks {part:?}");
        }
    }
    let tmp = with_config("qwen3-lasttoken-st6", |c| c["num_key_value_heads"] = 3.into());
    let err = Encoder::open(tmp.path(), EncoderOptions::default()).err().expect("3 key-value heads for 4").to_string();
    assert!(err.contains("num_key_value_heads"), "{err}");
}

/// BF16 and INT8 on the packed linear layers: close to fp32, not equal.
#[test]
fn reduced_precisions_stay_close_to_fp32() {
    for name in MODELS {
        let fixture = fixture(&format!("{name}.reference.json"));
        let texts = &fixture.cases[0].texts;
        for (precision, min_cosine) in [(Precision::Bf16, 0.99), (Precision::Int8, 0.98)] {
            let encoder = Encoder::open(dir(name), EncoderOptions { precision, ..Default::default() }).unwrap();
            let got = encoder.encode_batch(texts).unwrap();
            let worst = got.iter().zip(&fixture.cases[0].vectors).map(|(g, w)| cosine(g, w)).fold(1.0, f64::min);
            assert!(worst >= min_cosine && worst < 0.999999, "{name} {precision:?}: worst cosine {worst}");
        }
    }
}
