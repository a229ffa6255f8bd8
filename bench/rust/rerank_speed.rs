//! Reranking speed of the Rust core alone: one query against 32 documents
//! (`CrossEncoder::rank`), the workload of a retrieval pipeline's rerank
//! step.
//!
//! `cargo run --release --example rerank_speed -- MODEL_DIR CORPUS QUERIES REPS OUT.json`
//!
//! The corpus's lines are taken in turn: each query is a line, its 32
//! documents the next 32 lines. QUERIES such reranks, REPS times after one
//! warm-up pass. Writes JSON: per rep the median and mean milliseconds per
//! rerank, and pairs per second.

use std::time::Instant;

use sbert4j::{CrossEncoder, CrossEncoderOptions};

const DOCS: usize = 32;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 6 {
        eprintln!("usage: rerank_speed MODEL_DIR CORPUS QUERIES REPS OUT.json");
        std::process::exit(2);
    }
    let (model, corpus, out) = (&args[1], &args[2], &args[5]);
    let queries: usize = args[3].parse().expect("QUERIES");
    let reps: usize = args[4].parse().expect("REPS");
    let text = std::fs::read_to_string(corpus).expect("corpus");
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    assert!(lines.len() > DOCS, "the corpus needs more than {DOCS} lines");
    let job = |q: usize| {
        let start = (q * (DOCS + 1)) % (lines.len() - DOCS);
        (lines[start], &lines[start + 1..start + 1 + DOCS])
    };
    let ce = CrossEncoder::open(model, CrossEncoderOptions::default()).expect("open model");
    let mut checksum = 0f64;
    for q in 0..queries {
        let (query, docs) = job(q);
        checksum += f64::from(ce.rank(query, docs, Some(1)).unwrap()[0].1); // warm-up
    }
    let (mut p50s, mut means) = (vec![], vec![]);
    for _ in 0..reps {
        let mut ms = Vec::with_capacity(queries);
        for q in 0..queries {
            let (query, docs) = job(q);
            let started = Instant::now();
            let ranked = ce.rank(query, docs, None).unwrap();
            ms.push(started.elapsed().as_secs_f64() * 1e3);
            checksum += f64::from(ranked[0].1);
        }
        means.push(ms.iter().sum::<f64>() / ms.len() as f64);
        ms.sort_by(f64::total_cmp);
        p50s.push(ms[ms.len() / 2]);
    }
    let list = |v: &[f64]| v.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(", ");
    let best = means.iter().copied().fold(f64::INFINITY, f64::min);
    let json = format!(
        "{{\"system\": \"sbert4j Rust core\", \"queries\": {queries}, \"documents\": {DOCS}, \"reps\": {reps}, \"threads\": {}, \"p50_ms\": [{}], \"mean_ms\": [{}], \"pairs_per_s\": {:.1}, \"checksum\": {checksum:.6}}}",
        sbert4j::core::cpu_settings().map_or(0, |s| s.threads),
        list(&p50s),
        list(&means),
        DOCS as f64 * 1e3 / best,
    );
    std::fs::write(out, &json).expect("write");
    println!("{json}");
}
