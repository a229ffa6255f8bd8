//! The AVX-512 micro-kernel of `PackedLinear`: a 12 × 32 block of the
//! output in 24 registers, `x`'s elements broadcast from memory, two FMAs
//! per load of the weight, the weight stream prefetched ahead.

use super::{Job, PackedLinear};

/// Columns per panel: two 16-float registers.
pub(super) const NR: usize = 32;
/// Output rows per micro-kernel call: 24 accumulators, 2 weight
/// registers and the broadcast fit AVX-512's 32 registers.
const MR: usize = 12;
/// Floats of `x` per block of rows (512 KiB): a block and the panel it
/// passes over stay in a 1 MiB L2.
const X_BLOCK: usize = 1 << 17;

/// Rows per block of `x` for a layer of `k` inputs (a multiple of the
/// tile's rows); callers that split a product among threads split it at
/// these boundaries.
pub(super) fn row_block(k: usize) -> usize {
    (X_BLOCK / k.max(1)).max(MR) / MR * MR
}

#[cfg(target_arch = "x86_64")]
pub(super) use kernel::{load16, panels, store16, store_tile};

#[cfg(not(target_arch = "x86_64"))]
pub(super) unsafe fn panels(_: &PackedLinear, _: &Job, _: usize, _: usize) {
    unreachable!("the AVX-512 path is never chosen off x86_64")
}

#[cfg(target_arch = "x86_64")]
mod kernel {
    use std::arch::x86_64::*;

    use super::{row_block, Job, PackedLinear, MR, NR};

    /// How far ahead (in floats) the weight stream is prefetched: 16 KiB.
    const PREFETCH_AHEAD: usize = 4096;

    /// The panels `first..end` of `w` against the rows `job.rows` of `job.x`.
    ///
    /// # Safety
    /// The CPU has AVX-512F (`w` was packed for this path only then); `job`'s pointers
    /// address m × inputs (x) and m × outputs (base, out) floats; the
    /// columns of these panels in the rows `job.rows` (within m) of `out` are written by this call alone.
    #[target_feature(enable = "avx512f")]
    pub(in super::super) unsafe fn panels(w: &PackedLinear, job: &Job, first: usize, end: usize) {
        let (k, n, m) = (w.inputs, w.outputs, job.rows.end);
        let mc = row_block(k);
        for m0 in job.rows.clone().step_by(mc) {
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

    /// 16 floats at `src`: only the lanes of `mask`, unless it has them
    /// all (a masked load or store of 512 bits costs more than a plain one
    /// on some CPUs: on Zen 4, a stall at each residual read).
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(in super::super) unsafe fn load16(src: *const f32, mask: u16) -> __m512 {
        if mask == u16::MAX {
            _mm512_loadu_ps(src)
        } else {
            _mm512_maskz_loadu_ps(mask, src)
        }
    }

    /// `v` to the 16 floats at `dst`: only the lanes of `mask`, unless it has them all.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(in super::super) unsafe fn store16(dst: *mut f32, v: __m512, mask: u16) {
        if mask == u16::MAX {
            _mm512_storeu_ps(dst, v)
        } else {
            _mm512_mask_storeu_ps(dst, mask, v)
        }
    }

    /// The store of an R × 32 tile of float32 sums (`lo`: columns 0–15,
    /// `hi`: 16–31; `mask`: the columns that exist), for the float32 and
    /// bfloat16 kernels: `out = (sums + bias) + base`, PyTorch's order,
    /// rows `ldc` apart (`base` null: no residual).
    ///
    /// Always inlined (the sums stay in their registers; called, they went
    /// through memory: 7% of a BF16 pass), so without a target feature of
    /// its own: its callers are AVX-512F kernels.
    #[inline(always)]
    pub(in super::super) unsafe fn store_tile<const R: usize>(lo: &[__m512; R], hi: &[__m512; R], bias: *const f32, base: *const f32, out: *mut f32, ldc: usize, mask: u32) {
        let (m0, m1) = (mask as u16, (mask >> 16) as u16);
        let (bias0, bias1) = (load16(bias, m0), load16(bias.add(16), m1));
        for r in 0..R {
            let dst = out.add(r * ldc);
            let mut y0 = _mm512_add_ps(lo[r], bias0);
            let mut y1 = _mm512_add_ps(hi[r], bias1);
            if !base.is_null() {
                let src = base.add(r * ldc);
                y0 = _mm512_add_ps(y0, load16(src, m0));
                y1 = _mm512_add_ps(y1, load16(src.add(16), m1));
            }
            store16(dst, y0, m0);
            store16(dst.add(16), y1, m1);
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
            store_tile(&lo, &hi, self.bias, base, out, self.ldc, self.mask);
        }
    }
}

