//! The CrossEncoder against sentence-transformers 6.2 on random-weight
//! models saved by its own `CrossEncoder.save()` (6.x format) and as older
//! releases laid them out (tests/reference/make_cross_fixtures.py): every
//! architecture's head, one and several labels, saved and default
//! activations, prompts (named, literal, empty, default), long documents
//! and queries (longest-first truncation), literal special tokens; the
//! input ids of every pair, `predict`'s scores within 1e-5 on both engines
//! and every batching, and `rank`'s order.

mod common;

use common::root;
use sbert4j::{CrossEncoder, CrossEncoderOptions, Engine, Error, Precision, Prompt, ScoreActivation};
use serde::Deserialize;

const MODELS: [&str; 9] = [
    "ce-bert-st6",
    "ce-xlm-roberta-st6",
    "ce-distilbert-st6",
    "ce-mpnet-st6",
    "ce-roberta-st6",
    "ce-modernbert-st6",
    "ce-bert-legacy",
    "ce-xlm-roberta-legacy",
    "ce-distilbert-legacy",
];
const TOL: f32 = 1e-5;

#[derive(Deserialize)]
struct Fixture {
    num_labels: usize,
    activation_fn: String,
    max_length: usize,
    cases: Vec<Case>,
    rank: Rank,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    pairs: Vec<(String, String)>,
    scores: Vec<Vec<f32>>,
    input_ids: Vec<Vec<u32>>,
    prompt_name: Option<String>,
    prompt: Option<String>,
}

#[derive(Deserialize)]
struct Rank {
    query: String,
    documents: Vec<String>,
    ranked: Option<Vec<Ranked>>,
}

#[derive(Deserialize)]
struct Ranked {
    corpus_id: usize,
    score: f32,
}

fn fixture(name: &str) -> Fixture {
    let path = root().join("tests/fixtures").join(format!("{name}.reference.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn dir(name: &str) -> std::path::PathBuf {
    root().join("tests/fixtures/models").join(name)
}

fn open(name: &str, options: CrossEncoderOptions) -> CrossEncoder {
    CrossEncoder::open(dir(name), options).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn case_prompt<'a>(model: &'a CrossEncoder, case: &'a Case) -> Option<&'a str> {
    match (&case.prompt, &case.prompt_name) {
        (Some(text), _) => Some(text),
        (None, Some(name)) => Some(model.prompt(name).unwrap()),
        (None, None) => None,
    }
}

fn assert_scores(what: &str, got: &[f32], want: &[Vec<f32>]) {
    let want: Vec<f32> = want.iter().flatten().copied().collect();
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!((g - w).abs() <= TOL, "{what}: score {i}: {g} vs sentence-transformers' {w} (|diff| {})", (g - w).abs());
    }
}

#[test]
fn scores_match_sentence_transformers_on_every_model_engine_and_batching() {
    for name in MODELS {
        let fx = fixture(name);
        for engine in [Engine::Reference, Engine::Fast] {
            for (batch_size, micro_batching) in [(32, false), (3, false), (32, true)] {
                let model = open(name, CrossEncoderOptions { engine, batch_size, micro_batching, ..Default::default() });
                assert_eq!(model.num_labels(), fx.num_labels, "{name}");
                assert_eq!(model.activation().name(), fx.activation_fn, "{name}");
                assert_eq!(model.max_length(), fx.max_length, "{name}");
                for case in &fx.cases {
                    let what = format!("{name} {engine:?} batch {batch_size} micro {micro_batching}: {}", case.name);
                    let prompt = case_prompt(&model, case);
                    let mut got = vec![0f32; case.pairs.len() * fx.num_labels];
                    model.predict_into(&case.pairs, prompt, &mut got).unwrap_or_else(|e| panic!("{what}: {e}"));
                    assert_scores(&what, &got, &case.scores);
                    // One pair at a time (through the micro-batcher when on).
                    for (i, pair) in case.pairs.iter().enumerate().step_by(5) {
                        let mut one = vec![0f32; fx.num_labels];
                        model.predict_into(std::slice::from_ref(pair), prompt, &mut one).unwrap();
                        assert_scores(&format!("{what}: pair {i} alone"), &one, &case.scores[i..=i]);
                    }
                }
            }
        }
    }
}

/// The tokens of each pair are sentence-transformers' `preprocess` ids:
/// the pair template, longest-first truncation at the model's max length,
/// prompts in front of the first text.
#[test]
fn pair_tokens_are_sentence_transformers_input_ids() {
    for name in MODELS {
        let fx = fixture(name);
        let model = open(name, CrossEncoderOptions::default());
        let mut longest = 0;
        for case in &fx.cases {
            let prompt = case_prompt(&model, case).unwrap_or(model.default_prompt()).to_string();
            for (pair, want) in case.pairs.iter().zip(&case.input_ids) {
                let got = model.pair_token_ids(&pair.0, &pair.1, Some(&prompt)).unwrap();
                assert_eq!(&got, want, "{name} {}: {:?}", case.name, (&pair.0.chars().take(30).collect::<String>(), &pair.1.chars().take(30).collect::<String>()));
                longest = longest.max(got.len());
            }
        }
        assert_eq!(longest, fx.max_length, "{name}: some pair is truncated at max_length");
    }
}

#[test]
fn rank_orders_documents_as_sentence_transformers() {
    for name in MODELS {
        let fx = fixture(name);
        let model = open(name, CrossEncoderOptions::default());
        match &fx.rank.ranked {
            Some(want) => {
                let got = model.rank(&fx.rank.query, &fx.rank.documents, None).unwrap();
                assert_eq!(got.len(), want.len());
                for (g, w) in got.iter().zip(want) {
                    assert!((g.1 - w.score).abs() <= TOL, "{name}: {g:?} vs {}", w.score);
                }
                // Order: by score; ties within the tolerance may swap.
                for (g, w) in got.iter().zip(want) {
                    if g.0 != w.corpus_id {
                        let other = want.iter().find(|r| r.corpus_id == g.0).unwrap();
                        assert!((other.score - w.score).abs() <= TOL, "{name}: rank order differs beyond ties");
                    }
                }
                assert_eq!(model.rank(&fx.rank.query, &fx.rank.documents, Some(3)).unwrap(), got[..3].to_vec());
            }
            None => {
                let err = model.rank(&fx.rank.query, &fx.rank.documents, None).unwrap_err();
                assert!(matches!(err, Error::InvalidArgument(_)), "{name}: {err}");
            }
        }
    }
}

#[test]
fn options_override_the_saved_choices() {
    let fx = fixture("ce-bert-st6");
    let case = &fx.cases[0];
    // Identity: the logits; sigmoid of them is the saved Sigmoid's score.
    let raw = open("ce-bert-st6", CrossEncoderOptions { activation: Some(ScoreActivation::Identity), ..Default::default() });
    let logits = raw.predict(&case.pairs).unwrap();
    for (l, want) in logits.iter().zip(&case.scores) {
        assert!((1.0 / (1.0 + (-l[0]).exp()) - want[0]).abs() <= TOL);
    }
    // A default prompt by name is the named prompt's case.
    let named = fx.cases.iter().find(|c| c.prompt_name.as_deref() == Some("query")).unwrap();
    let model = open("ce-bert-st6", CrossEncoderOptions { default_prompt: Some(Prompt::Named("query".into())), ..Default::default() });
    let got: Vec<f32> = model.predict(&named.pairs).unwrap().concat();
    assert_scores("default prompt by name", &got, &named.scores);
    // The MPNet fixture's saved default prompt, switched off by a literal empty one.
    let mpnet = fixture("ce-mpnet-st6");
    let empty = mpnet.cases.iter().find(|c| c.prompt.as_deref() == Some("")).unwrap();
    let model = open("ce-mpnet-st6", CrossEncoderOptions { default_prompt: Some(Prompt::Literal(String::new())), ..Default::default() });
    assert_scores("no default prompt", &model.predict(&empty.pairs).unwrap().concat(), &empty.scores);
    // A shorter max length truncates more.
    let short = open("ce-bert-st6", CrossEncoderOptions { max_length: Some(16), ..Default::default() });
    assert_eq!(short.max_length(), 16);
    assert_eq!(short.pair_token_ids(&case.pairs[4].0, &case.pairs[4].1, None).unwrap().len(), 16);
}

#[test]
fn reduced_precisions_stay_close() {
    let fx = fixture("ce-xlm-roberta-st6");
    for precision in [Precision::Bf16, Precision::Int8] {
        let model = open("ce-xlm-roberta-st6", CrossEncoderOptions { precision, ..Default::default() });
        let got = model.predict(&fx.cases[0].pairs).unwrap();
        for (g, w) in got.iter().zip(&fx.cases[0].scores) {
            assert!((g[0] - w[0]).abs() < 0.05, "{precision}: {} vs {}", g[0], w[0]);
        }
    }
}

#[test]
fn bad_input_is_an_error_not_a_crash() {
    let model = open("ce-bert-st6", CrossEncoderOptions::default());
    let err = |r: sbert4j::Result<()>| r.unwrap_err();
    assert!(matches!(err(model.predict_into(&[("a", "b")], None, &mut [0.0; 2])), Error::InvalidArgument(_)));
    assert!(matches!(model.prompt("nope").unwrap_err(), Error::InvalidArgument(_)));
    for options in [
        CrossEncoderOptions { batch_size: 0, ..Default::default() },
        CrossEncoderOptions { threads: Some(0), ..Default::default() },
        CrossEncoderOptions { max_length: Some(1), ..Default::default() },
        CrossEncoderOptions { max_length: Some(100_000), ..Default::default() },
        CrossEncoderOptions { engine: Engine::Reference, precision: Precision::Int8, ..Default::default() },
    ] {
        assert!(matches!(CrossEncoder::open(dir("ce-bert-st6"), options.clone()), Err(Error::InvalidArgument(_))), "{options:?}");
    }
    // A max length the pair template does not fit in (4 < 3 specials + 2).
    let tiny = open("ce-bert-st6", CrossEncoderOptions { max_length: Some(4), ..Default::default() });
    assert!(tiny.predict(&[("a", "b")]).is_err());
    // A huge document is cut before tokenizing and scores as a long one.
    let huge = "word ".repeat(2_000_000);
    let long = "word ".repeat(200);
    let a = model.predict(&[("query", huge.as_str())]).unwrap();
    let b = model.predict(&[("query", long.as_str())]).unwrap();
    assert_eq!(a, b);
    // Not a CrossEncoder directory: a SentenceTransformer's Pooling module.
    let st = CrossEncoder::open(root().join("tests/fixtures/models/prompts-st6"), CrossEncoderOptions::default());
    assert!(matches!(st, Err(Error::Unsupported { .. })), "{:?}", st.err());
    assert!(matches!(CrossEncoder::open(dir("no-such-model"), CrossEncoderOptions::default()), Err(Error::Model { .. })));
}
