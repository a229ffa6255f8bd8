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
    // Tokens per text (as the model truncates them), for the report's FLOP count.
    let mut tokenizer = tokenizers::Tokenizer::from_file(std::path::Path::new(model).join("tokenizer.json")).expect("tokenizer.json");
    // The file's own padding and truncation are not what the model runs (see tokenize.rs).
    tokenizer.with_padding(None).with_truncation(None).expect("no truncation");
    let max_len = encoder.max_seq_length();
    let tokens: Vec<String> = texts
        .iter()
        .map(|t| tokenizer.encode(t.trim(), true).map_or(0, |e| e.get_ids().len()).min(max_len).to_string())
        .collect();
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
        "{{\"path\": \"{}\", \"threads\": {}, \"batch\": {batch}, \"texts\": {}, \"sent_per_s\": [{}], \"tokens_per_text\": [{}]}}\n",
        settings.path,
        settings.threads,
        texts.len(),
        rates.join(", "),
        tokens.join(", ")
    );
    eprintln!("{} path, {} threads: {} sent/s", settings.path, settings.threads, rates.join(", "));
    std::fs::write(out, json).expect("writing the result");
}
