//! The NEON micro-kernel of `PackedLinear` (aarch64, `std::arch::aarch64`):
//! a 6 × 16 block of the output in 24 of the 32 vector registers, four
//! weight registers per input, `x`'s element broadcast, one fused
//! multiply-add per register. The panels are the portable path's (16
//! columns, `inputs` rows). The driver is generic over the panel's element
//! ([`Widen`]): float32 here, bfloat16 in `bf16_neon.rs`.
//!
//! Each output is summed over the inputs in order, one FMA per input, as
//! the portable kernel sums them (there a multiply and an add): the float32
//! results differ from the portable path's by rounding only; the bfloat16
//! ones not at all (a product of two bfloat16s is exact in float32, so the
//! FMA rounds as the add does).

use super::{Job, PackedLinear};

/// Columns per panel: four 4-float registers (the portable path's panels).
pub(super) const NR: usize = 16;
/// Output rows per micro-kernel call: 24 accumulators, 4 weight registers
/// and the broadcast fit in AArch64's 32 vector registers.
const MR: usize = 6;
/// Floats of `x` per block of rows (256 KiB), kept in L2 (1 MiB or more on
/// Neoverse cores).
const X_BLOCK: usize = 1 << 16;

const _: () = assert!(NR == super::fp32_portable::NR, "the NEON path runs the portable path's panels");

/// Rows per block of `x` for a layer of `k` inputs (a multiple of the
/// tile's rows); callers that split a product among threads split it at
/// these boundaries.
pub(super) fn row_block(k: usize) -> usize {
    (X_BLOCK / k.max(1)).max(MR) / MR * MR
}

#[cfg(target_arch = "aarch64")]
pub(super) use kernel::{panels, panels_of, Widen};

#[cfg(not(target_arch = "aarch64"))]
pub(super) unsafe fn panels(_: &PackedLinear, _: &Job, _: usize, _: usize) {
    unreachable!("the NEON path is never chosen off aarch64")
}

#[cfg(target_arch = "aarch64")]
mod kernel {
    use std::arch::aarch64::*;

    use super::{row_block, Job, PackedLinear, MR, NR};

    /// A panel's stored weight: four of them, from `src`, as float32.
    pub(in super::super) trait Widen: Copy {
        /// # Safety
        /// `src` addresses four weights.
        unsafe fn widen4(src: *const Self) -> float32x4_t;
    }

    impl Widen for f32 {
        #[inline(always)]
        unsafe fn widen4(src: *const f32) -> float32x4_t {
            vld1q_f32(src)
        }
    }

    /// The panels `first..end` of the float32 layer `w` against the rows
    /// `job.rows` of `job.x`.
    ///
    /// # Safety
    /// `w` was packed for the NEON path (16-column panels); `job`'s
    /// pointers address m × inputs (x) and m × outputs (base, out) floats;
    /// the columns of these panels in the rows `job.rows` (within m) of
    /// `out` are written by this call alone.
    pub(in super::super) unsafe fn panels(w: &PackedLinear, job: &Job, first: usize, end: usize) {
        panels_of::<f32>(w.panel(0), &w.bias, w.inputs, w.outputs, job, first, end)
    }

    /// The panels `first..end` of a layer (`k` inputs, `n` outputs, panel
    /// `p` of `k` rows of `NR` weights at `panel0 + p·k·NR`, `bias` padded
    /// to whole panels) against the rows `job.rows` of `job.x`.
    ///
    /// # Safety
    /// The panels `first..end` exist from `panel0`; `job`'s pointers
    /// address m × k (x) and m × n (base, out) floats; the columns of these
    /// panels in the rows `job.rows` (within m) of `out` are written by
    /// this call alone.
    pub(in super::super) unsafe fn panels_of<E: Widen>(panel0: *const E, bias: &[f32], k: usize, n: usize, job: &Job, first: usize, end: usize) {
        let m = job.rows.end;
        let mc = row_block(k);
        debug_assert!(bias.len() >= end * NR, "the bias is padded to whole panels");
        for m0 in job.rows.clone().step_by(mc) {
            let rows = mc.min(m - m0);
            for p in first..end {
                let c0 = p * NR;
                let tile = Tile { panel: panel0.add(p * k * NR), bias: bias.as_ptr().add(c0), k, ldc: n, width: NR.min(n - c0) };
                let mut r = m0;
                while r < m0 + rows {
                    let count = MR.min(m0 + rows - r);
                    // SAFETY (each): rows r..r + count exist (within m).
                    let x = job.x.add(r * k);
                    let out = job.out.add(r * n + c0);
                    let base = if job.base.is_null() { job.base } else { job.base.add(r * n + c0) };
                    match count {
                        6 => tile.run::<6>(x, base, out),
                        5 => tile.run::<5>(x, base, out),
                        4 => tile.run::<4>(x, base, out),
                        3 => tile.run::<3>(x, base, out),
                        2 => tile.run::<2>(x, base, out),
                        _ => tile.run::<1>(x, base, out),
                    }
                    if let Some(act) = job.act {
                        for row in 0..count {
                            act(std::slice::from_raw_parts_mut(out.add(row * n), tile.width));
                        }
                    }
                    r += count;
                }
            }
        }
    }

    /// One panel's share of a product.
    struct Tile<E> {
        /// `k` rows of `NR` weights.
        panel: *const E,
        /// `NR` floats (padded).
        bias: *const f32,
        k: usize,
        /// Floats from one output row to the next.
        ldc: usize,
        /// The panel's columns that exist (`NR` but in the last panel).
        width: usize,
    }

    impl<E: Widen> Tile<E> {
        /// `out (R × width, rows ldc apart) = (x (R × k, rows k apart) ·
        /// panel + bias) + base`, PyTorch's order (`base` null: no residual).
        #[inline(always)]
        unsafe fn run<const R: usize>(&self, x: *const f32, base: *const f32, out: *mut f32) {
            let (panel, k) = (self.panel, self.k);
            let mut acc = [[vdupq_n_f32(0.0); 4]; R];
            for kk in 0..k {
                let row = panel.add(kk * NR);
                let b = [E::widen4(row), E::widen4(row.add(4)), E::widen4(row.add(8)), E::widen4(row.add(12))];
                for (r, sums) in acc.iter_mut().enumerate() {
                    let xv = vdupq_n_f32(*x.add(r * k + kk));
                    for (s, &bj) in sums.iter_mut().zip(&b) {
                        *s = vfmaq_f32(*s, bj, xv);
                    }
                }
            }
            let bias = [vld1q_f32(self.bias), vld1q_f32(self.bias.add(4)), vld1q_f32(self.bias.add(8)), vld1q_f32(self.bias.add(12))];
            for (r, sums) in acc.iter().enumerate() {
                let dst = out.add(r * self.ldc);
                let src = if base.is_null() { base } else { base.add(r * self.ldc) };
                if self.width == NR {
                    for j in 0..4 {
                        let mut y = vaddq_f32(sums[j], bias[j]);
                        if !src.is_null() {
                            y = vaddq_f32(y, vld1q_f32(src.add(4 * j)));
                        }
                        vst1q_f32(dst.add(4 * j), y);
                    }
                } else {
                    let mut y = [0f32; NR];
                    for j in 0..4 {
                        vst1q_f32(y.as_mut_ptr().add(4 * j), vaddq_f32(sums[j], bias[j]));
                    }
                    for (c, &v) in y.iter().enumerate().take(self.width) {
                        *dst.add(c) = if src.is_null() { v } else { v + *src.add(c) };
                    }
                }
            }
        }
    }
}
