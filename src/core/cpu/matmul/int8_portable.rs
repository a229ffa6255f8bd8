//! The portable INT8 kernel of `PackedLinear`: plain Rust, the same integer
//! sums as the AVX2 kernel (no saturation can occur, see `int8_scheme.rs`) and
//! the same float32 dequantisation, so both paths give identical vectors.

use super::Int8Job;
use super::int8_scheme::{outlier_terms, Int8Weights, NR};

/// Output rows per tile.
const MR: usize = 4;

/// The panels `first..end` of `w` against the rows `job.rows` of `job`.
///
/// # Safety
/// `job`'s pointers address m rows of `w.groups · 4` bytes (x), m × n
/// floats (base, out) and m scales and zero points; the columns of these panels in the rows `job.rows` (within m) of `out` are written by this call alone.
pub(super) unsafe fn panels(w: &Int8Weights, bias: &[f32], n: usize, job: &Int8Job, first: usize, end: usize) {
    let groups = w.groups;
    let m = job.rows.end;
    let stride = groups * 4;
    for p in first..end {
        let c0 = p * NR;
        let width = NR.min(n - c0);
        // SAFETY: panel p holds `groups` lines of 64 bytes.
        let panel = std::slice::from_raw_parts(w.panel(p), groups * 64);
        let mut r = job.rows.start;
        while r < m {
            let count = MR.min(m - r);
            let mut acc = [[0i32; NR]; MR];
            let x = std::slice::from_raw_parts(job.x.add(r * stride), count * stride);
            for (g, line) in panel.chunks_exact(64).enumerate() {
                // The line's weights by input then column, widened once for
                // the tile's rows (contiguous loops the compiler vectorises).
                let mut wt = [[0i32; NR]; 4];
                for (c, ws) in line.chunks_exact(4).enumerate() {
                    for t in 0..4 {
                        wt[t][c] = i32::from(ws[t]);
                    }
                }
                for (row, sums) in acc.iter_mut().take(count).enumerate() {
                    for (t, wrow) in wt.iter().enumerate() {
                        let xv = i32::from(x[row * stride + g * 4 + t]);
                        for c in 0..NR {
                            sums[c] += xv * wrow[c];
                        }
                    }
                }
            }
            for (row, sums) in acc.iter().take(count).enumerate() {
                let i = r + row;
                let (scale, zero) = (*job.scales.add(i), *job.zeros.add(i));
                let terms = outlier_terms(w, job.quantized, i, p);
                let out = std::slice::from_raw_parts_mut(job.out.add(i * n + c0), width);
                for c in 0..width {
                    let j = c0 + c;
                    let y = (sums[c] - zero * w.sums[j]) as f32 * (scale * w.scales[j]);
                    out[c] = (y + terms[c]) + bias[j];
                }
                if !job.base.is_null() {
                    let base = std::slice::from_raw_parts(job.base.add(i * n + c0), width);
                    for (o, b) in out.iter_mut().zip(base) {
                        *o += b;
                    }
                }
            }
            r += count;
        }
    }
    if let (Some(act), true) = (job.act, first < end) {
        let (c0, c1) = (first * NR, (end * NR).min(n));
        for row in job.rows.clone() {
            act(std::slice::from_raw_parts_mut(job.out.add(row * n + c0), c1 - c0));
        }
    }
}
