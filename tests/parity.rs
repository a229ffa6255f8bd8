//! The core against sentence-transformers' own output (fixtures made by
//! tests/reference/make_reference.py), and batch against single.

mod common;

use common::*;
use sbert4j::{Encoder, EncoderOptions, Engine, Precision};

const ENGINES: [Engine; 2] = [Engine::Fast, Engine::Reference];

const PARITY_TOL: f32 = 1e-5;
const BATCH_TOL: f32 = 1e-5;

#[test]
fn every_case_matches_sentence_transformers() {
    let base = default_model();
    let fixture = fixture("all-MiniLM-L6-v2.reference.json");
    assert!(fixture.cases.len() >= 7);
    for engine in ENGINES {
        for case in &fixture.cases {
            let tmp = tempfile::tempdir().unwrap();
            let dir = materialize(&base, case, tmp.path());
            let encoder = Encoder::open(&dir, EncoderOptions { engine, ..Default::default() }).unwrap();
            assert_eq!(encoder.dimension(), case.vectors[0].len(), "{}", case.name);
            for (text, want) in case.texts.iter().zip(&case.vectors) {
                let got = encoder.encode(text).unwrap();
                let what = format!("{engine:?} engine, case '{}', text {:?}", case.name, preview(text));
                assert_close(&got, want, PARITY_TOL, &what);
            }
        }
    }
}

#[test]
fn options_override_the_directory() {
    let base = default_model();
    let fixture = fixture("all-MiniLM-L6-v2.reference.json");
    let case = |name: &str| fixture.cases.iter().find(|c| c.name == name).unwrap();
    let check = |options: EncoderOptions, case_name: &str| {
        let encoder = Encoder::open(&base, options).unwrap();
        let case = case(case_name);
        for (text, want) in case.texts.iter().zip(&case.vectors) {
            assert_close(&encoder.encode(text).unwrap(), want, PARITY_TOL, case_name);
        }
    };
    check(EncoderOptions { normalize: Some(false), ..Default::default() }, "mean, no normalize");
    check(EncoderOptions { max_seq_length: Some(16), ..Default::default() }, "max_seq_length 16");
}

#[test]
fn shipped_model_reads_its_configuration() {
    let encoder = Encoder::open(default_model(), EncoderOptions::default()).unwrap();
    assert_eq!(encoder.dimension(), 384);
    assert_eq!(encoder.max_seq_length(), 256, "sentence_bert_config.json, not tokenizer.json's 128");
    assert!(encoder.normalizes(), "modules.json lists Normalize");
}

#[test]
fn batch_equals_single_whatever_the_composition() {
    let fixture = fixture("all-MiniLM-L6-v2.reference.json");
    let texts = &fixture.cases[0].texts;
    for engine in ENGINES {
        batch_equals_single(texts, engine);
    }
}

fn batch_equals_single(texts: &[String], engine: Engine) {
    let singles: Vec<Vec<f32>> = {
        let encoder = Encoder::open(default_model(), EncoderOptions { engine, ..Default::default() }).unwrap();
        texts.iter().map(|t| encoder.encode(t).unwrap()).collect()
    };
    let mut reversed: Vec<usize> = (0..texts.len()).collect();
    reversed.reverse();
    let repeated: Vec<usize> = (0..texts.len()).chain(0..texts.len()).chain([3, 3, 0]).collect();
    for batch_size in [1, 3, 7, 32] {
        let encoder = Encoder::open(default_model(), EncoderOptions { batch_size, engine, ..Default::default() }).unwrap();
        for order in [&reversed, &repeated] {
            let batch: Vec<&str> = order.iter().map(|&i| texts[i].as_str()).collect();
            let got = encoder.encode_batch(&batch).unwrap();
            assert_eq!(got.len(), batch.len());
            for (v, &i) in got.iter().zip(order.iter()) {
                let diff = max_abs_diff(v, &singles[i]);
                assert!(diff <= BATCH_TOL, "{engine:?}, batch size {batch_size}, text {i}: max |difference| {diff}");
            }
        }
    }
    let encoder = Encoder::open(default_model(), EncoderOptions::default()).unwrap();
    assert!(encoder.encode_batch::<&str>(&[]).unwrap().is_empty());
}

#[test]
fn lanes_give_the_vectors_of_a_pass_on_one_thread_bit_for_bit() {
    // A batch with enough tokens runs as lanes, one thread per share of
    // its texts (cpu::lanes); a row's arithmetic is the same whichever
    // thread does it and whatever rows share its pass, so the vectors are
    // exactly those of passes on one thread.
    let budget = sbert4j::core::cpu_settings().unwrap().threads;
    let fixture = fixture("all-MiniLM-L6-v2.reference.json");
    let texts: Vec<&str> = fixture.cases[0].texts.iter().map(String::as_str).cycle().take(40).collect();
    for precision in Precision::ALL {
        let open = |threads| {
            let options = EncoderOptions { precision, threads, batch_size: 40, micro_batching: false, ..Default::default() };
            Encoder::open(default_model(), options).unwrap()
        };
        let alone = open(Some(1)).encode_batch(&texts).unwrap();
        let before = sbert4j::core::lane_passes();
        let lanes = open(None).encode_batch(&texts).unwrap();
        if budget < 2 {
            eprintln!("SKIPPED: lanes need a thread budget of 2 or more (this machine: {budget})");
            return;
        }
        assert!(sbert4j::core::lane_passes() > before, "{precision}: the batch of 40 ran as lanes");
        for (i, (a, b)) in alone.iter().zip(&lanes).enumerate() {
            assert!(a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits()), "{precision}, text {i}: lanes changed the vector");
        }
    }
}

fn preview(text: &str) -> String {
    text.chars().take(40).collect()
}
