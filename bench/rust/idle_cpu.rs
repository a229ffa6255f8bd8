//! The thread budget and idle cost, measured: `cargo run --release --example
//! idle_cpu -- [calls=200] [threads]` (threads: the encoder's own cap;
//! `SBERT4J_THREADS` sets the process budget). Runs a burst of single-text
//! encodes with the default model on one thread, then:
//! - during the burst: the process's CPU time over the burst's wall time
//!   (how many threads were busy on average: never above the budget) and the
//!   most threads the process had;
//! - during the burst: the CPU time the team's threads spent spinning
//!   (`burst_spin_s`, counted by the team) and its share of the burst's CPU;
//! - after it: the process's CPU time over one second of idleness (helpers
//!   park when a pass ends, so this should be about 0);
//! - the same burst on one thread (the caller alone, nothing to wait for):
//!   the CPU the multi-threaded burst spent beyond it is what waiting costs
//!   (helpers spinning between steps, hand-offs), as a fraction of the
//!   multi-threaded burst's CPU (`overhead_vs_1_thread`).
//! Linux only (reads /proc/self).

use std::time::{Duration, Instant};

use sbert4j::core::cpu_settings;
use sbert4j::{Encoder, EncoderOptions};

/// User + system CPU time of this process, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0 // USER_HZ
}

fn threads_now() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let calls: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200);
    let threads: Option<usize> = args.get(2).and_then(|s| s.parse().ok());
    let encoder = Encoder::open("models/all-MiniLM-L6-v2", EncoderOptions { threads, ..Default::default() }).expect("model");
    let settings = cpu_settings().expect("settings");
    let corpus = std::fs::read_to_string("bench/sentences.txt").expect("bench/sentences.txt");
    let texts: Vec<&str> = corpus.lines().collect();
    encoder.encode(texts[0]).expect("warm-up");
    let (cpu0, spin0, wall0) = (cpu_seconds(), sbert4j::core::spin_seconds(), Instant::now());
    let mut most_threads = threads_now();
    for i in 0..calls {
        encoder.encode(texts[i % texts.len()]).expect("encode");
        most_threads = most_threads.max(threads_now());
    }
    let (burst_cpu, burst_wall) = (cpu_seconds() - cpu0, wall0.elapsed().as_secs_f64());
    let burst_spin = sbert4j::core::spin_seconds() - spin0;
    let idle0 = cpu_seconds();
    std::thread::sleep(Duration::from_secs(1));
    let idle_cpu = cpu_seconds() - idle0;
    // The same calls on the caller's thread alone.
    let alone = Encoder::open("models/all-MiniLM-L6-v2", EncoderOptions { threads: Some(1), ..Default::default() }).expect("model");
    alone.encode(texts[0]).expect("warm-up");
    let cpu1 = cpu_seconds();
    for i in 0..calls {
        alone.encode(texts[i % texts.len()]).expect("encode");
    }
    let alone_cpu = cpu_seconds() - cpu1;
    println!(
        "{{\"path\": \"{}\", \"budget\": {}, \"encoder_threads\": {}, \"calls\": {calls}, \"burst_wall_s\": {burst_wall:.3}, \
         \"burst_cpu_s\": {burst_cpu:.3}, \"busy_threads_avg\": {:.2}, \"process_threads_max\": {most_threads}, \
         \"burst_spin_s\": {burst_spin:.3}, \"spin_share\": {:.3}, \"idle_1s_cpu_s\": {idle_cpu:.3}, \"one_thread_cpu_s\": {alone_cpu:.3}, \"overhead_vs_1_thread\": {:.3}}}",
        settings.path,
        settings.threads,
        threads.map_or("null".to_string(), |t| t.to_string()),
        burst_cpu / burst_wall,
        burst_spin / burst_cpu,
        (burst_cpu - alone_cpu) / burst_cpu
    );
}
