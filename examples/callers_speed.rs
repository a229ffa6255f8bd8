//! Many threads calling `Encoder::encode` one text at a time (the seed's
//! load pattern, without Java): `cargo run --release --example callers_speed
//! -- [callers] [texts per caller] [reps]`. Prints texts/s and how many texts
//! micro-batching put in each forward pass.

use std::time::Instant;

use sbert4j::{Encoder, EncoderOptions};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let callers: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(16);
    let per: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    let reps: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(3);
    let corpus = std::fs::read_to_string("bench/sentences.txt").expect("corpus");
    let texts: Vec<&str> = corpus.lines().collect();
    let enc = Encoder::open("models/all-MiniLM-L6-v2", EncoderOptions::default()).expect("model");
    for _ in 0..reps {
        let (p0, t0) = enc.micro_batching_stats().unwrap_or((0, 0));
        let started = Instant::now();
        std::thread::scope(|s| {
            for c in 0..callers {
                let (enc, texts) = (&enc, &texts);
                s.spawn(move || {
                    for i in 0..per {
                        enc.encode(texts[(c * per + i) % texts.len()]).expect("encode");
                    }
                });
            }
        });
        let rate = (callers * per) as f64 / started.elapsed().as_secs_f64();
        let (p1, t1) = enc.micro_batching_stats().unwrap_or((0, 0));
        println!("{callers} callers: {rate:.0} texts/s, {:.1} texts per pass", (t1 - t0) as f64 / (p1 - p0).max(1) as f64);
    }
}
