//! The CPU path the process runs is the one asked for. `gradle test` runs
//! this with the parity tests under each path forced (`SBERT4J_CPU=avx2`,
//! `portable`, `avx512` where the CPU has it), so a run reported as "avx2"
//! really ran the AVX2 kernels, and a forced path the CPU lacks fails
//! loudly instead of falling back.

mod common;

use common::*;
use sbert4j::core::{cpu_settings, CpuPath};
use sbert4j::{Encoder, EncoderOptions};

#[test]
fn the_forced_path_is_the_one_that_runs() {
    let encoder = Encoder::open(default_model(), EncoderOptions::default());
    let forced = std::env::var("SBERT4J_CPU").ok().filter(|v| !v.trim().is_empty() && v.trim() != "auto");
    match forced {
        None => {
            let settings = cpu_settings().unwrap();
            assert!(encoder.is_ok());
            assert_eq!(settings.path, CpuPath::best(), "auto takes the best path this CPU has");
            eprintln!("CPU path: {} (auto), thread budget {}", settings.path, settings.threads);
        }
        Some(name) => match CpuPath::resolve(&name) {
            Ok(path) => {
                assert!(encoder.is_ok());
                let settings = cpu_settings().unwrap();
                assert_eq!(settings.path, path, "SBERT4J_CPU={name}");
                assert_eq!(settings.path.name(), name.trim().to_ascii_lowercase());
                eprintln!("CPU path: {} (forced), thread budget {}", settings.path, settings.threads);
            }
            Err(why) => {
                let err = encoder.err().expect("a forced path this CPU lacks must fail to open").to_string();
                assert!(err.contains("cannot run it") || err.contains("unknown CPU path"), "{err}");
                assert_eq!(err, why);
            }
        },
    }
}
