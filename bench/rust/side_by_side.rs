//! Encoders side by side in one process: K encoders of `threads(w)` each
//! (Spark tasks with `spark.task.cpus = w` sharing an executor) encoding
//! batches at once, against one of them alone. `cargo run --release
//! --example side_by_side -- [encoders] [threads each] [texts each] [reps]
//! [model] [corpus]` (defaults 2, 1, 320, 3, models/all-MiniLM-L6-v2,
//! bench/sentences.txt). The process's thread budget (`SBERT4J_THREADS`,
//! default every CPU) must hold encoders × threads. Per rep: texts/s of
//! one encoder alone, of all K at once, their ratio (K×w cores used well:
//! about K), and the process's CPU use (cores busy) in each.

use std::time::Instant;

use sbert4j::core::{cpu_settings, team_counters};
use sbert4j::{Encoder, EncoderOptions};

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

fn encode_all(enc: &Encoder, texts: &[&str]) {
    for chunk in texts.chunks(32) {
        drop(enc.encode_batch(chunk).expect("encode"));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let number = |i: usize, default: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default);
    let (encoders, threads, per, reps) = (number(1, 2).max(1), number(2, 1).max(1), number(3, 320), number(4, 3));
    let model = args.get(5).map_or("models/all-MiniLM-L6-v2", String::as_str);
    let corpus = std::fs::read_to_string(args.get(6).map_or("bench/sentences.txt", String::as_str)).expect("corpus");
    let all: Vec<&str> = corpus.lines().filter(|l| !l.trim().is_empty()).collect();
    let budget = cpu_settings().expect("CPU settings").threads;
    if encoders * threads > budget {
        eprintln!("side_by_side: {encoders} encoders x {threads} threads exceed the thread budget of {budget} (SBERT4J_THREADS): they will take turns");
    }
    // Each encoder its own texts (the same corpus, shifted), each its own handle on the shared model.
    let texts: Vec<Vec<&str>> = (0..encoders).map(|e| (0..per).map(|i| all[(e * per + i) % all.len()]).collect()).collect();
    let opened: Vec<Encoder> = (0..encoders)
        .map(|_| Encoder::open(model, EncoderOptions { threads: Some(threads), ..Default::default() }).expect("model"))
        .collect();
    for (enc, mine) in opened.iter().zip(&texts) {
        encode_all(enc, &mine[..mine.len().min(64)]);
    }
    println!("{encoders} encoders x threads({threads}), budget {budget}, {per} texts each in batches of 32, {model}");
    for _ in 0..reps {
        let (alone, alone_busy) = measure(per, || encode_all(&opened[0], &texts[0]));
        let (together, together_busy) = measure(per * encoders, || {
            std::thread::scope(|s| {
                for (enc, mine) in opened.iter().zip(&texts) {
                    s.spawn(move || encode_all(enc, mine));
                }
            })
        });
        println!(
            "one alone: {alone:.0} texts/s ({alone_busy:.2} cores busy); {encoders} at once: {together:.0} texts/s ({together_busy:.2}); at once / alone {:.2}",
            together / alone
        );
    }
    let (_, most, _, workers) = team_counters();
    println!("most threads running passes at once: {most} (the team's workers: {workers})");
}
