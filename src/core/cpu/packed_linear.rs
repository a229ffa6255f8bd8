//! A linear layer whose weight is packed once, at load time, for the CPU
//! path's micro-kernel: `y = x · Wᵀ + bias (+ residual)`, then optionally
//! an activation, all in one pass over the output.
//!
//! The weight (in × out, after transposing PyTorch's out × in) is stored as
//! column panels of `NR` floats (32 for AVX-512, 16 for AVX2 and the
//! portable path), `in` rows each, one panel after another: the whole
//! matrix is a single sequential stream, read ahead by software prefetches.
//! That matters most at small batches (a 22-token text), where a product is
//! as much a matter of streaming 42 MB of weights past the cores as of
//! arithmetic.
//!
//! Threads (the pass's, see `team.rs`) split the columns, so each streams
//! only its share of the weight. Bias, residual and activation are applied
//! as each block of the output is stored, while it is still in L1. The
//! micro-kernels are in `linear_avx512.rs`, `linear_avx2.rs` and
//! `linear_portable.rs`.

use super::config::CpuPath;
use super::team::Pass;
use super::{linear_avx2, linear_avx512, linear_portable};

/// Products smaller than this many multiply-adds run on the calling thread.
const PARALLEL_MIN_MACS: usize = 1 << 21;

/// 64 bytes, so every panel row starts on a cache line.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub(super) struct Line([f32; 16]);

/// An activation applied in place to a stretch of outputs.
pub(crate) type Activation = fn(&mut [f32]);

pub(crate) struct PackedLinear {
    path: CpuPath,
    panels: Vec<Line>,
    /// Zero-padded to a whole number of panels.
    pub(super) bias: Vec<f32>,
    pub(super) inputs: usize,
    pub(super) outputs: usize,
}

impl PackedLinear {
    /// Packs a PyTorch linear layer (`weight`: outputs × inputs, row-major)
    /// for `path`'s micro-kernel.
    ///
    /// # Panics
    /// If `path` is not supported by this CPU (callers take it from
    /// `config`, which checks), or the sizes disagree.
    pub fn new(path: CpuPath, weight: &[f32], bias: &[f32], outputs: usize, inputs: usize) -> Self {
        assert!(path.supported(), "the {path} CPU path is not supported here");
        assert_eq!(weight.len(), outputs * inputs, "linear weight: expected {outputs}×{inputs}");
        assert_eq!(bias.len(), outputs, "linear bias: expected {outputs}");
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
        let mut padded = bias.to_vec();
        padded.resize(count * nr, 0.0);
        Self { path, panels, bias: padded, inputs, outputs }
    }

    /// Columns per panel on `path`.
    pub(super) fn panel_width(path: CpuPath) -> usize {
        match path {
            CpuPath::Avx512 => linear_avx512::NR,
            CpuPath::Avx2 => linear_avx2::NR,
            CpuPath::Portable => linear_portable::NR,
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
        let mut out: Vec<f32> = Vec::with_capacity(m * n);
        let count = n.div_ceil(Self::panel_width(self.path));
        let job = Job { x: x.as_ptr(), base: base.map_or(std::ptr::null(), <[f32]>::as_ptr), out: out.as_mut_ptr(), m, act };
        let threads = if m * k * n >= PARALLEL_MIN_MACS { pass.threads().min(count) } else { 1 };
        let run = |t: usize| {
            if t >= threads {
                return;
            }
            let (first, end) = (t * count / threads, (t + 1) * count / threads);
            // SAFETY: x is m×k, base and out m×n; the panels first..end
            // cover columns no other thread writes; the path's kernel runs
            // on this CPU (checked when the layer was packed).
            unsafe {
                match self.path {
                    CpuPath::Avx512 => linear_avx512::panels(self, &job, first, end),
                    CpuPath::Avx2 => linear_avx2::panels(self, &job, first, end),
                    CpuPath::Portable => linear_portable::panels(self, &job, first, end),
                }
            }
        };
        if threads == 1 {
            run(0);
        } else {
            pass.run(&run);
        }
        // SAFETY: the panels 0..count, split among the threads above, cover
        // every column of every row, and each kernel has stored them all.
        unsafe { out.set_len(m * n) };
        out
    }

    /// Panel `p`: `inputs` rows of `panel_width` floats, 64-byte aligned.
    pub(super) fn panel(&self, p: usize) -> *const f32 {
        let nr = Self::panel_width(self.path);
        // In bounds: panel p starts p·inputs·nr floats in, p < panel count.
        self.panels[p * self.inputs * nr / 16..].as_ptr().cast::<f32>()
    }
}

/// One product's pointers, shared by the threads that split its columns.
pub(super) struct Job {
    pub x: *const f32,
    pub base: *const f32,
    pub out: *mut f32,
    pub m: usize,
    pub act: Option<Activation>,
}
// SAFETY: threads read x and base, and write disjoint columns of out.
unsafe impl Sync for Job {}

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
            let shapes = [(1, 1, 1), (1, 384, 384), (22, 384, 1152), (13, 200, 45), (25, 1536, 384), (700, 97, 33), (3, 5, 64), (200, 800, 40)];
            for &(m, k, n) in &shapes {
                let (x, w, bias, base) = (values(m * k, 1), values(n * k, 2), values(n, 3), values(m * n, 4));
                let layer = PackedLinear::new(path, &w, &bias, n, k);
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

    #[test]
    fn no_rows_give_no_output() {
        let team = super::super::team::Team::new(1).expect("team");
        for path in CpuPath::ALL.into_iter().filter(|p| p.supported()) {
            let layer = PackedLinear::new(path, &values(6, 1), &[0.0, 0.0], 2, 3);
            assert!(team.pass(None, |pass| layer.forward(&[], None, None, pass)).is_empty());
        }
    }
}
