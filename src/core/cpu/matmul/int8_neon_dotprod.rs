//! The NEON INT8 kernel of `PackedLinear` for aarch64 CPUs with the
//! dot-product instructions (FEAT_DotProd: Graviton 2 and later, Ampere
//! Altra, Neoverse N1/V1/N2/V2): `sdot` sums 4 byte products into each
//! int32 lane, the operand layout of the INT8 panels (`int8_scheme.rs`: per
//! column, 4 weights of a group). `sdot` multiplies signed bytes, so each
//! input byte `q` (uint8) enters as `q − 128` and the sum gets `128 · Σ_k q_w`
//! back: the exact integer sums of the portable kernel, dequantised in the
//! same order, so the same vectors bit for bit. Other aarch64 CPUs run the
//! portable kernel (`int8_portable.rs`).
//! (`sdot` is written as inline assembly: its intrinsic is not yet stable Rust.)

use super::Int8Job;
#[cfg(not(target_arch = "aarch64"))]
use super::int8_scheme::Int8Weights;

/// Whether this CPU has the dot-product instructions.
pub(super) fn supported() -> bool {
    #[cfg(target_arch = "aarch64")]
    {
        std::arch::is_aarch64_feature_detected!("dotprod")
    }
    #[cfg(not(target_arch = "aarch64"))]
    {
        false
    }
}

#[cfg(target_arch = "aarch64")]
pub(super) use kernel::panels;

#[cfg(not(target_arch = "aarch64"))]
pub(super) unsafe fn panels(_: &Int8Weights, _: &[f32], _: usize, _: &Int8Job, _: usize, _: usize) {
    unreachable!("the NEON path is never chosen off aarch64")
}

#[cfg(target_arch = "aarch64")]
mod kernel {
    use std::arch::aarch64::*;
    use std::arch::asm;

    use super::super::int8_scheme::{outlier_terms, Int8Weights, NR};
    use super::Int8Job;

    /// Output rows per tile: 16 accumulators, 4 weight registers, 1 input.
    const MR: usize = 4;

    /// The panels `first..end` of `w` against the rows `job.rows` of `job`.
    ///
    /// # Safety
    /// The CPU has FEAT_DotProd (`supported`); `job`'s pointers address m
    /// rows of `w.groups · 4` bytes (x), m × n floats (base, out) and m
    /// scales and zero points; the columns of these panels in the rows
    /// `job.rows` (within m) of `out` are written by this call alone.
    #[target_feature(enable = "dotprod")]
    pub(in super::super) unsafe fn panels(w: &Int8Weights, bias: &[f32], n: usize, job: &Int8Job, first: usize, end: usize) {
        let groups = w.groups;
        let m = job.rows.end;
        let stride = groups * 4;
        for p in first..end {
            let c0 = p * NR;
            let width = NR.min(n - c0);
            // SAFETY: panel p holds `groups` lines of 64 bytes.
            let panel = w.panel(p);
            let mut r = job.rows.start;
            while r < m {
                let count = MR.min(m - r);
                let x = job.x.add(r * stride);
                let sums = match count {
                    4 => tile::<4>(panel, groups, x, stride),
                    3 => tile::<3>(panel, groups, x, stride),
                    2 => tile::<2>(panel, groups, x, stride),
                    _ => tile::<1>(panel, groups, x, stride),
                };
                for (row, sums) in sums.iter().take(count).enumerate() {
                    let i = r + row;
                    let (scale, zero) = (*job.scales.add(i), *job.zeros.add(i));
                    let terms = outlier_terms(w, job.quantized, i, p);
                    let out = std::slice::from_raw_parts_mut(job.out.add(i * n + c0), width);
                    for c in 0..width {
                        let j = c0 + c;
                        // The uint8 sum: the signed one plus 128 · Σ_k q_w.
                        let sum = sums[c] + 128 * w.sums[j];
                        let y = (sum - zero * w.sums[j]) as f32 * (scale * w.scales[j]);
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

    /// Per row of the tile, per column of the panel: `Σ_k (q_x − 128) · q_w`.
    ///
    /// # Safety
    /// The CPU has FEAT_DotProd; `panel` holds `groups` lines of 64 bytes;
    /// `x` holds R rows of `stride ≥ 4 · groups` bytes.
    #[inline]
    #[target_feature(enable = "dotprod")]
    unsafe fn tile<const R: usize>(panel: *const i8, groups: usize, x: *const u8, stride: usize) -> [[i32; NR]; MR] {
        let mut acc = [[vdupq_n_s32(0); 4]; R];
        let flip = vdupq_n_u8(0x80);
        for g in 0..groups {
            let line = panel.add(g * 64);
            let wv = [vld1q_s8(line), vld1q_s8(line.add(16)), vld1q_s8(line.add(32)), vld1q_s8(line.add(48))];
            for (r, sums) in acc.iter_mut().enumerate() {
                // The row's 4 inputs of this group in every lane, as q − 128.
                let quad = x.add(r * stride + g * 4).cast::<u32>().read_unaligned();
                let xv = vreinterpretq_s8_u8(veorq_u8(vreinterpretq_u8_u32(vdupq_n_u32(quad)), flip));
                for (s, &wj) in sums.iter_mut().zip(&wv) {
                    // s[c] += Σ_t wj[4c + t] · xv[4c + t]; xv repeats the same 4 bytes.
                    asm!("sdot {s:v}.4s, {w:v}.16b, {x:v}.16b", s = inout(vreg) *s, w = in(vreg) wj, x = in(vreg) xv, options(pure, nomem, nostack));
                }
            }
        }
        let mut out = [[0i32; NR]; MR];
        for (r, sums) in acc.iter().enumerate() {
            for (j, &s) in sums.iter().enumerate() {
                vst1q_s32(out[r].as_mut_ptr().add(4 * j), s);
            }
        }
        out
    }
}
