//! The AVX2 BF16 kernel of `PackedLinear` (`bf16.rs` has the scheme): the
//! float32 AVX2 kernel (`linear_avx2.rs`: 6 × 16 tiles, inputs in L1-sized
//! chunks, rows in L2-sized blocks) with bfloat16 weight panels, each row of
//! 16 widened to float32 by `vpmovzxwd` and a 16-bit shift before the FMAs.
//! The inputs arrive already rounded to bfloat16. It streams half the
//! weight bytes of float32; the arithmetic is the same. AVX-512 CPUs run it
//! too; a `vdpbf16ps` (AVX512_BF16) kernel is not written yet.

use super::bf16::{Bf16Weights, NR};
use super::packed_linear::Job;

#[cfg(target_arch = "x86_64")]
pub(super) use kernel::panels;

#[cfg(not(target_arch = "x86_64"))]
pub(super) unsafe fn panels(_: &Bf16Weights, _: &[f32], _: usize, _: usize, _: &Job, _: usize, _: usize) {
    unreachable!("the AVX2 path is never chosen off x86_64")
}

#[cfg(target_arch = "x86_64")]
mod kernel {
    use std::arch::x86_64::*;

    use super::{Bf16Weights, Job, NR};

    /// Output rows per micro-kernel call: 12 accumulators, 2 weight
    /// registers and the broadcast, of AVX2's 16 registers.
    const MR: usize = 6;
    /// At most this many inputs per chunk: a panel's chunk (KC × 16
    /// bfloat16s, 12 KiB) stays in L1.
    const KC: usize = 384;
    /// Floats of `x` per block of rows and chunk (128 KiB), kept in L2.
    const X_BLOCK: usize = 1 << 15;
    /// How far ahead (in weights) the weight stream is prefetched.
    const PREFETCH_AHEAD: usize = 2048; // bfloat16s: 4 KiB

    /// The panels `first..end` of `w` (`k` inputs, `n` outputs, `bias`
    /// padded to whole panels) against every row of `job.x`.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA (`w` was packed for an AVX2 or AVX-512 path
    /// only then);
    /// `job`'s pointers address m × inputs (x) and m × outputs (base, out)
    /// floats; the columns of these panels in `out` are written by this
    /// call alone.
    #[target_feature(enable = "avx2,fma")]
    pub(in super::super) unsafe fn panels(w: &Bf16Weights, bias: &[f32], k: usize, n: usize, job: &Job, first: usize, end: usize) {
        let m = job.m;
        let chunks = k.div_ceil(KC);
        let kc_max = k.div_ceil(chunks);
        let mc = (X_BLOCK / kc_max).max(MR) / MR * MR;
        for m0 in (0..m).step_by(mc) {
            let rows = mc.min(m - m0);
            for chunk in 0..chunks {
                let (k0, k1) = (chunk * k / chunks, (chunk + 1) * k / chunks);
                let (first_chunk, last_chunk) = (chunk == 0, chunk + 1 == chunks);
                let depth = k1 - k0;
                for p in first..end {
                    let c0 = p * NR;
                    let width = NR.min(n - c0);
                    let tile = Tile {
                        panel: w.panel(p, k).add(k0 * NR),
                        bias: bias.as_ptr().add(c0),
                        depth,
                        ldx: k,
                        ldc: n,
                        width,
                        load: !first_chunk,
                        finish: last_chunk,
                    };
                    let mut r = m0;
                    while r < m0 + rows {
                        let count = MR.min(m0 + rows - r);
                        let x = job.x.add(r * k + k0);
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
                        r += count;
                    }
                }
            }
            // The activation over this block's rows and these panels'
            // columns at once (still in L2), in long runs it vectorises
            // well, rather than per 16-column tile.
            if let (Some(act), true) = (job.act, first < end) {
                let (c0, c1) = (first * NR, (end * NR).min(n));
                for row in m0..m0 + rows {
                    act(std::slice::from_raw_parts_mut(job.out.add(row * n + c0), c1 - c0));
                }
            }
        }
    }

    /// One panel's share of one chunk of a product.
    struct Tile {
        /// The panel's rows for this chunk (bfloat16).
        panel: *const u16,
        bias: *const f32,
        /// Inputs in this chunk.
        depth: usize,
        /// Floats between rows of `x`.
        ldx: usize,
        ldc: usize,
        /// Columns of the panel that exist (≤ 16).
        width: usize,
        /// Add to the partial sums already in `out` (not the first chunk).
        load: bool,
        /// Add bias and residual (the last chunk).
        finish: bool,
    }

    /// Lane masks for the columns `from..from + 8` of a panel `width` wide.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn lanes(width: usize, from: usize) -> __m256i {
        let limit = _mm256_set1_epi32(width as i32 - from as i32);
        _mm256_cmpgt_epi32(limit, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
    }

    /// 8 floats at `src`, only the lanes of `mask` unless `full`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn load8(src: *const f32, full: bool, mask: __m256i) -> __m256 {
        if full {
            _mm256_loadu_ps(src)
        } else {
            _mm256_maskload_ps(src, mask)
        }
    }

    impl Tile {
        /// `out (R × 16, rows ldc apart, columns < width) (+)= x (R × depth,
        /// rows ldx apart) · panel (+ bias + base)`.
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn run<const R: usize>(&self, x: *const f32, base: *const f32, out: *mut f32) {
            let panel = self.panel;
            let mut lo = [_mm256_setzero_ps(); R];
            let mut hi = [_mm256_setzero_ps(); R];
            for kk in 0..self.depth {
                // bfloat16 → float32: zero-extend to 32 bits, shift left 16.
                let b0 = _mm256_castsi256_ps(_mm256_slli_epi32::<16>(_mm256_cvtepu16_epi32(_mm_load_si128(panel.add(kk * NR).cast()))));
                let b1 = _mm256_castsi256_ps(_mm256_slli_epi32::<16>(_mm256_cvtepu16_epi32(_mm_load_si128(panel.add(kk * NR + 8).cast()))));
                // Prefetching never faults, so running past the end is harmless.
                _mm_prefetch::<_MM_HINT_T0>(panel.wrapping_add(kk * NR + PREFETCH_AHEAD).cast());
                for r in 0..R {
                    let xv = _mm256_broadcast_ss(&*x.add(r * self.ldx + kk));
                    lo[r] = _mm256_fmadd_ps(xv, b0, lo[r]);
                    hi[r] = _mm256_fmadd_ps(xv, b1, hi[r]);
                }
            }
            let full = self.width == NR;
            let (m0, m1) = (lanes(self.width, 0), lanes(self.width, 8));
            let (bias0, bias1) = if self.finish {
                // The bias is padded to whole panels: full loads are in bounds.
                (_mm256_loadu_ps(self.bias), _mm256_loadu_ps(self.bias.add(8)))
            } else {
                (_mm256_setzero_ps(), _mm256_setzero_ps())
            };
            for r in 0..R {
                let dst = out.add(r * self.ldc);
                let (mut y0, mut y1) = (lo[r], hi[r]);
                if self.load {
                    y0 = _mm256_add_ps(load8(dst, full, m0), y0);
                    y1 = _mm256_add_ps(load8(dst.add(8), full, m1), y1);
                }
                if self.finish {
                    // PyTorch's order: (x·Wᵀ + bias) + residual.
                    y0 = _mm256_add_ps(y0, bias0);
                    y1 = _mm256_add_ps(y1, bias1);
                    if !base.is_null() {
                        let src = base.add(r * self.ldc);
                        y0 = _mm256_add_ps(y0, load8(src, full, m0));
                        y1 = _mm256_add_ps(y1, load8(src.add(8), full, m1));
                    }
                }
                if full {
                    _mm256_storeu_ps(dst, y0);
                    _mm256_storeu_ps(dst.add(8), y1);
                } else {
                    _mm256_maskstore_ps(dst, m0, y0);
                    _mm256_maskstore_ps(dst.add(8), m1, y1);
                }
            }
        }
    }
}
