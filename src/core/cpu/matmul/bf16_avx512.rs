//! The AVX512_BF16 kernel of `PackedLinear` (`bf16_scheme.rs` has the scheme): the
//! AVX-512 path's BF16 kernel on CPUs with AVX512_BF16 (Cooper Lake,
//! Sapphire Rapids, Zen 4 and later).
//!
//! `vdpbf16ps` multiplies pairs of bfloat16s and adds both products to a
//! float32 lane: twice the multiply-adds of a float32 FMA per instruction,
//! from half the bytes. The weights are in the pair layout
//! (`Bf16PairWeights`: per pair of inputs, each column's two weights side
//! by side), the inputs rounded to bfloat16 pairs once per product
//! (`bf16::rows_to_pairs`), so a row's two inputs are one dword, broadcast
//! to every lane from memory. A tile is 12 rows × 32 columns in 24
//! registers, as the float32 AVX-512 kernel's: per pair of inputs, 2 weight
//! loads and 24 `vdpbf16ps`. The products of bfloat16s are exact in
//! float32; the instruction rounds as it adds (round to nearest even, and
//! it treats subnormal inputs as zero), so the sums differ from the AVX2
//! path's only in rounding order, within the scheme's tolerance.

use super::bf16_scheme::{Bf16PairWeights, PAIR_NR};
use super::Job;

/// Columns per panel: two 16-float registers.
pub(super) const NR: usize = PAIR_NR;

/// Whether this CPU runs the kernel (the AVX-512 path's BF16 kernel then).
pub(super) fn supported() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512bf16")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Output rows per tile: 24 accumulators and 2 weight registers of
/// AVX-512's 32.
const MR: usize = 12;
/// Bytes of `x` per block of rows (256 KiB of bfloat16): a block and the
/// panel it passes over stay in L2.
const X_BLOCK: usize = 1 << 18;

/// Rows per block of `x` for a layer of `k` inputs (a multiple of the
/// tile's rows); callers that split a product among threads split it at
/// these boundaries.
pub(super) fn row_block(k: usize) -> usize {
    (X_BLOCK / (2 * k.max(1))).max(MR) / MR * MR
}

#[cfg(target_arch = "x86_64")]
pub(super) use kernel::panels;

#[cfg(not(target_arch = "x86_64"))]
pub(super) unsafe fn panels(_: &Bf16PairWeights, _: &[f32], _: usize, _: usize, _: &Job<u16>, _: usize, _: usize) {
    unreachable!("the AVX512_BF16 kernel is never chosen off x86_64")
}

#[cfg(target_arch = "x86_64")]
mod kernel {
    use std::arch::x86_64::*;

    use super::super::fp32_avx512::store_tile;
    use super::{row_block, Bf16PairWeights, Job, MR, NR};

    /// How far ahead (in bytes) the weight stream is prefetched: 8 KiB.
    const PREFETCH_AHEAD: usize = 8192;

    /// The panels `first..end` of `w` (`k` inputs, `n` outputs, `bias`
    /// padded to whole panels) against the rows `job.rows` of `job.x`
    /// (bfloat16 pairs: rows of `w.pairs · 2` values).
    ///
    /// # Safety
    /// The CPU has AVX-512F and AVX512_BF16 (`super::supported`); `job`'s
    /// pointers address m rows of `w.pairs · 2` bfloat16s (x) and m × n
    /// floats (base, out); the columns of these panels in the rows
    /// `job.rows` (within m) of `out` are written by this call alone.
    #[target_feature(enable = "avx512f,avx512bf16")]
    pub(in super::super) unsafe fn panels(w: &Bf16PairWeights, bias: &[f32], k: usize, n: usize, job: &Job<u16>, first: usize, end: usize) {
        let m = job.rows.end;
        let mc = row_block(k);
        let stride = w.pairs * 2;
        for m0 in job.rows.clone().step_by(mc) {
            let rows = mc.min(m - m0);
            for p in first..end {
                let c0 = p * NR;
                let width = NR.min(n - c0);
                let mask = if width == NR { u32::MAX } else { (1u32 << width) - 1 };
                let tile = Tile { panel: w.panel(p), pairs: w.pairs, bias: bias.as_ptr().add(c0), stride, ldc: n, mask };
                let mut r = m0;
                while r < m0 + rows {
                    let count = MR.min(m0 + rows - r);
                    let x = job.x.add(r * stride);
                    let out = job.out.add(r * n + c0);
                    let base = if job.base.is_null() { job.base } else { job.base.add(r * n + c0) };
                    // The block's first row tile streams the panel (prefetching ahead).
                    let stream = r == m0;
                    match count {
                        12 => tile.run::<12>(x, base, out, stream),
                        11 => tile.run::<11>(x, base, out, stream),
                        10 => tile.run::<10>(x, base, out, stream),
                        9 => tile.run::<9>(x, base, out, stream),
                        8 => tile.run::<8>(x, base, out, stream),
                        7 => tile.run::<7>(x, base, out, stream),
                        6 => tile.run::<6>(x, base, out, stream),
                        5 => tile.run::<5>(x, base, out, stream),
                        4 => tile.run::<4>(x, base, out, stream),
                        3 => tile.run::<3>(x, base, out, stream),
                        2 => tile.run::<2>(x, base, out, stream),
                        _ => tile.run::<1>(x, base, out, stream),
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
        panel: *const u16,
        pairs: usize,
        bias: *const f32,
        /// bfloat16s per row of x.
        stride: usize,
        ldc: usize,
        mask: u32,
    }

    impl Tile {
        /// `out (R × 32, rows ldc apart, columns masked) = x (R rows of
        /// bfloat16 pairs, stride apart) · panel + bias (+ base)`.
        #[inline]
        #[target_feature(enable = "avx512f,avx512bf16")]
        unsafe fn run<const R: usize>(&self, x: *const u16, base: *const f32, out: *mut f32, stream: bool) {
            let panel = self.panel;
            let mut lo = [_mm512_setzero_ps(); R];
            let mut hi = [_mm512_setzero_ps(); R];
            for j in 0..self.pairs {
                // Two lines of 64 bytes: columns 0–15 and 16–31.
                let line = panel.add(j * 64);
                let w0: __m512bh = std::mem::transmute(_mm512_load_si512(line.cast()));
                let w1: __m512bh = std::mem::transmute(_mm512_load_si512(line.add(32).cast()));
                if stream {
                    // Prefetching never faults, so running past the end is harmless.
                    let ahead = line.cast::<u8>().wrapping_add(PREFETCH_AHEAD);
                    _mm_prefetch::<_MM_HINT_T0>(ahead.cast());
                    _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(64).cast());
                }
                for r in 0..R {
                    // The row's inputs 2j and 2j + 1, in every lane.
                    let pair = std::ptr::read_unaligned(x.add(r * self.stride + 2 * j).cast::<i32>());
                    let xv: __m512bh = std::mem::transmute(_mm512_set1_epi32(pair));
                    lo[r] = _mm512_dpbf16_ps(lo[r], w0, xv);
                    hi[r] = _mm512_dpbf16_ps(hi[r], w1, xv);
                }
            }
            store_tile(&lo, &hi, self.bias, base, out, self.ldc, self.mask);
        }
    }
}
