//! The real all-mpnet-base-v2 (fetched by models/fetch_mpnet_model.py, about
//! 440 MB) against sentence-transformers' own vectors
//! (tests/reference/make_mpnet_reference.py), through both engines (the fast
//! one text by text and batched, the reference one on a
//! padded batch). Skipped, with a message, when the model has not been
//! fetched, unless SBERT4J_REQUIRE_MPNET is set (the Gradle build sets it
//! after fetching it, so there the test runs or fails).

mod common;

use std::path::PathBuf;

use common::*;
use sbert4j::{Encoder, EncoderOptions, Engine};

const TOL: f32 = 1e-5;

fn model() -> Option<PathBuf> {
    let dir = root().join("models/all-mpnet-base-v2");
    if dir.join("model.safetensors").is_file() {
        return Some(dir);
    }
    let msg = format!("{} is missing: run `python3 models/fetch_mpnet_model.py`", dir.display());
    assert!(std::env::var_os("SBERT4J_REQUIRE_MPNET").is_none(), "{msg}");
    eprintln!("SKIPPED: {msg}");
    None
}

#[test]
fn all_mpnet_base_v2_matches_sentence_transformers() {
    let Some(dir) = model() else { return };
    let fixture = fixture("all-mpnet-base-v2.reference.json");
    let case = &fixture.cases[0];
    for engine in [Engine::Fast, Engine::Reference] {
        let encoder = Encoder::open(&dir, EncoderOptions { engine, ..Default::default() }).unwrap();
        assert_eq!(encoder.dimension(), 768);
        assert_eq!(Some(encoder.max_seq_length()), fixture.max_seq_length, "sentence_bert_config.json's 384");
        assert!(encoder.normalizes());
        for (i, text) in case.texts.iter().enumerate() {
            assert_eq!(encoder.count_tokens(text, None).unwrap().min(encoder.max_seq_length()), case.tokens[i], "text {i}: tokens");
        }
        // Text by text on the fast engine only (the reference engine runs
        // the batch below, padded and masked).
        let singles = if engine == Engine::Fast { case.texts.len() } else { 0 };
        for (i, (text, want)) in case.texts.iter().zip(&case.vectors).enumerate().take(singles) {
            let got = encoder.encode(text).unwrap();
            assert_close(&got, want, TOL, &format!("{engine:?} engine, text {i} {:?}", text.chars().take(30).collect::<String>()));
        }
        // Batched (padded in the reference engine, packed in the fast one):
        // the same vectors.
        // The reference engine takes the first 12 texts (one of them
        // over-long, so the others are padded): it is slow on this model.
        let batch = if engine == Engine::Fast { &case.texts[..] } else { &case.texts[..12] };
        let got = encoder.encode_batch(batch).unwrap();
        for (i, (got, want)) in got.iter().zip(&case.vectors).enumerate() {
            assert_close(got, want, TOL, &format!("{engine:?} engine, batched, text {i}"));
        }
    }
}
