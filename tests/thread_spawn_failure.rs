//! A process that cannot start the fast engine's threads (out of threads,
//! a container's pids limit) gets an error from the call that tried, with
//! nothing left half-started, and the next call tries again: the failure
//! is not cached in the lazily started team. A process of its own (the
//! team is process-wide and must not have started before the test).

mod common;

use common::*;
use sbert4j::core::{configure_cpu, fail_thread_spawns_for_testing};
use sbert4j::{Encoder, EncoderOptions, Error};

/// This process's threads named like the team's (Linux names them in
/// /proc/self/task/*/comm).
fn team_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("sbert4j-team"))
        .count()
}

#[test]
fn a_failed_thread_spawn_fails_that_call_only() {
    // Two threads: one helper and the leader are spawned on first use.
    configure_cpu(None, Some("2")).expect("a budget of 2 threads");
    let fixture = fixture("bert-mean-sqrt-len-st6.reference.json");
    let case = &fixture.cases[0];
    assert!(case.files.is_empty() && case.options.prompt.is_none(), "the first case is the model as shipped");
    let dir = root().join("tests/fixtures/models/bert-mean-sqrt-len-st6");
    let encoder = Encoder::open(&dir, EncoderOptions::default()).unwrap();
    let texts = &case.texts[..4];
    let mut out = vec![0f32; texts.len() * encoder.dimension()];

    // The helper starts, the leader's spawn is refused.
    fail_thread_spawns_for_testing(1, 1);
    let error = encoder.encode_into(texts, &mut out).expect_err("the team could not start");
    assert!(matches!(error.kind(), Error::Platform(_)), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("could not start") && message.contains("next call tries again"), "{message}");
    if cfg!(target_os = "linux") {
        // Joined, a thread can still be listed for a moment (until the
        // kernel has released it): wait for that, briefly.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while team_threads() > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(team_threads(), 0, "the helper that had started was stopped");
    }

    // The next call starts the team and gives sentence-transformers' vectors.
    encoder.encode_into(texts, &mut out).expect("the next call starts the team");
    for (i, got) in out.chunks_exact(encoder.dimension()).enumerate() {
        assert_close(got, &case.vectors[i], 1e-5, &format!("text {i}"));
    }
    if cfg!(target_os = "linux") {
        // A new thread names itself once it runs: wait for that, briefly.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while team_threads() < 2 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(team_threads(), 2, "one helper and the leader");
    }
}
