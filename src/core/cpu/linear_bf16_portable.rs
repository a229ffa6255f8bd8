//! The portable BF16 kernel of `PackedLinear` (`bf16.rs` has the scheme):
//! the float32 portable kernel's 4 × 16 tiles in plain Rust, each panel
//! row of 16 bfloat16s widened to float32 before the multiply-adds.

use super::bf16::{from_bf16, Bf16Weights, NR};
use super::packed_linear::Job;

/// Output rows per tile.
const MR: usize = 4;
/// Floats of `x` per block of rows (128 KiB), kept in L2.
const X_BLOCK: usize = 1 << 15;

/// The panels `first..end` of `w` (`k` inputs, `n` outputs, `bias` padded
/// to whole panels) against every row of `job.x`.
///
/// # Safety
/// `job`'s pointers address m × k (x) and m × n (base, out) floats; the
/// columns of these panels in `out` are written by this call alone.
pub(super) unsafe fn panels(w: &Bf16Weights, bias: &[f32], k: usize, n: usize, job: &Job, first: usize, end: usize) {
    let m = job.m;
    let mc = (X_BLOCK / k).max(MR) / MR * MR;
    for m0 in (0..m).step_by(mc) {
        let rows = mc.min(m - m0);
        for p in first..end {
            let c0 = p * NR;
            let width = NR.min(n - c0);
            // SAFETY: panel p holds k rows of NR bfloat16s.
            let panel = std::slice::from_raw_parts(w.panel(p, k), k * NR);
            let bias = &bias[c0..c0 + NR];
            let mut r = m0;
            while r < m0 + rows {
                let count = MR.min(m0 + rows - r);
                let x = std::slice::from_raw_parts(job.x.add(r * k), count * k);
                let mut acc = [[0f32; NR]; MR];
                match count {
                    4 => tile::<4>(x, panel, k, &mut acc),
                    3 => tile::<3>(x, panel, k, &mut acc),
                    2 => tile::<2>(x, panel, k, &mut acc),
                    _ => tile::<1>(x, panel, k, &mut acc),
                }
                for (row, sums) in acc.iter().take(count).enumerate() {
                    let out = std::slice::from_raw_parts_mut(job.out.add((r + row) * n + c0), width);
                    for c in 0..width {
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

/// `acc[..R] = x (R × k) · panel (k × NR, bfloat16)`.
#[inline(always)]
fn tile<const R: usize>(x: &[f32], panel: &[u16], k: usize, acc: &mut [[f32; NR]; MR]) {
    let mut sums = [[0f32; NR]; R];
    for (kk, raw) in panel.chunks_exact(NR).enumerate() {
        let mut b = [0f32; NR];
        for (v, &r) in b.iter_mut().zip(raw) {
            *v = from_bf16(r);
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
