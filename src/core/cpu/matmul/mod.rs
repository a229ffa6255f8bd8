//! A linear layer whose weight is packed once, at load time, for the CPU
//! path's micro-kernel: `y = x · Wᵀ + bias (+ residual)`, then optionally
//! an activation, all in one pass over the output.
//!
//! The weight (in × out, after transposing PyTorch's out × in) is stored as
//! column panels of `NR` floats (32 for AVX-512, 16 for AVX2, NEON and the
//! portable path), `in` rows each, one panel after another: the whole
//! matrix is a single sequential stream, read ahead by software prefetches.
//! That matters most at small batches (a 22-token text), where a product is
//! as much a matter of streaming 42 MB of weights past the cores as of
//! arithmetic.
//!
//! Threads (the pass's, see `team.rs`) split the columns, so each streams
//! only its share of the weight. Bias, residual and activation are applied
//! as each block of the output is stored, while it is still in L1. The
//! micro-kernels are this folder's other files, named by precision and
//! instruction set: `fp32_{portable,avx2,avx512,neon}.rs`,
//! `bf16_{portable,avx2,avx512,neon}.rs` (the format in `bf16_scheme.rs`) and
//! `int8_{portable,avx2,avx512_vnni}.rs` (the quantiser and the shared
//! tile driver in `int8_scheme.rs`), `int8_neon_dotprod.rs` (aarch64's
//! `sdot`; without it the NEON path runs the portable one).

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

mod bf16_avx2;
mod bf16_avx512;
mod bf16_neon;
mod bf16_portable;
mod bf16_scheme;
mod fp32_avx2;
mod fp32_avx512;
mod fp32_neon;
mod fp32_portable;
mod int8_avx2;
mod int8_avx512_vnni;
mod int8_neon_dotprod;
mod int8_portable;
mod int8_scheme;

use bf16_scheme::{Bf16PairWeights, Bf16Weights};
use int8_scheme::{Int8Weights, Operands, QuantizedRows};
use super::config::CpuPath;
use super::scratch;
use super::team::Pass;
use crate::core::Precision;

/// Products smaller than this many multiply-adds run on the calling thread.
const PARALLEL_MIN_MACS: usize = 1 << 21;

/// 64 bytes, so every panel row starts on a cache line.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub(super) struct Line([f32; 16]);

/// An activation applied in place to a stretch of outputs.
pub(crate) type Activation = fn(&mut [f32]);

/// The packed weight, in the layer's precision (only that copy is kept).
enum Weights {
    /// Panels of `panel_width(path)` floats.
    F32(Vec<Line>),
    /// 16-column bfloat16 panels (`bf16_scheme.rs`).
    Bf16(Bf16Weights),
    /// 32-column bfloat16 panels in the pair layout, for `vdpbf16ps`
    /// (`bf16_scheme.rs`): the AVX-512 path on a CPU with AVX512_BF16.
    Bf16Pairs(Bf16PairWeights),
    /// 16-column int8 panels and their scales (`int8_scheme.rs`).
    Int8(Int8Weights),
}

pub(crate) struct PackedLinear {
    path: CpuPath,
    weights: Weights,
    /// Zero-padded to a whole number of panels.
    pub(super) bias: Vec<f32>,
    pub(super) inputs: usize,
    pub(super) outputs: usize,
}

impl PackedLinear {
    /// Packs a PyTorch linear layer (`weight`: outputs × inputs, row-major)
    /// for `path`'s micro-kernel, in `precision` (on the AVX-512 path,
    /// BF16 and INT8 use the AVX512_BF16 and AVX512-VNNI kernels where the
    /// CPU has those instructions, the AVX2 kernels otherwise; the portable
    /// ones on the portable path; on the NEON path, BF16 runs the NEON
    /// kernel and INT8 the `sdot` one where the CPU has it, the portable
    /// one otherwise).
    ///
    /// # Panics
    /// If `path` is not supported by this CPU (callers take it from
    /// `config`, which checks), or the sizes disagree.
    pub fn new(path: CpuPath, precision: Precision, weight: &[f32], bias: &[f32], outputs: usize, inputs: usize) -> Self {
        assert!(path.supported(), "the {path} CPU path is not supported here");
        assert_eq!(weight.len(), outputs * inputs, "linear weight: expected {outputs}×{inputs}");
        assert_eq!(bias.len(), outputs, "linear bias: expected {outputs}");
        let weights = match precision {
            Precision::Fp32 => Weights::F32(Self::pack_f32(path, weight, outputs, inputs)),
            Precision::Bf16 if path == CpuPath::Avx512 && bf16_avx512::supported() => Weights::Bf16Pairs(Bf16PairWeights::pack(weight, outputs, inputs)),
            Precision::Bf16 => Weights::Bf16(Bf16Weights::pack(weight, outputs, inputs)),
            Precision::Int8 => Weights::Int8(Int8Weights::pack(weight, outputs, inputs)),
        };
        let mut layer = Self { path, weights, bias: bias.to_vec(), inputs, outputs };
        layer.bias.resize(outputs.div_ceil(layer.width()) * layer.width(), 0.0);
        layer
    }

    fn pack_f32(path: CpuPath, weight: &[f32], outputs: usize, inputs: usize) -> Vec<Line> {
        let nr = Self::panel_width(path);
        let count = outputs.div_ceil(nr);
        let mut panels = vec![Line([0.0; 16]); count * inputs * nr / 16];
        // SAFETY: Line is 16 f32s with no padding (repr C, size 64).
        let flat = unsafe { std::slice::from_raw_parts_mut(panels.as_mut_ptr().cast::<f32>(), panels.len() * 16) };
        for (o, row) in weight.chunks_exact(inputs).enumerate() {
            let (panel, col) = (o / nr, o % nr);
            for (i, &w) in row.iter().enumerate() {
                flat[(panel * inputs + i) * nr + col] = w;
            }
        }
        panels
    }

    /// Columns per float32 panel on `path`.
    pub(super) fn panel_width(path: CpuPath) -> usize {
        match path {
            CpuPath::Avx512 => fp32_avx512::NR,
            CpuPath::Avx2 => fp32_avx2::NR,
            CpuPath::Neon => fp32_neon::NR,
            CpuPath::Portable => fp32_portable::NR,
        }
    }

    /// Columns per panel of this layer.
    fn width(&self) -> usize {
        match self.weights {
            Weights::F32(_) => Self::panel_width(self.path),
            Weights::Bf16(_) => bf16_scheme::NR,
            Weights::Bf16Pairs(_) => bf16_avx512::NR,
            Weights::Int8(_) => int8_scheme::NR,
        }
    }

    /// `x` (rows × inputs) ↦ rows × outputs: `act(x · Wᵀ + bias + base)`,
    /// where `base` (rows × outputs) is the residual input, if any.
    pub fn forward(&self, x: &[f32], base: Option<&[f32]>, act: Option<Activation>, pass: &Pass) -> Vec<f32> {
        let (k, n) = (self.inputs, self.outputs);
        assert!(x.len() % k == 0, "linear: input length {} is not a multiple of {k}", x.len());
        let m = x.len() / k;
        if let Some(base) = base {
            assert_eq!(base.len(), m * n, "linear: residual of the wrong size");
        }
        if m == 0 {
            return Vec::new();
        }
        // Not zeroed first: every kernel writes every element (each panel
        // of every row, the first chunk of the inputs storing, not adding).
        let mut out: Vec<f32> = scratch::take(m * n);
        let count = n.div_ceil(self.width());
        let threads = if m * k * n >= PARALLEL_MIN_MACS { pass.threads().min(count) } else { 1 };
        let base = base.map_or(std::ptr::null(), <[f32]>::as_ptr);
        let portable = self.path == CpuPath::Portable;
        let neon = self.path == CpuPath::Neon;
        // Each kernel call below: the panels first..end, of the rows `rows`.
        // SAFETY (every call): x is m×k (the bfloat16 pairs m × 2·pairs,
        // the quantised rows m × stride bytes with m scales and zero
        // points), base and out m×n; the parts (rows, first..end) are
        // disjoint, so no other thread writes their outputs; the path's
        // kernel runs on this CPU (checked when the layer was packed, and
        // for the AVX512_BF16 and VNNI kernels, by their `supported`; the
        // AVX-512 path implies AVX2; the NEON path is aarch64's).
        match &self.weights {
            Weights::F32(_) => {
                let whole = &Job { x: x.as_ptr(), base, out: out.as_mut_ptr(), rows: 0..m, act };
                let block = match self.path {
                    CpuPath::Avx512 => fp32_avx512::row_block(k),
                    CpuPath::Avx2 => fp32_avx2::row_block(k),
                    CpuPath::Neon => fp32_neon::row_block(k),
                    CpuPath::Portable => fp32_portable::row_block(k),
                };
                split(count, threads, m, block, m * k * 4, pass, |rows, first, end| unsafe {
                    let job = Job { rows, ..*whole };
                    match self.path {
                        CpuPath::Avx512 => fp32_avx512::panels(self, &job, first, end),
                        CpuPath::Avx2 => fp32_avx2::panels(self, &job, first, end),
                        CpuPath::Neon => fp32_neon::panels(self, &job, first, end),
                        CpuPath::Portable => fp32_portable::panels(self, &job, first, end),
                    }
                });
            }
            Weights::Bf16(w) => {
                let rounded = bf16_scheme::round_rows(x);
                let whole = &Job { x: rounded.as_ptr(), base, out: out.as_mut_ptr(), rows: 0..m, act };
                let block = if portable { fp32_portable::row_block(k) } else if neon { fp32_neon::row_block(k) } else { fp32_avx2::row_block(k) };
                split(count, threads, m, block, m * k * 4, pass, |rows, first, end| unsafe {
                    let job = Job { rows, ..*whole };
                    if portable {
                        bf16_portable::panels(w, &self.bias, k, n, &job, first, end)
                    } else if neon {
                        bf16_neon::panels(w, &self.bias, k, n, &job, first, end)
                    } else {
                        bf16_avx2::panels(w, &self.bias, k, n, &job, first, end)
                    }
                });
            }
            Weights::Bf16Pairs(w) => {
                let pairs = bf16_scheme::rows_to_pairs(x, k, (threads > 1).then_some(pass));
                let whole = &Job { x: pairs.as_ptr(), base, out: out.as_mut_ptr(), rows: 0..m, act };
                split(count, threads, m, bf16_avx512::row_block(k), m * k * 2, pass, |rows, first, end| unsafe {
                    bf16_avx512::panels(w, &self.bias, k, n, &Job { rows, ..*whole }, first, end)
                });
            }
            Weights::Int8(w) => {
                // AVX512-VNNI where the AVX-512 path's CPU has it (checked here).
                let vnni = self.path == CpuPath::Avx512 && int8_avx512_vnni::supported();
                // `sdot` where the NEON path's CPU has it (checked here); it
                // reads the portable kernel's operands.
                let dotprod = neon && int8_neon_dotprod::supported();
                let portable = portable || neon;
                let operands = if portable { Operands::Portable } else if vnni { Operands::Vnni } else { Operands::Avx2 };
                let q = QuantizedRows::on(x, k, (threads > 1).then_some(pass), operands);
                debug_assert_eq!(q.stride, w.groups * 4);
                let whole = &Int8Job { x: q.data.as_ptr(), centred: q.centred.as_ptr(), magnitudes: q.magnitudes.as_ptr(), centred_sums: q.centred_sums.as_ptr(), scales: q.scales.as_ptr(), zeros: q.zeros.as_ptr(), quantized: &q, base, out: out.as_mut_ptr(), rows: 0..m, act };
                let block = if vnni { int8_avx512_vnni::ROW_BLOCK } else { int8_avx2::ROW_BLOCK };
                split(count, threads, m, block, m * k * 4, pass, |rows, first, end| unsafe {
                    let job = Int8Job { rows, ..*whole };
                    if dotprod {
                        int8_neon_dotprod::panels(w, &self.bias, n, &job, first, end)
                    } else if portable {
                        int8_portable::panels(w, &self.bias, n, &job, first, end)
                    } else if vnni {
                        int8_avx512_vnni::panels(w, &self.bias, n, &job, first, end)
                    } else {
                        int8_avx2::panels(w, &self.bias, n, &job, first, end)
                    }
                });
            }
        }
        // SAFETY: the panels 0..count, split among the threads above, cover
        // every column of every row, and each kernel has stored them all.
        unsafe { out.set_len(m * n) };
        out
    }

    /// Float32 panel `p`: `inputs` rows of `panel_width` floats, 64-byte aligned.
    pub(super) fn panel(&self, p: usize) -> *const f32 {
        let nr = Self::panel_width(self.path);
        match &self.weights {
            // In bounds: panel p starts p·inputs·nr floats in, p < panel count.
            Weights::F32(panels) => panels[p * self.inputs * nr / 16..].as_ptr().cast::<f32>(),
            _ => unreachable!("the float32 kernels run float32 layers only"),
        }
    }
}

/// The parts a product is split into for its threads: the rows in the
/// kernel's own row blocks (each block of `x` stays in L2 while panels pass
/// over it), each block's panels in chunks, numbered block by block. Each
/// thread claims the next part as it finishes one, so a thread slowed down
/// (a busy SMT sibling on a shared host, an interrupt) computes fewer parts
/// instead of the others waiting for it at the end of the step, and both
/// threads work in the same block at a time, each bringing that block of
/// `x` into its L2 once: before, each chunk of panels ran over all the
/// rows, reading all of `x` from L3 again per chunk.
///
/// Chunks of panels per thread and row block. A thread that finds no part
/// left waits (spins) for the others' last ones, so smaller parts waste
/// less: finer for a few rows (a lone caller's text, one block). (Lone-caller
/// spin share 5.5–8% → 3.5–4.4% with the finer chunks; `bench/rust/idle_cpu.rs`.)
const CHUNKS_PER_THREAD: usize = 4;
const CHUNKS_PER_THREAD_FEW_ROWS: usize = 12;
/// "A few rows": x (m × k) at most this many bytes as float32, which fits
/// in L2 on every x86 core (the INT8 kernel's byte rows, smaller still).
const FEW_ROWS_BYTES: usize = 1 << 18;

/// Runs `panels(rows, first, end)` over disjoint parts covering the `m`
/// rows (in blocks of `block`) and the `count` panels, on `threads` threads.
fn split(count: usize, threads: usize, m: usize, block: usize, x_bytes: usize, pass: &Pass, panels: impl Fn(Range<usize>, usize, usize) + Sync) {
    if threads == 1 {
        return panels(0..m, 0, count);
    }
    let per_thread = if x_bytes <= FEW_ROWS_BYTES { CHUNKS_PER_THREAD_FEW_ROWS } else { CHUNKS_PER_THREAD };
    let chunks = (threads * per_thread).min(count);
    let block = block.max(1);
    let parts = m.div_ceil(block) * chunks;
    let next = AtomicUsize::new(0);
    pass.run(&|t| {
        if t < threads {
            loop {
                let part = next.fetch_add(1, Ordering::Relaxed);
                if part >= parts {
                    break;
                }
                let (b, c) = (part / chunks, part % chunks);
                panels(b * block..m.min((b + 1) * block), c * count / chunks, (c + 1) * count / chunks);
            }
        }
    });
}

/// One product's pointers, shared by the threads that split it; `rows`:
/// the rows one kernel call computes (all of them before the split). `x`:
/// float32 rows, or (the AVX512_BF16 kernel) bfloat16 pairs.
struct Job<X = f32> {
    pub x: *const X,
    pub base: *const f32,
    pub out: *mut f32,
    pub rows: Range<usize>,
    pub act: Option<Activation>,
}
// SAFETY: threads read x and base, and write disjoint parts of out.
unsafe impl<X> Sync for Job<X> {}

/// An INT8 product's pointers: the quantised rows (`QuantizedRows`).
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // used by the x86-64 kernels only
struct Int8Job<'a> {
    /// m rows of `stride` bytes: the quantised inputs, and the same
    /// centred and their magnitudes (the AVX2 kernel's operands; for the
    /// VNNI kernel only `centred` is made, the others point at nothing).
    pub x: *const u8,
    pub centred: *const i8,
    pub magnitudes: *const u8,
    /// Per row: `Σ centred` (the VNNI kernel's correction).
    pub centred_sums: *const i32,
    /// Per row: scale and zero point.
    pub scales: *const f32,
    pub zeros: *const i32,
    /// The rows these point into (and their outliers).
    pub quantized: &'a QuantizedRows,
    pub base: *const f32,
    pub out: *mut f32,
    /// The rows one kernel call computes, as `Job::rows`.
    pub rows: Range<usize>,
    pub act: Option<Activation>,
}
// SAFETY: threads read x, scales, zeros and base, and write disjoint parts of out.
unsafe impl Sync for Int8Job<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(len: usize, seed: u32) -> Vec<f32> {
        let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                (x % 2001) as f32 / 1000.0 - 1.0
            })
            .collect()
    }

    fn square(xs: &mut [f32]) {
        for x in xs {
            *x *= *x;
        }
    }

    #[test]
    fn every_path_matches_a_plain_linear_layer_on_awkward_shapes() {
        let team = super::super::team::Team::new(2).expect("team");
        for path in CpuPath::ALL {
            if !path.supported() {
                eprintln!("SKIPPED: the {path} linear kernel (this CPU cannot run it)");
                continue;
            }
            let shapes = [(1, 1, 1), (1, 384, 384), (22, 384, 1152), (13, 200, 45), (25, 1536, 384), (700, 97, 33), (3, 5, 64), (200, 800, 40), (29, 383, 70), (5, 64, 48), (10, 7, 16)];
            for &(m, k, n) in &shapes {
                let (x, w, bias, base) = (values(m * k, 1), values(n * k, 2), values(n, 3), values(m * n, 4));
                let layer = PackedLinear::new(path, Precision::Fp32, &w, &bias, n, k);
                for (with_base, act) in [(false, None), (true, None), (true, Some(square as Activation))] {
                    let got = team.pass(None, |pass| layer.forward(&x, with_base.then_some(&base[..]), act, pass));
                    for i in 0..m {
                        for j in 0..n {
                            let dot: f64 = (0..k).map(|p| x[i * k + p] as f64 * w[j * k + p] as f64).sum();
                            let mut y = dot + bias[j] as f64 + if with_base { base[i * n + j] as f64 } else { 0.0 };
                            if act.is_some() {
                                y *= y;
                            }
                            let e = (got[i * n + j] as f64 - y).abs();
                            assert!(e <= 1e-4 * (k as f64).sqrt() * y.abs().max(1.0), "{path} {m}×{k}×{n} ({i},{j}): got {} want {y}", got[i * n + j]);
                        }
                    }
                }
            }
        }
    }

    /// BF16 and INT8 on every path: within their schemes' error of a
    /// plain float64 linear layer (relative to Σ|x·w|, the scale of the
    /// rounding errors), and the same bits on every path for INT8 (exact
    /// integer sums, one dequantisation order).
    #[test]
    fn narrow_precisions_stay_within_their_rounding_and_int8_agrees_across_paths() {
        let team = super::super::team::Team::new(2).expect("team");
        let shapes = [(1, 1, 1), (1, 384, 384), (22, 384, 1152), (13, 202, 45), (25, 1536, 384), (70, 97, 33), (3, 5, 64), (130, 800, 40), (29, 383, 70), (5, 64, 48)];
        for &(m, k, n) in &shapes {
            let (x, w, bias, base) = (values(m * k, 5), values(n * k, 6), values(n, 7), values(m * n, 8));
            // A few channels eight times larger: INT8 sets most of their
            // values apart as outliers (multiplied in float32).
            let x: Vec<f32> = x.iter().enumerate().map(|(i, &v)| if i % k % 37 == 5 { v * 8.0 } else { v }).collect();
            for (precision, bound) in [(Precision::Bf16, 2.0 / 256.0), (Precision::Int8, 1.0 / 255.0 + 1.0 / 63.0)] {
                let mut int8_results: Vec<(CpuPath, Vec<f32>)> = Vec::new();
                for path in CpuPath::ALL.into_iter().filter(|p| p.supported()) {
                    let layer = PackedLinear::new(path, precision, &w, &bias, n, k);
                    for (with_base, act) in [(false, None), (true, None), (true, Some(square as Activation))] {
                        let got = team.pass(None, |pass| layer.forward(&x, with_base.then_some(&base[..]), act, pass));
                        for i in 0..m {
                            for j in 0..n {
                                let dot: f64 = (0..k).map(|p| x[i * k + p] as f64 * w[j * k + p] as f64).sum();
                                let scale: f64 = (0..k).map(|p| (x[i * k + p] as f64 * w[j * k + p] as f64).abs()).sum();
                                let pre = dot + bias[j] as f64 + if with_base { base[i * n + j] as f64 } else { 0.0 };
                                let tol = bound * scale.max((k as f64).sqrt() * 0.05) + 1e-5;
                                let got_pre = if act.is_some() { (got[i * n + j] as f64).sqrt() } else { got[i * n + j] as f64 };
                                let want = if act.is_some() { pre.abs() } else { pre };
                                assert!((got_pre - want).abs() <= tol, "{precision} {path} {m}×{k}×{n} ({i},{j}): got {got_pre} want {want} (tolerance {tol})");
                            }
                        }
                        if precision == Precision::Int8 && with_base && act.is_none() {
                            int8_results.push((path, got));
                        }
                    }
                }
                for pair in int8_results.windows(2) {
                    assert!(pair[0].1 == pair[1].1, "INT8 {m}×{k}×{n}: the {} and {} paths differ", pair[0].0, pair[1].0);
                }
            }
        }
    }

    /// The NEON path's BF16 kernel (FMAs of exact bfloat16 products, summed
    /// in the same order) gives the portable path's vectors bit for bit.
    #[test]
    fn bf16_on_neon_is_the_portable_path_bit_for_bit() {
        if !CpuPath::Neon.supported() {
            eprintln!("SKIPPED: the NEON kernels (not an aarch64 CPU)");
            return;
        }
        let team = super::super::team::Team::new(2).expect("team");
        for &(m, k, n) in &[(1, 1, 1), (22, 384, 1152), (13, 202, 45), (70, 97, 33), (7, 64, 16)] {
            let (x, w, bias, base) = (values(m * k, 9), values(n * k, 10), values(n, 11), values(m * n, 12));
            let run = |path| {
                let layer = PackedLinear::new(path, Precision::Bf16, &w, &bias, n, k);
                team.pass(None, |pass| layer.forward(&x, Some(&base), Some(square as Activation), pass))
            };
            assert!(run(CpuPath::Neon) == run(CpuPath::Portable), "BF16 {m}×{k}×{n}: NEON and portable differ");
        }
    }

    #[test]
    fn no_rows_give_no_output() {
        let team = super::super::team::Team::new(1).expect("team");
        for path in CpuPath::ALL.into_iter().filter(|p| p.supported()) {
            for precision in Precision::ALL {
                let layer = PackedLinear::new(path, precision, &values(6, 1), &[0.0, 0.0], 2, 3);
                assert!(team.pass(None, |pass| layer.forward(&[], None, None, pass)).is_empty());
            }
        }
    }
}
