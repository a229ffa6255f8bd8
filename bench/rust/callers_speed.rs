//! Many threads calling `Encoder::encode` one text at a time (the seed's
//! load pattern, without Java), alternating with `encode_batch` of 32 on
//! the same encoder: `cargo run --release --example callers_speed --
//! [callers] [texts per caller] [reps] [model] [corpus] [precision]`
//! (defaults 16, 100, 3, models/all-MiniLM-L6-v2, bench/sentences.txt,
//! fp32). Per rep: texts/s of the callers, of batches of 32 over the same
//! texts, their ratio, the process's CPU use (cores busy on average) in
//! each, and how many texts micro-batching put in each forward pass.

use std::time::Instant;

use sbert4j::{Encoder, EncoderOptions, Precision};

/// CPU seconds this process has used (user + system, from /proc; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Runs `work`; returns its texts/s for `texts` texts and the cores it kept busy.
fn measure(texts: usize, work: impl FnOnce()) -> (f64, f64) {
    let (cpu, started) = (cpu_seconds(), Instant::now());
    work();
    let wall = started.elapsed().as_secs_f64();
    (texts as f64 / wall, (cpu_seconds() - cpu) / wall)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let number = |i: usize, default: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default);
    let (callers, per, reps) = (number(1, 16), number(2, 100), number(3, 3));
    let model = args.get(4).map_or("models/all-MiniLM-L6-v2", String::as_str);
    let corpus = std::fs::read_to_string(args.get(5).map_or("bench/sentences.txt", String::as_str)).expect("corpus");
    let precision = Precision::parse(args.get(6).map_or("fp32", String::as_str)).expect("precision");
    let all: Vec<&str> = corpus.lines().collect();
    let texts: Vec<&str> = (0..callers * per).map(|i| all[i % all.len()]).collect();
    let enc = Encoder::open(model, EncoderOptions { precision, ..Default::default() }).expect("model");
    enc.encode_batch(&texts[..texts.len().min(64)]).expect("warm-up");
    for _ in 0..reps {
        let (p0, t0) = enc.micro_batching_stats().unwrap_or((0, 0));
        let (rate, busy) = measure(texts.len(), || {
            std::thread::scope(|s| {
                for mine in texts.chunks(per) {
                    let enc = &enc;
                    s.spawn(move || mine.iter().for_each(|t| drop(enc.encode(t).expect("encode"))));
                }
            })
        });
        let (p1, t1) = enc.micro_batching_stats().unwrap_or((0, 0));
        let (batch, batch_busy) = measure(texts.len(), || texts.chunks(32).for_each(|c| drop(enc.encode_batch(c).expect("encode"))));
        println!(
            "{callers} callers: {rate:.0} texts/s ({busy:.2} cores busy), {:.1} texts per pass; batches of 32: {batch:.0} texts/s ({batch_busy:.2}); callers / batch {:.2}",
            (t1 - t0) as f64 / (p1 - p0).max(1) as f64,
            rate / batch
        );
    }
}
