//! Many threads on one encoder: micro-batching coalesces their single-text
//! calls into shared forward passes without changing any vector.

mod common;

use common::*;
use sbert4j::{Encoder, EncoderOptions};

#[test]
fn concurrent_single_texts_are_coalesced_and_keep_their_vectors() {
    let texts = fixture("all-MiniLM-L6-v2.reference.json").cases.remove(0).texts;
    let alone = Encoder::open(default_model(), EncoderOptions { micro_batching: false, ..Default::default() }).unwrap();
    let want: Vec<Vec<f32>> = texts.iter().map(|t| alone.encode(t).unwrap()).collect();
    assert!(alone.micro_batching_stats().is_none());

    let shared = Encoder::open(default_model(), EncoderOptions::default()).unwrap();
    let threads = 12;
    let rounds = 4;
    std::thread::scope(|s| {
        for id in 0..threads {
            let (shared, texts, want) = (&shared, &texts, &want);
            s.spawn(move || {
                for round in 0..rounds {
                    for k in 0..texts.len() {
                        let i = (k + id * 5 + round) % texts.len();
                        let diff = max_abs_diff(&shared.encode(&texts[i]).unwrap(), &want[i]);
                        assert!(diff <= 1e-6, "thread {id}, text {i}: differs from the lone encode by {diff}");
                    }
                }
            });
        }
    });
    let (passes, coalesced) = shared.micro_batching_stats().unwrap();
    let calls = (threads * rounds * texts.len()) as u64;
    assert_eq!(coalesced, calls, "every call went through the queue once");
    assert!(passes < calls, "{calls} calls in {passes} passes: nothing was coalesced");
    eprintln!("{calls} calls from {threads} threads in {passes} forward passes");
}
