//! The AVX2 INT8 kernel of `PackedLinear` (`quantize.rs` has the scheme).
//!
//! A 4 × 16 tile of int32 sums in 8 registers. Per group of 4 inputs: the
//! panel's 64-byte line in 2 registers (8 columns × 4 weights each), each
//! row's 4 inputs broadcast to every lane (centred, and their magnitudes),
//! then `vpsignb`, `vpmaddubsw` (uint8 × int8, pairs into int16 with
//! saturation), `vpmaddwd` by ones (pairs of int16 into int32), `vpaddd`.
//!
//! Saturation: uint8 inputs (≤ 255) times 8-bit weights (|w| ≤ 127) can
//! reach 2·255·127 = 64 770 in a pair, past int16's 32 767. So the inputs
//! are centred first, `x − 128` in −128..127, and multiplied as `|x − 128|`
//! (≤ 128, unsigned) by `w · sign(x − 128)` (`vpsignb`, |·| ≤ 127): a pair
//! is at most 2·128·127 = 32 512, never saturated, and the sum is exactly
//! `Σ x·w − 128·Σ w`, which the store adds back. So these are the portable
//! kernel's integers exactly, and the store applies the zero point, scales,
//! bias and residual in the same float32 order: identical vectors. AVX-512
//! CPUs run this kernel too (there is no AVX-512/VNNI INT8 kernel yet).

#[cfg(target_arch = "x86_64")]
pub(super) use kernel::panels;

#[cfg(not(target_arch = "x86_64"))]
pub(super) unsafe fn panels(
    _: &super::quantize::Int8Weights, _: &[f32], _: usize, _: &super::packed_linear::Int8Job, _: usize, _: usize,
) {
    unreachable!("the AVX2 path is never chosen off x86_64")
}

#[cfg(target_arch = "x86_64")]
mod kernel {
    use std::arch::x86_64::*;

    use super::super::linear_avx2::{lanes, load8, store8};
    use super::super::packed_linear::Int8Job;
    use super::super::quantize::{Int8Weights, QuantizedRows, NR};

    /// Output rows per tile: 8 accumulators, 2 weight registers, the
    /// broadcast and its magnitude, the ones and 2 signed weights, of
    /// AVX2's 16 registers.
    const MR: usize = 4;
    /// Rows per block (bytes of x: at most 1536 · 64 = 96 KiB, in L2).
    const ROW_BLOCK: usize = 64;
    /// How far ahead (in bytes) the weight stream is prefetched.
    const PREFETCH_AHEAD: usize = 2048;

    /// The panels `first..end` of `w` against every row of `job`.
    ///
    /// # Safety
    /// The CPU has AVX2 (the layer was packed for an AVX2 or AVX-512 path
    /// only then); `job`'s pointers address m rows of `w.groups · 4` bytes
    /// (x, centred, magnitudes), m × n floats (base, out) and m scales and zero points; the
    /// columns of these panels in `out` are written by this call alone.
    #[target_feature(enable = "avx2,fma")]
    pub(in super::super) unsafe fn panels(w: &Int8Weights, bias: &[f32], n: usize, job: &Int8Job, first: usize, end: usize) {
        let m = job.m;
        for m0 in (0..m).step_by(ROW_BLOCK) {
            let rows = ROW_BLOCK.min(m - m0);
            for p in first..end {
                let c0 = p * NR;
                let tile = Tile {
                    weights: w,
                    p,
                    panel: w.panel(p),
                    groups: w.groups,
                    scales: w.scales.as_ptr().add(c0),
                    sums: w.sums.as_ptr().add(c0),
                    bias: bias.as_ptr().add(c0),
                    ldc: n,
                    width: NR.min(n - c0),
                };
                let mut r = m0;
                while r < m0 + rows {
                    let count = MR.min(m0 + rows - r);
                    match count {
                        4 => tile.run::<4>(job, r, c0),
                        3 => tile.run::<3>(job, r, c0),
                        2 => tile.run::<2>(job, r, c0),
                        _ => tile.run::<1>(job, r, c0),
                    }
                    r += count;
                }
            }
            if let (Some(act), true) = (job.act, first < end) {
                let (c0, c1) = (first * NR, (end * NR).min(n));
                for row in m0..m0 + rows {
                    act(std::slice::from_raw_parts_mut(job.out.add(row * n + c0), c1 - c0));
                }
            }
        }
    }

    struct Tile<'a> {
        weights: &'a Int8Weights,
        /// The panel's index and first group.
        p: usize,
        panel: *const i8,
        groups: usize,
        /// The panel's 16 weight scales, weight sums and biases (padded).
        scales: *const f32,
        sums: *const i32,
        bias: *const f32,
        ldc: usize,
        /// Columns of the panel that exist (≤ 16).
        width: usize,
    }

    /// `quantize::outlier_terms` 8 columns at a time: for each outlier in
    /// order, its 16 weights picked out of the panel's line (`c·4 + k % 4`)
    /// by a byte shuffle, widened, then multiplied and added (no FMA); then
    /// × the columns' scales. The same operations in the same order per
    /// column as the scalar version: the same bits.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn outlier_terms(w: &Int8Weights, rows: &QuantizedRows, row: usize, p: usize) -> (__m256, __m256) {
        let outliers = &rows.outliers[rows.first[row]..rows.first[row + 1]];
        let (mut t0, mut t1) = (_mm256_setzero_ps(), _mm256_setzero_ps());
        if outliers.is_empty() {
            return (t0, t1);
        }
        // Per 128-bit lane (4 columns × 4 inputs): bytes t, t + 4, t + 8,
        // t + 12 (the lane's 4 columns at input t) to the lane's first
        // dword; the rest zeroed (high bit set, t added or not).
        let pick = _mm256_setr_epi8(
            0, 4, 8, 12, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128,
            0, 4, 8, 12, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128,
        );
        // Dwords 0 and 4 (the two lanes' picks) to the low 8 bytes.
        let gather = _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0);
        let panel = w.panel(p);
        for &(k, x) in outliers {
            let line = panel.add(k / 4 * 64);
            let select = _mm256_add_epi8(pick, _mm256_set1_epi8((k % 4) as i8));
            let half = |bytes: __m256i| {
                let dwords = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(bytes, select), gather);
                _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm256_castsi256_si128(dwords)))
            };
            let (w0, w1) = (half(_mm256_load_si256(line.cast())), half(_mm256_load_si256(line.add(32).cast())));
            let xv = _mm256_set1_ps(x);
            t0 = _mm256_add_ps(t0, _mm256_mul_ps(xv, w0));
            t1 = _mm256_add_ps(t1, _mm256_mul_ps(xv, w1));
        }
        let scales = w.scales.as_ptr().add(p * NR);
        (_mm256_mul_ps(t0, _mm256_loadu_ps(scales)), _mm256_mul_ps(t1, _mm256_loadu_ps(scales.add(8))))
    }

    impl Tile<'_> {
        /// Rows `r..r + R` of `job`, the panel's columns from `c0`.
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn run<const R: usize>(&self, job: &Int8Job, r: usize, c0: usize) {
            let stride = self.groups * 4;
            let (centred, magnitudes) = (job.centred.add(r * stride), job.magnitudes.add(r * stride));
            let ones = _mm256_set1_epi16(1);
            let mut lo = [_mm256_setzero_si256(); R];
            let mut hi = [_mm256_setzero_si256(); R];
            for g in 0..self.groups {
                let line = self.panel.add(g * 64);
                let w0 = _mm256_load_si256(line.cast());
                let w1 = _mm256_load_si256(line.add(32).cast());
                // Prefetching never faults, so running past the end is harmless.
                _mm_prefetch::<_MM_HINT_T0>(line.wrapping_add(PREFETCH_AHEAD).cast());
                for i in 0..R {
                    // x − 128 and |x − 128| (made once per input by
                    // `QuantizedRows`), the weights with the sign of x − 128
                    // (0 where it is 0).
                    let at = i * stride + g * 4;
                    let sign = _mm256_set1_epi32(std::ptr::read_unaligned(centred.add(at).cast::<i32>()));
                    let magnitude = _mm256_set1_epi32(std::ptr::read_unaligned(magnitudes.add(at).cast::<i32>()));
                    let p0 = _mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(w0, sign));
                    let p1 = _mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(w1, sign));
                    lo[i] = _mm256_add_epi32(lo[i], _mm256_madd_epi16(p0, ones));
                    hi[i] = _mm256_add_epi32(hi[i], _mm256_madd_epi16(p1, ones));
                }
            }
            let full = self.width == NR;
            let (m0, m1) = (lanes(self.width, 0), lanes(self.width, 8));
            // Padded to whole panels: full loads are in bounds.
            let (s0, s1) = (_mm256_loadu_ps(self.scales), _mm256_loadu_ps(self.scales.add(8)));
            let (q0, q1) = (_mm256_loadu_si256(self.sums.cast()), _mm256_loadu_si256(self.sums.add(8).cast()));
            let (b0, b1) = (_mm256_loadu_ps(self.bias), _mm256_loadu_ps(self.bias.add(8)));
            for i in 0..R {
                let row = r + i;
                let scale = _mm256_set1_ps(*job.scales.add(row));
                // acc + 128·Σw − z·Σw: the centring undone with the zero point.
                let zero = _mm256_set1_epi32(*job.zeros.add(row) - 128);
                let dst = job.out.add(row * self.ldc + c0);
                let (t0, t1) = outlier_terms(self.weights, job.rows, row, self.p);
                // ((acc − z·Σw) · (s·s_j) + outliers) + bias, then +
                // residual: the portable kernel's order, without fused
                // multiply-adds.
                let a0 = _mm256_sub_epi32(lo[i], _mm256_mullo_epi32(zero, q0));
                let a1 = _mm256_sub_epi32(hi[i], _mm256_mullo_epi32(zero, q1));
                let mut y0 = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(a0), _mm256_mul_ps(scale, s0)), t0), b0);
                let mut y1 = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(a1), _mm256_mul_ps(scale, s1)), t1), b1);
                if !job.base.is_null() {
                    let src = job.base.add(row * self.ldc + c0);
                    y0 = _mm256_add_ps(y0, load8(src, full, m0));
                    y1 = _mm256_add_ps(y1, load8(src.add(8), full, m1));
                }
                store8(dst, y0, full, m0);
                store8(dst.add(8), y1, full, m1);
            }
        }
    }
}
