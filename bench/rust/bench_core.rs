//! The Rust core's own time per `Encoder::encode` call, without JNI: the
//! baseline bench/run.sh subtracts from the Java-side time of
//! `SentenceEncoder.encode(String)` on the same texts to get the JNI
//! overhead per call.
//!
//! `cargo run --release --example bench_core -- MODEL_DIR CORPUS N REPS OUT.json`
//!
//! Encodes the first N lines of CORPUS one at a time, in order, REPS times
//! after one warm-up pass, on the calling thread (the core's own thread team,
//! sized by SBERT4J_THREADS, does the parallel work exactly as under JNI).
//! Writes JSON: per-rep p50 and mean per call (µs), and per text the minimum
//! over reps (µs), which is what the overhead estimate compares.

use std::fmt::Write as _;
use std::time::Instant;

use sbert4j::{Encoder, EncoderOptions};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 {
        eprintln!("usage: bench_core MODEL_DIR CORPUS N REPS OUT.json");
        std::process::exit(2);
    }
    let (model, corpus, out) = (&args[1], &args[2], &args[5]);
    let n: usize = args[3].parse().expect("N");
    let reps: usize = args[4].parse().expect("REPS");
    let text = std::fs::read_to_string(corpus).expect("corpus");
    let texts: Vec<&str> = text.lines().take(n).collect();
    let enc = Encoder::open(model, EncoderOptions::default()).expect("open model");

    let mut checksum = 0f64;
    for t in &texts {
        checksum += enc.encode(t).unwrap()[0] as f64; // warm-up
    }
    let mut min_us = vec![f64::INFINITY; texts.len()];
    let (mut p50s, mut means) = (vec![], vec![]);
    for _ in 0..reps {
        let mut us = Vec::with_capacity(texts.len());
        for (i, t) in texts.iter().enumerate() {
            let started = Instant::now();
            let v = enc.encode(t).unwrap();
            let took = started.elapsed().as_secs_f64() * 1e6;
            checksum += v[0] as f64;
            min_us[i] = min_us[i].min(took);
            us.push(took);
        }
        means.push(us.iter().sum::<f64>() / us.len() as f64);
        us.sort_by(|a, b| a.partial_cmp(b).unwrap());
        p50s.push(us[us.len() / 2]);
    }

    let list = |v: &[f64]| v.iter().map(|x| format!("{x:.2}")).collect::<Vec<_>>().join(", ");
    let mut json = String::new();
    write!(
        json,
        "{{\"texts\": {}, \"reps\": {}, \"threads\": {}, \"p50_us\": [{}], \"mean_us\": [{}], \"min_us_per_text\": [{}], \"checksum\": {checksum:.6}}}",
        texts.len(),
        reps,
        sbert4j::core::cpu_settings().map_or(0, |s| s.threads),
        list(&p50s),
        list(&means),
        list(&min_us)
    )
    .unwrap();
    std::fs::write(out, json + "\n").expect("write output");
    eprintln!("bench_core: {} texts x {reps} reps, p50 per call {:.0} µs", texts.len(), p50s[p50s.len() / 2]);
}
