//! Quick look at the core's speed, without JNI:
//! `cargo run --release --example core_speed -- [corpus.txt] [reps] [batch sizes] [engines] [precision]`
//! (defaults: bench/sentences.txt, 3, `1,8,32,128`, `fast,reference`, `fp32`;
//! a precision other than fp32 is the fast engine's only). The
//! real benchmark, beside the Python and ONNX peers, is bench/run.sh.

use std::time::Instant;

use sbert4j::{Encoder, EncoderOptions, Engine, Precision};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let corpus = args.get(1).map_or("bench/sentences.txt", String::as_str);
    let reps: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3);
    let sizes: Vec<usize> = args.get(3).map_or("1,8,32,128", String::as_str).split(',').map(|s| s.parse().expect("batch size")).collect();
    let engines: Vec<Engine> = args
        .get(4)
        .map_or("fast,reference", String::as_str)
        .split(',')
        .map(|e| match e {
            "fast" => Engine::Fast,
            "reference" => Engine::Reference,
            other => panic!("unknown engine {other} (fast, reference)"),
        })
        .collect();
    let precision = Precision::parse(args.get(5).map_or("fp32", String::as_str)).expect("precision");
    let text = std::fs::read_to_string(corpus).expect("corpus");
    let texts: Vec<&str> = text.lines().collect();
    for &engine in &engines {
        for &bs in &sizes {
            let enc = Encoder::open("models/all-MiniLM-L6-v2", EncoderOptions { batch_size: bs, engine, precision, ..Default::default() }).unwrap();
            let mut rates = vec![];
            for _ in 0..reps {
                let t = Instant::now();
                for chunk in texts.chunks(bs) {
                    enc.encode_batch(chunk).unwrap();
                }
                rates.push(texts.len() as f64 / t.elapsed().as_secs_f64());
            }
            rates.sort_by(|a, b| a.partial_cmp(b).unwrap());
            println!("{engine:?} bs {bs:>3}: {:>6.0} sent/s (min {:.0}, max {:.0})", rates[reps / 2], rates[0], rates[reps - 1]);
        }
    }
}
