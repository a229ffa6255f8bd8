//! The AVX2 INT8 kernel of `PackedLinear` (`int8_scheme.rs` has the scheme).
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
//! CPUs without AVX512-VNNI run this kernel too (with it, `int8_avx512_vnni.rs`).
//!
//! Full 4-row tiles run their loop in assembly (`full_tile`), as the
//! float32 kernel does (`fp32_avx2.rs` says why); only a block's first
//! row tile prefetches the panel. A/B on the Zen 3 VM: about +5% at batch
//! 32 and 4–21% less one-text latency on all-MiniLM-L6-v2.

/// Rows per block (bytes of x: at most 1536 · 64 = 96 KiB, in L2);
/// callers that split a product among threads split it at these
/// boundaries.
pub(super) const ROW_BLOCK: usize = 64;

#[cfg(target_arch = "x86_64")]
pub(super) use kernel::panels;

#[cfg(not(target_arch = "x86_64"))]
pub(super) unsafe fn panels(
    _: &super::int8_scheme::Int8Weights, _: &[f32], _: usize, _: &super::Int8Job, _: usize, _: usize,
) {
    unreachable!("the AVX2 path is never chosen off x86_64")
}

#[cfg(target_arch = "x86_64")]
mod kernel {
    use std::arch::asm;
    use std::arch::x86_64::*;

    use super::super::fp32_avx2::{lanes, load8, store8};
    use super::super::Int8Job;
    use super::super::int8_scheme::{for_each_tile, Int8Weights, PanelTile, QuantizedRows, NR};
    use super::ROW_BLOCK;

    /// Output rows per tile: 8 accumulators, 2 weight registers, the
    /// broadcast and its magnitude, the ones and 2 signed weights, of
    /// AVX2's 16 registers.
    const MR: usize = 4;
    /// How far ahead (in bytes) the weight stream is prefetched.
    const PREFETCH_AHEAD: usize = 2048;

    /// The panels `first..end` of `w` against the rows `job.rows` of `job`.
    ///
    /// # Safety
    /// The CPU has AVX2 (the layer was packed for an AVX2 or AVX-512 path
    /// only then); `job`'s pointers address m rows of `w.groups · 4` bytes
    /// (x, centred, magnitudes), m × n floats (base, out) and m scales and zero points; the
    /// columns of these panels in the rows `job.rows` (within m) of `out` are written by this call alone.
    #[target_feature(enable = "avx2,fma")]
    pub(in super::super) unsafe fn panels(w: &Int8Weights, bias: &[f32], n: usize, job: &Int8Job, first: usize, end: usize) {
        for_each_tile(w, bias, n, job, (first, end), (ROW_BLOCK, MR), |panel, r, count, stream| {
            let tile = Tile(panel);
            match count {
                4 => tile.run::<4>(job, r, panel.c0, stream),
                3 => tile.run::<3>(job, r, panel.c0, stream),
                2 => tile.run::<2>(job, r, panel.c0, stream),
                _ => tile.run::<1>(job, r, panel.c0, stream),
            }
        });
    }

    /// A panel's tile of rows (`for_each_tile`).
    struct Tile<'a>(&'a PanelTile<'a>);

    impl<'a> std::ops::Deref for Tile<'a> {
        type Target = PanelTile<'a>;
        fn deref(&self) -> &PanelTile<'a> {
            self.0
        }
    }

    /// `quantize::outlier_terms` 8 columns at a time: for each outlier,
    /// each column's dword of its group's line shifted left by the
    /// outlier's `shift` and back down by 24 with its sign, widened to
    /// float32, multiplied by `x` and added (no FMA) to one of two sums (odd
    /// and even outliers); then their sum × the columns' scales. The same
    /// operations in the same order per column as the scalar version: the
    /// same bits.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn outlier_terms(w: &Int8Weights, rows: &QuantizedRows, row: usize, p: usize) -> (__m256, __m256) {
        let outliers = &rows.outliers[rows.first[row]..rows.first[row + 1]];
        let zero = _mm256_setzero_ps();
        let mut sums = [[zero; 2]; 2];
        if outliers.is_empty() {
            return (zero, zero);
        }
        let panel = w.panel(p);
        for (i, o) in outliers.iter().enumerate() {
            let line = panel.add(o.line as usize);
            let (shift, xv) = (_mm256_set1_epi32(o.shift as i32), _mm256_set1_ps(o.x));
            let weights = |bytes: __m256i| _mm256_cvtepi32_ps(_mm256_srai_epi32::<24>(_mm256_sllv_epi32(bytes, shift)));
            let (w0, w1) = (weights(_mm256_load_si256(line.cast())), weights(_mm256_load_si256(line.add(32).cast())));
            let t = &mut sums[i % 2];
            t[0] = _mm256_add_ps(t[0], _mm256_mul_ps(xv, w0));
            t[1] = _mm256_add_ps(t[1], _mm256_mul_ps(xv, w1));
        }
        let [even, odd] = sums;
        let scales = w.scales.as_ptr().add(p * NR);
        (
            _mm256_mul_ps(_mm256_add_ps(even[0], odd[0]), _mm256_loadu_ps(scales)),
            _mm256_mul_ps(_mm256_add_ps(even[1], odd[1]), _mm256_loadu_ps(scales.add(8))),
        )
    }

    impl Tile<'_> {
        /// Rows `r..r + R` of `job`, the panel's columns from `c0`.
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        /// `stream`: prefetch the panel ahead (the first row tile of a
        /// block, which brings it into L1).
        unsafe fn run<const R: usize>(&self, job: &Int8Job, r: usize, c0: usize, stream: bool) {
            let stride = self.groups * 4;
            let (centred, magnitudes) = (job.centred.add(r * stride), job.magnitudes.add(r * stride));
            let ones = _mm256_set1_epi16(1);
            let mut lo = [_mm256_setzero_si256(); R];
            let mut hi = [_mm256_setzero_si256(); R];
            if R == MR {
                // SAFETY: as this function's: the panel holds `groups`
                // 64-byte lines, and the 4 rows `groups · 4` bytes each.
                let (l, h) = full_tile(self.panel, centred, magnitudes, stride, self.groups, stream);
                lo.copy_from_slice(&l);
                hi.copy_from_slice(&h);
            } else {
                for g in 0..self.groups {
                    let line = self.panel.add(g * 64);
                    let w0 = _mm256_load_si256(line.cast());
                    let w1 = _mm256_load_si256(line.add(32).cast());
                    if stream {
                        // Prefetching never faults, so running past the end is harmless.
                        _mm_prefetch::<_MM_HINT_T0>(line.wrapping_add(PREFETCH_AHEAD).cast());
                    }
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
                let (t0, t1) = outlier_terms(self.weights, job.quantized, row, self.p);
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

    /// One group of 4 inputs for row `$r` of [`full_tile`] (its centred
    /// inputs at `$c`, magnitudes at `$m`, byte offset `$x`) against the
    /// panel line in `w0`, `w1`, into the row's accumulators.
    macro_rules! int8_row {
        ($c:literal, $m:literal, $x:literal, $lo:literal, $hi:literal) => {
            concat!(
                "vpbroadcastd {sg}, dword ptr [", $c, " + ", $x, "]\n",
                "vpbroadcastd {mg}, dword ptr [", $m, " + ", $x, "]\n",
                "vpsignb {t0}, {w0}, {sg}\n",
                "vpsignb {t1}, {w1}, {sg}\n",
                "vpmaddubsw {t0}, {mg}, {t0}\n",
                "vpmaddubsw {t1}, {mg}, {t1}\n",
                "vpmaddwd {t0}, {t0}, {ones}\n",
                "vpmaddwd {t1}, {t1}, {ones}\n",
                "vpaddd ", $lo, ", ", $lo, ", {t0}\n",
                "vpaddd ", $hi, ", ", $hi, ", {t1}\n",
            )
        };
    }
    /// One group of [`full_tile`]: the panel line at byte offset `$w`, the
    /// rows' inputs at byte offset `$x`.
    macro_rules! int8_group {
        ($w:literal, $x:literal) => {
            concat!(
                "vmovdqa {w0}, ymmword ptr [{p} + ", $w, "]\n",
                "vmovdqa {w1}, ymmword ptr [{p} + ", $w, " + 32]\n",
                int8_row!("{c0}", "{m0}", $x, "{l0}", "{h0}"),
                int8_row!("{c0} + {s}", "{m0} + {s}", $x, "{l1}", "{h1}"),
                int8_row!("{c0} + {s}*2", "{m0} + {s}*2", $x, "{l2}", "{h2}"),
                int8_row!("{c3}", "{m3}", $x, "{l3}", "{h3}"),
            )
        };
    }
    macro_rules! int8_ahead {
        ($w:literal) => {
            concat!("prefetcht0 byte ptr [{p} + ", $w, " + 2048]\n")
        };
    }
    macro_rules! int8_no_prefetch {
        ($w:literal) => {
            ""
        };
    }
    const _: () = assert!(PREFETCH_AHEAD == 2048, "the assembly's prefetch distance");
    /// [`full_tile`]'s loop, with or without (`$pf`) the prefetches: 2
    /// groups per iteration, then the last one if the count is odd.
    macro_rules! int8_loop {
        ($pf:ident, $panel:ident, $c:ident, $c3:ident, $m:ident, $m3:ident, $stride:ident, $pairs:ident, $odd:ident, $ones:ident, $lo:ident, $hi:ident) => {
            asm!(
                "test {n2}, {n2}",
                "jz 3f",
                "2:",
                $pf!("0"), int8_group!("0", "0"),
                $pf!("64"), int8_group!("64", "4"),
                "add {p}, 128",
                "add {c0}, 8",
                "add {c3}, 8",
                "add {m0}, 8",
                "add {m3}, 8",
                "dec {n2}",
                "jnz 2b",
                "3:",
                "test {n1}, {n1}",
                "jz 4f",
                $pf!("0"), int8_group!("0", "0"),
                "4:",
                p = inout(reg) $panel => _,
                c0 = inout(reg) $c => _,
                c3 = inout(reg) $c3 => _,
                m0 = inout(reg) $m => _,
                m3 = inout(reg) $m3 => _,
                s = in(reg) $stride,
                n2 = inout(reg) $pairs => _,
                n1 = in(reg) $odd,
                ones = in(ymm_reg) $ones,
                l0 = inout(ymm_reg) $lo[0],
                l1 = inout(ymm_reg) $lo[1],
                l2 = inout(ymm_reg) $lo[2],
                l3 = inout(ymm_reg) $lo[3],
                h0 = inout(ymm_reg) $hi[0],
                h1 = inout(ymm_reg) $hi[1],
                h2 = inout(ymm_reg) $hi[2],
                h3 = inout(ymm_reg) $hi[3],
                w0 = out(ymm_reg) _,
                w1 = out(ymm_reg) _,
                sg = out(ymm_reg) _,
                mg = out(ymm_reg) _,
                t0 = out(ymm_reg) _,
                t1 = out(ymm_reg) _,
                options(nostack, readonly),
            )
        };
    }

    /// The int32 sums of a full 4 × 16 tile over `groups` groups of 4
    /// inputs, in assembly (the rows addressed from two pointers per
    /// operand and a stride, 2 groups per iteration; LLVM's loop from the
    /// intrinsics recomputed every row's addresses). The same products as
    /// the intrinsic loop in [`Tile::run`]; integer sums, so the same bits
    /// whatever the order. Returns the 4 rows' sums (columns 0–7, then
    /// 8–15).
    ///
    /// # Safety
    /// The CPU has AVX2; `panel` addresses `groups` 64-byte lines, 32-byte
    /// aligned; `centred + i·stride` and `magnitudes + i·stride` address
    /// `groups · 4` bytes for each row i < 4.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn full_tile(panel: *const i8, centred: *const i8, magnitudes: *const u8, stride: usize, groups: usize, stream: bool) -> ([__m256i; 4], [__m256i; 4]) {
        let mut lo = [_mm256_setzero_si256(); 4];
        let mut hi = [_mm256_setzero_si256(); 4];
        let ones = _mm256_set1_epi16(1);
        let (c3, m3) = (centred.add(3 * stride), magnitudes.add(3 * stride));
        let (pairs, odd) = (groups / 2, groups % 2);
        // SAFETY: the loop reads `groups` lines from `panel` (aligned
        // loads) and `groups` dwords from each row of `centred` and
        // `magnitudes` (at +0, +stride, +2·stride and from c3 / m3), as the
        // caller guarantees; it writes no memory and only the registers it
        // declares. Prefetches never fault.
        unsafe {
            if stream {
                int8_loop!(int8_ahead, panel, centred, c3, magnitudes, m3, stride, pairs, odd, ones, lo, hi);
            } else {
                int8_loop!(int8_no_prefetch, panel, centred, c3, magnitudes, m3, stride, pairs, odd, ones, lo, hi);
            }
        }
        (lo, hi)
    }
}
