//! The architectures and configurations beside the default model, each on a
//! small random-weight fixture made by tests/reference/make_test_models.py
//! and checked against sentence-transformers' own vectors: the seed's
//! structure (BERT + XLM-R Unigram tokenizer, mean pooling, no Normalize,
//! max_seq_length 128), XLM-RoBERTa (positions from padding_idx + 1, CLS
//! pooling, Normalize), DistilBERT (max pooling), pytorch_model.bin weights
//! and mean_sqrt_len pooling; and the two ModernBERT fixtures of
//! tests/reference/make_arch_fixtures.py (`modernbert.rs` has what is
//! particular to them).

mod common;

use common::*;
use sbert4j::{Encoder, EncoderOptions, Engine};

const MODELS: [&str; 7] = [
    "seed-standin",
    "xlm-roberta-cls",
    "distilbert-max",
    "bert-pytorch-bin",
    "bert-mean-sqrt-len",
    "modernbert-mean-st6",
    "modernbert-cls-bias-st6",
];
const TOL: f32 = 1e-5;

fn open(name: &str, engine: Engine, batch_size: usize) -> Encoder {
    let dir = root().join("tests/fixtures/models").join(name);
    Encoder::open(dir, EncoderOptions { engine, batch_size, ..Default::default() }).unwrap()
}

#[test]
fn every_fixture_matches_sentence_transformers() {
    for name in MODELS {
        let fixture = fixture(&format!("{name}.reference.json"));
        let case = &fixture.cases[0];
        for engine in [Engine::Reference, Engine::Fast] {
            let encoder = open(name, engine, 32);
            assert_eq!(encoder.dimension(), case.vectors[0].len(), "{name}");
            for (text, want) in case.texts.iter().zip(&case.vectors) {
                let got = encoder.encode(text).unwrap();
                assert_close(&got, want, TOL, &format!("{name}, {engine:?} engine, text {:?}", text.chars().take(30).collect::<String>()));
            }
            // Batched: padded and masked in the reference engine, packed in
            // the fast one.
            for (i, (got, want)) in encoder.encode_batch(&case.texts).unwrap().iter().zip(&case.vectors).enumerate() {
                assert_close(got, want, TOL, &format!("{name}, {engine:?} engine, batched, text {i}"));
            }
        }
    }
}

#[test]
fn batches_equal_single_texts() {
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

#[test]
fn vector_norms_follow_the_normalize_module() {
    for (name, normalized) in [("seed-standin", false), ("xlm-roberta-cls", true), ("distilbert-max", false), ("bert-pytorch-bin", true)] {
        let encoder = open(name, Engine::Fast, 32);
        assert_eq!(encoder.normalizes(), normalized, "{name}");
        let v = encoder.encode("客户投诉物流太慢").unwrap();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert_eq!((norm - 1.0).abs() < 1e-5, normalized, "{name}: norm {norm}");
    }
}

#[test]
fn the_seed_stand_in_truncates_at_its_sentence_bert_config() {
    let encoder = open("seed-standin", Engine::Fast, 32);
    assert_eq!(encoder.max_seq_length(), 128, "sentence_bert_config.json's 128, not the tokenizer's 512");
    assert_eq!(open("xlm-roberta-cls", Engine::Fast, 32).max_seq_length(), 512, "514 positions minus padding_idx + 1");
}

#[test]
fn an_unsupported_architecture_is_named_before_its_config_is_parsed() {
    let tmp = tempfile::tempdir().unwrap();
    let fixture = root().join("tests/fixtures/models/bert-mean-sqrt-len");
    for file in ["tokenizer.json", "model.safetensors"] {
        std::fs::copy(fixture.join(file), tmp.path().join(file)).unwrap();
    }
    // T5's config has none of the fields a BERT config needs.
    std::fs::write(tmp.path().join("config.json"), r#"{"architectures": ["T5EncoderModel"], "d_model": 24}"#).unwrap();
    let err = Encoder::open(tmp.path(), EncoderOptions::default()).err().expect("a T5 model opened").to_string();
    for part in ["config.json", "unsupported architecture 'T5EncoderModel'", "BertModel", "XLMRobertaModel", "DistilBertModel", "MPNetModel", "ModernBertModel"] {
        assert!(err.contains(part), "{err:?} lacks {part:?}");
    }
}

#[test]
fn an_mpnet_bucket_count_too_small_is_a_config_json_error() {
    let tmp = tempfile::tempdir().unwrap();
    let fixture = root().join("tests/fixtures/models/mpnet-mean-st6");
    for file in ["tokenizer.json", "model.safetensors"] {
        std::fs::copy(fixture.join(file), tmp.path().join(file)).unwrap();
    }
    let mut config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture.join("config.json")).unwrap()).unwrap();
    config["relative_attention_num_buckets"] = 16.into();
    std::fs::write(tmp.path().join("config.json"), config.to_string()).unwrap();
    let err = Encoder::open(tmp.path(), EncoderOptions::default()).err().expect("opened with 16 buckets").to_string();
    for part in ["config.json", "relative_attention_num_buckets is 16", "32"] {
        assert!(err.contains(part), "{err:?} lacks {part:?}");
    }
    assert!(!err.contains("model.safetensors"), "{err:?} names the weights file");
}
