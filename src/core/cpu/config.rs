//! The fast engine's process-wide choices, fixed once per process (per
//! loaded copy of the library): which CPU code path runs, and how many
//! threads a forward pass may keep busy.
//!
//! - **Path**: `avx512` (AVX-512F), `avx2` (AVX2 + FMA), on aarch64 `neon`
//!   (Advanced SIMD intrinsics), or `portable` (plain Rust, no intrinsics:
//!   what other architectures run). `auto` (the default) takes the best one
//!   the CPU has; a lower one can be forced for tests and benchmarks.
//!   Forcing one the CPU lacks is an error, never a silent fallback.
//! - **Threads**: the most threads one pass keeps busy. Default: the CPUs
//!   this process may use (`std::thread::available_parallelism`, which
//!   respects the CPU set and, on Linux, the cgroup CPU quota).
//!
//! Requested by the caller (the JNI layer passes `-Dsbert4j.cpu` /
//! `-Dsbert4j.threads`) or, when the caller says nothing, by the
//! environment variables `SBERT4J_CPU` / `SBERT4J_THREADS`.

use std::fmt;
use std::sync::OnceLock;

/// A CPU code path of the fast engine, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CpuPath {
    /// Plain Rust, no intrinsics.
    Portable,
    /// aarch64 Advanced SIMD (NEON): every aarch64 CPU has it.
    Neon,
    /// AVX2 + FMA (Haswell, Zen and later).
    Avx2,
    /// AVX-512F (with AVX-512VL for the element-wise kernels).
    Avx512,
}

impl CpuPath {
    /// Best first.
    pub const ALL: [CpuPath; 4] = [CpuPath::Avx512, CpuPath::Avx2, CpuPath::Neon, CpuPath::Portable];

    pub fn name(self) -> &'static str {
        match self {
            CpuPath::Portable => "portable",
            CpuPath::Avx2 => "avx2",
            CpuPath::Avx512 => "avx512",
            CpuPath::Neon => "neon",
        }
    }

    /// Whether this CPU (and OS) can run the path.
    pub fn supported(self) -> bool {
        match self {
            CpuPath::Portable => true,
            #[cfg(target_arch = "x86_64")]
            CpuPath::Avx2 => std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            CpuPath::Avx512 => {
                CpuPath::Avx2.supported()
                    && std::is_x86_feature_detected!("avx512f")
                    && std::is_x86_feature_detected!("avx512vl")
            }
            #[cfg(target_arch = "aarch64")]
            CpuPath::Neon => std::arch::is_aarch64_feature_detected!("neon"),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The best path this CPU runs.
    pub fn best() -> Self {
        Self::ALL.into_iter().find(|p| p.supported()).unwrap_or(CpuPath::Portable)
    }

    /// `auto` or a path's name (case and surrounding blanks ignored).
    pub fn resolve(request: &str) -> Result<Self, String> {
        let wanted = request.trim().to_ascii_lowercase();
        if wanted.is_empty() || wanted == "auto" {
            return Ok(Self::best());
        }
        let path = Self::ALL
            .into_iter()
            .find(|p| p.name() == wanted)
            .ok_or_else(|| format!("unknown CPU path '{}': use auto, avx512, avx2, neon or portable", request.trim()))?;
        if !path.supported() {
            return Err(format!(
                "the {path} CPU path was forced (sbert4j.cpu / SBERT4J_CPU), but this CPU cannot run it ({}); \
                 this CPU runs: {}",
                match path {
                    CpuPath::Avx512 | CpuPath::Avx2 if !cfg!(target_arch = "x86_64") => "not an x86-64 CPU",
                    CpuPath::Avx512 => "no AVX-512F/VL",
                    CpuPath::Neon => "not an aarch64 CPU",
                    _ => "no AVX2/FMA",
                },
                Self::ALL.iter().filter(|p| p.supported()).map(|p| p.name()).collect::<Vec<_>>().join(", ")
            ));
        }
        Ok(path)
    }
}

impl fmt::Display for CpuPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What this process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub path: CpuPath,
    /// The thread budget: the most threads a forward pass keeps busy.
    pub threads: usize,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// The CPUs this process may use.
pub fn available_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse_threads(value: &str) -> Result<usize, String> {
    match value.trim().parse::<usize>() {
        Ok(0) => Ok(available_cpus()),
        Ok(n) if n <= 4096 => Ok(n),
        _ => Err(format!("invalid thread count '{}' (sbert4j.threads / SBERT4J_THREADS): use 1..4096, or 0 for every CPU this process may use", value.trim())),
    }
}

/// Resolves the caller's requests (`None`: the environment decides, then
/// the defaults) and fixes them for the process on the first call. A later
/// call that asks for something else fails, naming both.
pub fn configure(cpu: Option<&str>, threads: Option<&str>) -> Result<Settings, String> {
    let given = |v: Option<&str>| v.map(str::to_string).filter(|v| !v.trim().is_empty());
    let cpu = given(cpu).or_else(|| env("SBERT4J_CPU"));
    let path = CpuPath::resolve(cpu.as_deref().unwrap_or("auto"))?;
    let threads = match given(threads).or_else(|| env("SBERT4J_THREADS")) {
        Some(v) => parse_threads(&v)?,
        None => available_cpus(),
    };
    let wanted = Settings { path, threads };
    let got = *SETTINGS.get_or_init(|| wanted);
    if got != wanted {
        return Err(format!(
            "sbert4j already runs the {} CPU path with {} threads in this process; {} with {} threads was requested \
             (these are chosen once per process)",
            got.path, got.threads, wanted.path, wanted.threads
        ));
    }
    Ok(got)
}

/// The process's settings, fixing them from the environment if nothing
/// fixed them yet (an invalid environment variable is an error).
pub fn current() -> Result<Settings, String> {
    match SETTINGS.get() {
        Some(s) => Ok(*s),
        None => configure(None, None),
    }
}

/// The process's settings, for code that cannot report errors: an invalid
/// environment variable falls back to the defaults here (whatever opens a
/// model calls `current` first and reports it).
pub fn settings() -> Settings {
    // (Not inside SETTINGS.get_or_init: `current` may initialise it itself.)
    match current() {
        Ok(s) => s,
        Err(_) => *SETTINGS.get_or_init(|| Settings { path: CpuPath::best(), threads: available_cpus() }),
    }
}

/// The CPU path in use.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // used by the x86-64 kernels only
pub fn path() -> CpuPath {
    settings().path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_and_unknown_ones_are_refused() {
        assert_eq!(CpuPath::resolve("auto").unwrap(), CpuPath::best());
        assert_eq!(CpuPath::resolve(" Portable ").unwrap(), CpuPath::Portable);
        let e = CpuPath::resolve("sse9").unwrap_err();
        assert!(e.contains("unknown CPU path 'sse9'"), "{e}");
        for p in CpuPath::ALL {
            match CpuPath::resolve(p.name()) {
                Ok(got) => assert!(p.supported() && got == p),
                Err(e) => assert!(!p.supported() && e.contains("cannot run it"), "{e}"),
            }
        }
    }

    #[test]
    fn thread_counts_are_checked() {
        assert_eq!(parse_threads("3").unwrap(), 3);
        assert_eq!(parse_threads("0").unwrap(), available_cpus());
        assert!(parse_threads("-1").is_err());
        assert!(parse_threads("lots").is_err());
    }
}
