//! Static embeddings (sentence-transformers' StaticEmbedding module: the
//! mean of the text's token vectors, no special tokens, the tokenizer's own
//! truncation) against sentence-transformers 6.2's vectors, on directories
//! written by its own `save()` (tests/reference/make_static_fixtures.py):
//! `embedding.weight` and model2vec's `embeddings` / `mapping` / `weights`.
//! Texts without tokens give the zero vector, as sentence-transformers'
//! empty bag does.

mod common;

use common::*;
use sbert4j::{Encoder, EncoderOptions, Engine, TextInfo};

const MODELS: [&str; 2] = ["static-st6", "static-model2vec"];
const TOL: f32 = 1e-5;

fn dir(name: &str) -> std::path::PathBuf {
    root().join("tests/fixtures/models").join(name)
}

fn open(name: &str, case: &Case, engine: Engine, batch_size: usize) -> Encoder {
    let options = EncoderOptions {
        engine,
        batch_size,
        truncate_dim: case.options.truncate_dim,
        normalize: case.options.normalize_embeddings.filter(|&n| n),
        ..Default::default()
    };
    Encoder::open(dir(name), options).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A zero reference (a text without tokens) is matched exactly; any other
/// by cosine and max |difference|.
fn check(got: &[f32], want: &[f32], what: &str) {
    if want.iter().all(|&x| x == 0.0) {
        assert!(got.iter().all(|&x| x == 0.0), "{what}: expected the zero vector, got {got:?}");
    } else {
        assert_close(got, want, TOL, what);
    }
}

#[test]
fn every_case_matches_sentence_transformers_vectors_and_token_facts() {
    let mut zero = 0;
    for name in MODELS {
        let fixture = fixture(&format!("{name}.reference.json"));
        for case in &fixture.cases {
            for engine in [Engine::Reference, Engine::Fast] {
                let encoder = open(name, case, engine, 32);
                assert_eq!(encoder.dimension(), case.vectors[0].len(), "{name} / {}", case.name);
                let prompt = match (&case.options.prompt, &case.options.prompt_name) {
                    (Some(text), _) => Some(text.as_str()),
                    (None, Some(n)) => Some(encoder.prompt(n).unwrap()),
                    (None, None) => None,
                };
                for (i, text) in case.texts.iter().enumerate() {
                    let what = format!("{name} / {} / {engine:?} / text {i} {:?}", case.name, text.chars().take(30).collect::<String>());
                    let mut got = vec![0f32; encoder.dimension()];
                    let mut info = [TextInfo::default()];
                    encoder.encode_into_with(&[text], prompt, &mut got, Some(&mut info)).unwrap();
                    check(&got, &case.vectors[i], &what);
                    zero += usize::from(case.vectors[i].iter().all(|&x| x == 0.0));
                    assert_eq!(info[0].tokens, case.tokens[i], "{what}: tokens used");
                    assert_eq!(info[0].truncated, case.truncated[i], "{what}: truncated");
                    assert_eq!(encoder.count_tokens(text, prompt).unwrap(), case.token_counts[i], "{what}: count");
                }
                // Batches (sorted, padded by nothing) give the same vectors.
                let dim = encoder.dimension();
                let mut flat = vec![0f32; case.texts.len() * dim];
                encoder.encode_into_with(&case.texts, prompt, &mut flat, None).unwrap();
                for (i, want) in case.vectors.iter().enumerate() {
                    check(&flat[i * dim..(i + 1) * dim], want, &format!("{name} / {} / batch text {i}", case.name));
                }
            }
        }
    }
    assert!(zero > 0, "the fixtures have texts without tokens");
}

#[test]
fn the_tokenizer_files_truncation_is_the_limit() {
    // static-st6's tokenizer.json truncates at 48; model2vec's does not truncate.
    let st6 = Encoder::open(dir("static-st6"), EncoderOptions::default()).unwrap();
    assert_eq!(st6.max_seq_length(), 48);
    assert!(st6.normalizes());
    let m2v = Encoder::open(dir("static-model2vec"), EncoderOptions::default()).unwrap();
    assert_eq!(m2v.max_seq_length(), usize::MAX);
    assert!(!m2v.normalizes());
    // A limit asked for by the caller truncates there.
    let short = Encoder::open(dir("static-model2vec"), EncoderOptions { max_seq_length: Some(4), ..Default::default() }).unwrap();
    let mut info = [TextInfo::default()];
    let mut out = vec![0f32; short.dimension()];
    short.encode_into_with(&["The quick brown fox jumps over the lazy dog."], None, &mut out, Some(&mut info)).unwrap();
    assert_eq!((info[0].tokens, info[0].truncated), (4, true));
}

#[test]
fn a_pooling_module_after_static_embedding_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(dir("static-model2vec")).unwrap() {
        let path = entry.unwrap().path();
        std::os::unix::fs::symlink(&path, tmp.path().join(path.file_name().unwrap())).unwrap();
    }
    std::fs::remove_file(tmp.path().join("modules.json")).unwrap();
    std::fs::write(
        tmp.path().join("modules.json"),
        r#"[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.StaticEmbedding"},
            {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"}]"#,
    )
    .unwrap();
    let err = Encoder::open(tmp.path(), EncoderOptions::default()).err().expect("accepted").to_string();
    assert!(err.contains("Pooling module after StaticEmbedding"), "{err}");
}

#[test]
fn a_tokenizer_with_more_tokens_than_the_table_is_this_texts_error() {
    // A table of 3 rows under static-st6's tokenizer: ids beyond it fail the text, not the process.
    let tmp = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(dir("static-st6").join("tokenizer.json"), tmp.path().join("tokenizer.json")).unwrap();
    std::fs::write(
        tmp.path().join("modules.json"),
        r#"[{"idx":0,"name":"0","path":"","type":"sentence_transformers.sentence_transformer.modules.static_embedding.StaticEmbedding"}]"#,
    )
    .unwrap();
    let table = candle_core::Tensor::zeros((3, 4), candle_core::DType::F32, &candle_core::Device::Cpu).unwrap();
    candle_core::safetensors::save(&std::collections::HashMap::from([("embedding.weight".to_string(), table)]), tmp.path().join("model.safetensors")).unwrap();
    let encoder = Encoder::open(tmp.path(), EncoderOptions::default()).unwrap();
    let err = encoder.encode("The quick brown fox").unwrap_err().to_string();
    assert!(err.contains("token id"), "{err}");
    assert_eq!(encoder.encode("").unwrap(), vec![0f32; 4], "no tokens, no lookup");
}
