//! What is particular to ModernBERT, on the two small random-weight fixtures
//! of tests/reference/make_arch_fixtures.py: `modernbert-mean-st6` (4
//! layers alternating global and sliding-window attention, local_attention
//! 8; no biases; mean pooling + Normalize) and `modernbert-cls-bias-st6`
//! (every bias on, gelu_pytorch_tanh, CLS pooling). Their vectors are
//! checked against sentence-transformers 6.2's, through both engines, text
//! by text and batched, with the other fixtures in `architectures.rs`.
//! Run under each forced CPU path by `gradle cpuPathTests`.

mod common;

use common::*;
use sbert4j::{Encoder, EncoderOptions};

const MODELS: [&str; 2] = ["modernbert-mean-st6", "modernbert-cls-bias-st6"];
const TOL: f32 = 1e-5;

fn dir(name: &str) -> std::path::PathBuf {
    root().join("tests/fixtures/models").join(name)
}

/// The fixtures test the sliding window only if their texts outrun it,
/// counted as sentence-transformers counts them.
#[test]
fn the_fixture_texts_outrun_the_sliding_window() {
    for name in MODELS {
        let fixture = fixture(&format!("{name}.reference.json"));
        let case = &fixture.cases[0];
        assert!(case.tokens.iter().any(|&n| n > 9), "{name}: some text must be longer than the sliding window");
        let encoder = Encoder::open(dir(name), EncoderOptions::default()).unwrap();
        assert_eq!(Some(encoder.max_seq_length()), fixture.max_seq_length, "{name}");
        for (i, text) in case.texts.iter().enumerate() {
            assert_eq!(encoder.count_tokens(text, None).unwrap().min(encoder.max_seq_length()), case.tokens[i], "{name}: text {i} tokens");
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
