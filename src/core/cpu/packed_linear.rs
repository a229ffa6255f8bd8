//! A linear layer whose weight is packed once, at load time, for an
//! AVX-512 micro-kernel: `y = x · Wᵀ + bias (+ residual)`, then optionally
//! an activation, all in one pass over the output.
//!
//! The weight (in × out, after transposing PyTorch's out × in) is stored as
//! column panels of 32 floats, `in` rows each, one panel after another: the
//! whole matrix is a single sequential stream, read ahead by software
//! prefetches. That matters most at small batches (a 22-token text), where
//! a product is as much a matter of streaming 42 MB of weights past the
//! cores as of arithmetic, so the weights should arrive while the FMAs
//! run.
//!
//! The micro-kernel keeps a 12 × 32 block of the output in 24 registers and
//! broadcasts `x`'s elements from memory: two FMAs per load of the weight.
//! Threads split the columns, so each streams only its share of the weight.
//! Bias, residual and activation are applied as each block is stored,
//! while it is still in L1.

use super::team::Pass;

/// Columns per panel: two 16-float registers.
const NR: usize = 32;
/// Output rows per micro-kernel call: 24 accumulators, 2 weight registers
/// and the broadcast fit AVX-512's 32 registers.
const MR: usize = 12;
/// Floats of `x` per block of rows (512 KiB): a block and the panel it
/// passes over stay in a 1 MiB L2.
const X_BLOCK: usize = 1 << 17;
/// How far ahead (in floats) the weight stream is prefetched: 16 KiB.
const PREFETCH_AHEAD: usize = 4096;
/// Products smaller than this many multiply-adds run on the calling thread.
const PARALLEL_MIN_MACS: usize = 1 << 21;

/// 64 bytes, so every panel row starts on a cache line.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([f32; 16]);

/// An activation applied in place to a stretch of outputs.
pub(crate) type Activation = fn(&mut [f32]);

pub(crate) struct PackedLinear {
    panels: Vec<Line>,
    /// Zero-padded to a whole number of panels.
    bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
}

impl PackedLinear {
    /// Packs a PyTorch linear layer (`weight`: outputs × inputs, row-major).
    /// `None` where the CPU lacks AVX-512F (the caller keeps the plain path).
    pub fn new(weight: &[f32], bias: &[f32], outputs: usize, inputs: usize) -> Option<Self> {
        if !kernel::available() {
            return None;
        }
        Some(Self::pack(weight, bias, outputs, inputs))
    }

    fn pack(weight: &[f32], bias: &[f32], outputs: usize, inputs: usize) -> Self {
        assert_eq!(weight.len(), outputs * inputs, "linear weight: expected {outputs}×{inputs}");
        assert_eq!(bias.len(), outputs, "linear bias: expected {outputs}");
        let count = outputs.div_ceil(NR);
        let mut panels = vec![Line([0.0; 16]); count * inputs * (NR / 16)];
        // SAFETY: Line is 16 f32s with no padding (repr C, size 64).
        let flat = unsafe { std::slice::from_raw_parts_mut(panels.as_mut_ptr().cast::<f32>(), panels.len() * 16) };
        for (o, row) in weight.chunks_exact(inputs).enumerate() {
            let (panel, col) = (o / NR, o % NR);
            for (i, &w) in row.iter().enumerate() {
                flat[(panel * inputs + i) * NR + col] = w;
            }
        }
        let mut padded = bias.to_vec();
        padded.resize(count * NR, 0.0);
        Self { panels, bias: padded, inputs, outputs }
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
        let mut out = vec![0f32; m * n];
        if m == 0 {
            return out;
        }
        let count = n.div_ceil(NR);
        let job = Job { x: x.as_ptr(), base: base.map_or(std::ptr::null(), <[f32]>::as_ptr), out: out.as_mut_ptr(), m, act };
        let threads = if m * k * n >= PARALLEL_MIN_MACS { pass.threads() } else { 1 };
        let run = |t: usize| {
            let (first, end) = (t * count / threads, (t + 1) * count / threads);
            // SAFETY: x is m×k, base and out m×n; the panels first..end
            // cover columns no other thread writes.
            unsafe { kernel::panels(self, &job, first, end) }
        };
        if threads == 1 {
            run(0);
        } else {
            pass.run(&run);
        }
        out
    }

    fn panel(&self, p: usize) -> *const f32 {
        // In bounds: panel p starts p·inputs·NR floats in, p < panel count.
        self.panels[p * self.inputs * NR / 16..].as_ptr().cast::<f32>()
    }
}

/// One product's pointers, shared by the threads that split its columns.
struct Job {
    x: *const f32,
    base: *const f32,
    out: *mut f32,
    m: usize,
    act: Option<Activation>,
}
// SAFETY: threads read x and base, and write disjoint columns of out.
unsafe impl Sync for Job {}

#[cfg(target_arch = "x86_64")]
mod kernel {
    use std::arch::x86_64::*;

    use super::{Job, PackedLinear, MR, NR, PREFETCH_AHEAD, X_BLOCK};

    pub fn available() -> bool {
        std::is_x86_feature_detected!("avx512f")
    }

    /// The panels `first..end` of `w` against every row of `job.x`.
    ///
    /// # Safety
    /// The CPU has AVX-512F (`w` exists only then); `job`'s pointers
    /// address m × inputs (x) and m × outputs (base, out) floats; the
    /// columns of these panels in `out` are written by this call alone.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn panels(w: &PackedLinear, job: &Job, first: usize, end: usize) {
        let (k, n, m) = (w.inputs, w.outputs, job.m);
        let mc = (X_BLOCK / k).max(MR) / MR * MR;
        for m0 in (0..m).step_by(mc) {
            let rows = mc.min(m - m0);
            for p in first..end {
                let c0 = p * NR;
                let width = NR.min(n - c0);
                let mask = if width == NR { u32::MAX } else { (1u32 << width) - 1 };
                let tile = Tile { panel: w.panel(p), bias: w.bias.as_ptr().add(c0), k, ldc: n, mask };
                let mut r = m0;
                while r < m0 + rows {
                    let count = MR.min(m0 + rows - r);
                    let x = job.x.add(r * k);
                    let out = job.out.add(r * n + c0);
                    let base = if job.base.is_null() { job.base } else { job.base.add(r * n + c0) };
                    match count {
                        12 => tile.run::<12>(x, base, out),
                        11 => tile.run::<11>(x, base, out),
                        10 => tile.run::<10>(x, base, out),
                        9 => tile.run::<9>(x, base, out),
                        8 => tile.run::<8>(x, base, out),
                        7 => tile.run::<7>(x, base, out),
                        6 => tile.run::<6>(x, base, out),
                        5 => tile.run::<5>(x, base, out),
                        4 => tile.run::<4>(x, base, out),
                        3 => tile.run::<3>(x, base, out),
                        2 => tile.run::<2>(x, base, out),
                        _ => tile.run::<1>(x, base, out),
                    }
                    if let Some(act) = job.act {
                        for row in 0..count {
                            act(std::slice::from_raw_parts_mut(out.add(row * n), width));
                        }
                    }
                    r += count;
                }
            }
        }
    }

    /// One panel's share of a product.
    struct Tile {
        panel: *const f32,
        bias: *const f32,
        k: usize,
        ldc: usize,
        mask: u32,
    }

    impl Tile {
        /// `out (R × 32, rows ldc apart, columns masked) = x (R × k, rows k
        /// apart) · panel + bias (+ base)`.
        #[inline]
        #[target_feature(enable = "avx512f")]
        unsafe fn run<const R: usize>(&self, x: *const f32, base: *const f32, out: *mut f32) {
            let (panel, k) = (self.panel, self.k);
            let mut lo = [_mm512_setzero_ps(); R];
            let mut hi = [_mm512_setzero_ps(); R];
            for kk in 0..k {
                let b0 = _mm512_load_ps(panel.add(kk * NR));
                let b1 = _mm512_load_ps(panel.add(kk * NR + 16));
                // Prefetching never faults, so running past the end is harmless.
                let ahead = panel.wrapping_add(kk * NR + PREFETCH_AHEAD);
                _mm_prefetch::<_MM_HINT_T0>(ahead.cast());
                _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(16).cast());
                for r in 0..R {
                    let xv = _mm512_set1_ps(*x.add(r * k + kk));
                    lo[r] = _mm512_fmadd_ps(xv, b0, lo[r]);
                    hi[r] = _mm512_fmadd_ps(xv, b1, hi[r]);
                }
            }
            let (m0, m1) = (self.mask as u16, (self.mask >> 16) as u16);
            let bias0 = _mm512_maskz_loadu_ps(m0, self.bias);
            let bias1 = _mm512_maskz_loadu_ps(m1, self.bias.add(16));
            for r in 0..R {
                let dst = out.add(r * self.ldc);
                // PyTorch's order: (x·Wᵀ + bias) + residual.
                let mut y0 = _mm512_add_ps(lo[r], bias0);
                let mut y1 = _mm512_add_ps(hi[r], bias1);
                if !base.is_null() {
                    let src = base.add(r * self.ldc);
                    y0 = _mm512_add_ps(y0, _mm512_maskz_loadu_ps(m0, src));
                    y1 = _mm512_add_ps(y1, _mm512_maskz_loadu_ps(m1, src.add(16)));
                }
                _mm512_mask_storeu_ps(dst, m0, y0);
                _mm512_mask_storeu_ps(dst.add(16), m1, y1);
            }
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod kernel {
    use super::{Job, PackedLinear};

    pub fn available() -> bool {
        false
    }

    pub unsafe fn panels(_: &PackedLinear, _: &Job, _: usize, _: usize) {
        unreachable!("packed linear layers are only built where the AVX-512 kernel runs")
    }
}

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
    fn matches_a_plain_linear_layer_on_awkward_shapes() {
        if !kernel::available() {
            eprintln!("skipped: this CPU has no AVX-512F, so packed layers are never built");
            return;
        }
        for &(m, k, n) in &[(1, 1, 1), (1, 384, 384), (22, 384, 1152), (13, 200, 45), (25, 1536, 384), (700, 97, 33), (3, 5, 64)] {
            let (x, w, bias, base) = (values(m * k, 1), values(n * k, 2), values(n, 3), values(m * n, 4));
            let layer = PackedLinear::new(&w, &bias, n, k).unwrap();
            for (with_base, act) in [(false, None), (true, None), (true, Some(square as Activation))] {
                let got = super::super::team::team().pass(|pass| layer.forward(&x, with_base.then_some(&base[..]), act, pass));
                for i in 0..m {
                    for j in 0..n {
                        let dot: f64 = (0..k).map(|p| x[i * k + p] as f64 * w[j * k + p] as f64).sum();
                        let mut y = dot + bias[j] as f64 + if with_base { base[i * n + j] as f64 } else { 0.0 };
                        if act.is_some() {
                            y *= y;
                        }
                        let e = (got[i * n + j] as f64 - y).abs();
                        assert!(e <= 1e-4 * (k as f64).sqrt() * y.abs().max(1.0), "{m}×{k}×{n} ({i},{j}): got {} want {y}", got[i * n + j]);
                    }
                }
            }
        }
    }

    #[test]
    fn no_rows_give_no_output() {
        if let Some(layer) = PackedLinear::new(&values(6, 1), &[0.0, 0.0], 2, 3) {
            assert!(super::super::team::team().pass(|pass| layer.forward(&[], None, None, pass)).is_empty());
        }
    }
}
