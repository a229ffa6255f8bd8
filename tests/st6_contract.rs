//! The sentence-transformers 6 contract, on model directories written by
//! sentence-transformers 6's own `save()` (tests/reference/make_st6_fixtures.py):
//! the truncation length as 6.x resolves it (no legacy `max_seq_length` key),
//! texts not stripped (byte-level BPE and plain Metaspace tokenizers, where
//! whitespace is a token), `do_lower_case` as a Lowercase normalizer, prompts
//! (named, literal, default, none) with `include_prompt: false` pooling over
//! every pooling mode, `truncate_dim` with and without `normalize_embeddings`,
//! and the token facts of each text against the `tokenizers` library's counts.

mod common;

use common::*;
use sbert4j::{Encoder, EncoderOptions, Engine, TextInfo};

const MODELS: [&str; 11] = [
    "seed-standin-st6",
    "xlm-roberta-cls-st6",
    "distilbert-max-st6",
    "bert-pytorch-bin-st6",
    "bert-mean-sqrt-len-st6",
    "roberta-bpe-st6",
    "metaspace-lower-st6",
    "prompts-st6",
    "mpnet-mean-st6",
    "distilbert-dense-tanh-st6",
    "bert-dense-normalize-st6",
];
const TOL: f32 = 1e-5;

fn open(name: &str, case: &Case, engine: Engine, batch_size: usize) -> Encoder {
    let dir = root().join("tests/fixtures/models").join(name);
    let options = EncoderOptions {
        engine,
        batch_size,
        truncate_dim: case.options.truncate_dim,
        normalize: case.options.normalize_embeddings.filter(|&n| n),
        ..Default::default()
    };
    Encoder::open(dir, options).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The prompt a case's texts get: `None` is the encoder's default.
fn prompt<'a>(encoder: &'a Encoder, case: &'a Case) -> Option<&'a str> {
    match (&case.options.prompt, &case.options.prompt_name) {
        (Some(text), _) => Some(text),
        (None, Some(name)) => Some(encoder.prompt(name).unwrap()),
        (None, None) => None,
    }
}

fn short(text: &str) -> String {
    text.chars().take(30).collect()
}

#[test]
fn every_case_matches_sentence_transformers_vectors_and_token_facts() {
    for name in MODELS {
        let fixture = fixture(&format!("{name}.reference.json"));
        for case in &fixture.cases {
            for engine in [Engine::Reference, Engine::Fast] {
                let encoder = open(name, case, engine, 32);
                assert_eq!(Some(encoder.max_seq_length()), fixture.max_seq_length, "{name}: max_seq_length");
                assert_eq!(encoder.dimension(), case.vectors[0].len(), "{name} / {}", case.name);
                let prompt = prompt(&encoder, case);
                for (i, text) in case.texts.iter().enumerate() {
                    let what = format!("{name} / {} / {engine:?} / text {i} {:?}", case.name, short(text));
                    let mut got = vec![0f32; encoder.dimension()];
                    let mut info = [TextInfo::default()];
                    encoder.encode_into_with(&[text], prompt, &mut got, Some(&mut info)).unwrap();
                    assert_close(&got, &case.vectors[i], TOL, &what);
                    assert_eq!(info[0].tokens, case.tokens[i], "{what}: tokens used");
                    assert_eq!(info[0].truncated, case.truncated[i], "{what}: truncated");
                    assert_eq!(encoder.count_tokens(text, prompt).unwrap(), case.token_counts[i], "{what}: count");
                }
            }
        }
    }
}

#[test]
fn batches_give_the_same_vectors_and_facts_as_single_texts() {
    for name in MODELS {
        let fixture = fixture(&format!("{name}.reference.json"));
        for case in &fixture.cases {
            let encoder = open(name, case, Engine::Fast, 5);
            let prompt = prompt(&encoder, case);
            let dim = encoder.dimension();
            let mut flat = vec![0f32; case.texts.len() * dim];
            let mut info = vec![TextInfo::default(); case.texts.len()];
            encoder.encode_into_with(&case.texts, prompt, &mut flat, Some(&mut info)).unwrap();
            for (i, want) in case.vectors.iter().enumerate() {
                let what = format!("{name} / {} / batch, text {i}", case.name);
                assert_close(&flat[i * dim..(i + 1) * dim], want, TOL, &what);
                assert_eq!((info[i].tokens, info[i].truncated), (case.tokens[i], case.truncated[i]), "{what}");
            }
        }
    }
}

#[test]
fn the_truncation_length_is_resolved_as_sentence_transformers_6_does() {
    let length = |name: &str| open(name, &fixture(&format!("{name}.reference.json")).cases[0], Engine::Fast, 8).max_seq_length();
    assert_eq!(length("seed-standin-st6"), 128, "tokenizer_config.json's model_max_length, written by save()");
    assert_eq!(length("bert-mean-sqrt-len-st6"), 512, "model_max_length unset: max_position_embeddings");
    assert_eq!(length("metaspace-lower-st6"), 48);
}

#[test]
fn prompts_are_named_listed_and_checked() {
    let case = &fixture("prompts-st6.reference.json").cases[0];
    let encoder = open("prompts-st6", case, Engine::Fast, 8);
    assert_eq!(encoder.default_prompt(), "query: ", "default_prompt_name");
    // sentence-transformers 6 adds empty "query" and "document" prompts of its own; ours override "query".
    assert_eq!(encoder.prompts().keys().collect::<Vec<_>>(), ["document", "empty", "passage", "query"]);
    let err = encoder.prompt("summary").unwrap_err().to_string();
    assert!(err.contains("summary") && err.contains("passage") && err.contains("query"), "{err}");
    let dir = root().join("tests/fixtures/models/prompts-st6");
    let options = EncoderOptions { default_prompt: Some(sbert4j::Prompt::Named("nope".into())), ..Default::default() };
    let err = Encoder::open(&dir, options).err().expect("an unknown default prompt name was accepted").to_string();
    assert!(err.contains("nope") && err.contains("passage"), "{err}");
}

#[test]
fn truncate_dim_outside_the_dimension_is_refused() {
    let dir = root().join("tests/fixtures/models/prompts-st6");
    for bad in [0, 161] {
        let options = EncoderOptions { truncate_dim: Some(bad), ..Default::default() };
        let err = Encoder::open(&dir, options).err().expect("accepted").to_string();
        assert!(err.contains(&bad.to_string()) && err.contains("160"), "{err}");
    }
}
