//! FP32 / BF16 / INT8 speed of the Rust core, for bench/run.sh's
//! "precision" phase: `target/release/examples/precision_speed MODEL CORPUS
//! N REPS OUT.json`. Per precision: the first N texts of the corpus in
//! batches of 32 (after one warm-up round), REPS times (sentences/s), and
//! single-text latency (`encode` of each of the first N texts alone, after
//! a warm-up; median and p90 in ms). Writes one JSON object. An optional
//! sixth argument limits the run to some precisions (`int8` or `fp32,int8`).

use std::time::Instant;

use sbert4j::core::cpu_settings;
use sbert4j::{Encoder, EncoderOptions, Precision};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if !(6..=7).contains(&args.len()) {
        eprintln!("usage: precision_speed MODEL CORPUS N REPS OUT.json [PRECISIONS]");
        std::process::exit(2);
    }
    let (model, corpus, out) = (&args[1], &args[2], &args[5]);
    let [n, reps]: [usize; 2] = [3, 4].map(|i| args[i].parse().expect("a number"));
    let text = std::fs::read_to_string(corpus).expect("corpus");
    let texts: Vec<&str> = text.lines().take(n).collect();
    let mut rows = Vec::new();
    let wanted = |p: Precision| args.get(6).is_none_or(|list| list.split(',').any(|w| w.eq_ignore_ascii_case(&p.to_string())));
    for precision in Precision::ALL.into_iter().filter(|&p| wanted(p)) {
        let options = EncoderOptions { precision, batch_size: 32, micro_batching: false, ..Default::default() };
        let encoder = Encoder::open(model, options).unwrap_or_else(|e| {
            eprintln!("precision_speed: {e}");
            std::process::exit(1);
        });
        let batch_rate = || {
            let t = Instant::now();
            for chunk in texts.chunks(32) {
                encoder.encode_batch(chunk).expect("encode");
            }
            texts.len() as f64 / t.elapsed().as_secs_f64()
        };
        batch_rate();
        let rates: Vec<f64> = (0..reps).map(|_| batch_rate()).collect();
        for t in texts.iter().take(20) {
            encoder.encode(t).expect("encode");
        }
        let mut ms: Vec<f64> = texts
            .iter()
            .map(|t| {
                let start = Instant::now();
                encoder.encode(t).expect("encode");
                start.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        let (p50, p90) = (ms[ms.len() / 2], ms[ms.len() * 9 / 10]);
        let best = rates.iter().copied().fold(0.0, f64::max);
        eprintln!("{precision}: batch 32 {best:.1} sent/s (best of {reps}), single text p50 {p50:.2} ms, p90 {p90:.2} ms");
        rows.push(format!(
            "\"{precision}\": {{\"batch32_sent_per_s\": [{}], \"single_ms_p50\": {p50:.3}, \"single_ms_p90\": {p90:.3}}}",
            rates.iter().map(|r| format!("{r:.1}")).collect::<Vec<_>>().join(", ")
        ));
    }
    let settings = cpu_settings().expect("settings");
    let json = format!("{{\"path\": \"{}\", \"threads\": {}, \"texts\": {n}, {}}}\n", settings.path, settings.threads, rows.join(", "));
    std::fs::write(out, json).expect("writing the result");
}
