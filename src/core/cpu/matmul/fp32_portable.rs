//! The portable micro-kernel of `PackedLinear`: plain Rust, no intrinsics
//! (what runs on CPUs without AVX2, and on other architectures). A 4 × 16
//! block of the output is accumulated in local arrays the compiler keeps in
//! vector registers where it can; no fused multiply-add (without hardware
//! FMA, `mul_add` is a slow library call). The driver is generic over the
//! panel's element ([`Widen`]): float32 here, bfloat16 in
//! `bf16_portable.rs`.

use super::{Job, PackedLinear};

/// Columns per panel.
pub(super) const NR: usize = 16;
/// Output rows per micro-kernel call.
const MR: usize = 4;
/// Floats of `x` per block of rows (128 KiB), kept in L2.
const X_BLOCK: usize = 1 << 15;

/// Rows per block of `x` for a layer of `k` inputs (a multiple of the
/// tile's rows); callers that split a product among threads split it at
/// these boundaries.
pub(super) fn row_block(k: usize) -> usize {
    (X_BLOCK / k.max(1)).max(MR) / MR * MR
}

/// A panel's stored weight, as float32.
pub(super) trait Widen: Copy {
    fn widen(self) -> f32;
}

impl Widen for f32 {
    #[inline(always)]
    fn widen(self) -> f32 {
        self
    }
}

/// The panels `first..end` of the float32 layer `w` against the rows
/// `job.rows` of `job.x`.
///
/// # Safety
/// `job`'s pointers address m × inputs (x) and m × outputs (base, out)
/// floats; the columns of these panels in the rows `job.rows` (within m) of `out` are written by this call alone.
pub(super) unsafe fn panels(w: &PackedLinear, job: &Job, first: usize, end: usize) {
    panels_of::<f32>(w.panel(0), &w.bias, w.inputs, w.outputs, job, first, end)
}

/// The panels `first..end` of a layer (`k` inputs, `n` outputs, panel `p`
/// of `k` rows of `NR` weights at `panel0 + p·k·NR`, `bias` padded to whole
/// panels) against the rows `job.rows` of `job.x`.
///
/// # Safety
/// The panels `first..end` exist from `panel0`; `job`'s pointers address
/// m × k (x) and m × n (base, out) floats; the columns of these panels in the rows `job.rows` (within m) of `out` are written by this call alone.
pub(super) unsafe fn panels_of<E: Widen>(panel0: *const E, bias: &[f32], k: usize, n: usize, job: &Job, first: usize, end: usize) {
    let m = job.rows.end;
    let mc = row_block(k);
    for m0 in job.rows.clone().step_by(mc) {
        let rows = mc.min(m - m0);
        for p in first..end {
            let c0 = p * NR;
            let width = NR.min(n - c0);
            // SAFETY: panel p holds k rows of NR weights.
            let panel = std::slice::from_raw_parts(panel0.add(p * k * NR), k * NR);
            let bias = &bias[c0..c0 + NR];
            let mut r = m0;
            while r < m0 + rows {
                let count = MR.min(m0 + rows - r);
                let x = std::slice::from_raw_parts(job.x.add(r * k), count * k);
                let mut acc = [[0f32; NR]; MR];
                match count {
                    4 => tile::<4, E>(x, panel, k, &mut acc),
                    3 => tile::<3, E>(x, panel, k, &mut acc),
                    2 => tile::<2, E>(x, panel, k, &mut acc),
                    _ => tile::<1, E>(x, panel, k, &mut acc),
                }
                for (row, sums) in acc.iter().take(count).enumerate() {
                    let out = std::slice::from_raw_parts_mut(job.out.add((r + row) * n + c0), width);
                    for c in 0..width {
                        // PyTorch's order: (x·Wᵀ + bias) + residual.
                        out[c] = sums[c] + bias[c];
                    }
                    if !job.base.is_null() {
                        let base = std::slice::from_raw_parts(job.base.add((r + row) * n + c0), width);
                        for (o, b) in out.iter_mut().zip(base) {
                            *o += b;
                        }
                    }
                    if let Some(act) = job.act {
                        act(out);
                    }
                }
                r += count;
            }
        }
    }
}

/// `acc[..R] = x (R × k) · panel (k × NR)`.
#[inline(always)]
fn tile<const R: usize, E: Widen>(x: &[f32], panel: &[E], k: usize, acc: &mut [[f32; NR]; MR]) {
    let mut sums = [[0f32; NR]; R];
    for (kk, raw) in panel.chunks_exact(NR).enumerate() {
        let mut b = [0f32; NR];
        for (v, &r) in b.iter_mut().zip(raw) {
            *v = r.widen();
        }
        for r in 0..R {
            let xv = x[r * k + kk];
            for c in 0..NR {
                sums[r][c] += xv * b[c];
            }
        }
    }
    acc[..R].copy_from_slice(&sums);
}
