//! Batch throughput of the Rust core on one CPU path, for bench/run.sh's
//! "CPU paths" phase: `SBERT4J_CPU=<path> SBERT4J_THREADS=<n>
//! target/release/examples/path_speed MODEL CORPUS N REPS BATCH OUT.json`.
//! Encodes the first N texts of the corpus in batches of BATCH (after one
//! warm-up round), REPS times, and writes the rates with the path and the
//! thread budget that ran them.

use std::time::Instant;

use sbert4j::core::cpu_settings;
use sbert4j::{Encoder, EncoderOptions};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 7 {
        eprintln!("usage: path_speed MODEL CORPUS N REPS BATCH OUT.json (SBERT4J_CPU picks the path)");
        std::process::exit(2);
    }
    let (model, corpus, out) = (&args[1], &args[2], &args[6]);
    let [n, reps, batch]: [usize; 3] = [3, 4, 5].map(|i| args[i].parse().expect("a number"));
    let text = std::fs::read_to_string(corpus).expect("corpus");
    let texts: Vec<&str> = text.lines().take(n).collect();
    let encoder = Encoder::open(model, EncoderOptions { batch_size: batch, ..Default::default() }).unwrap_or_else(|e| {
        eprintln!("path_speed: {e}");
        std::process::exit(1);
    });
    let settings = cpu_settings().expect("settings");
    let run = || {
        let t = Instant::now();
        for chunk in texts.chunks(batch) {
            encoder.encode_batch(chunk).expect("encode");
        }
        texts.len() as f64 / t.elapsed().as_secs_f64()
    };
    run();
    let rates: Vec<String> = (0..reps).map(|_| format!("{:.1}", run())).collect();
    let json = format!(
        "{{\"path\": \"{}\", \"threads\": {}, \"batch\": {batch}, \"texts\": {}, \"sent_per_s\": [{}]}}\n",
        settings.path,
        settings.threads,
        texts.len(),
        rates.join(", ")
    );
    eprint!("{json}");
    std::fs::write(out, json).expect("writing the result");
}
