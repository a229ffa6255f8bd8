//! The AVX512-VNNI INT8 kernel of `PackedLinear` (`int8_scheme.rs` has the
//! scheme): the AVX-512 path's INT8 kernel on CPUs with AVX512-VNNI (Ice
//! Lake, Sapphire Rapids, Zen 4 and later).
//!
//! `vpdpbusd` multiplies 4 unsigned bytes by 4 signed bytes and adds the
//! 4 products to an int32 lane, with no intermediate saturation: one
//! instruction does what `vpsignb`, `vpmaddubsw`, `vpmaddwd` and `vpaddd`
//! do in the AVX2 kernel. Its signed operand is the one that can be
//! broadcast from memory, so the roles are swapped: the row's 4 inputs,
//! centred (`q − 128`, int8, made once per input by `QuantizedRows`), are
//! broadcast straight from memory, and the panel's 64-byte line of
//! weights (16 columns × 4 inputs) is made unsigned once per line by
//! flipping its top bits (`w + 128`, 1..=255). The sums are then
//! `Σ (q − 128)(w + 128) = Σ q·w − 128·Σ w + 128·Σ (q − 128)`, and the store
//! adds back `(128 − z)·Σ w − 128·Σ (q − 128)`: exactly the integers of
//! the other kernels (`Σ q·w − z·Σ w`, all within int32), so the same
//! float32 dequantisation gives the same vectors bit for bit.
//!
//! A tile is 12 rows × 16 columns of int32 sums in 12 registers: per
//! group of 4 inputs, one load and one `vpxord` of the weights, then 12
//! `vpdpbusd` each with its row's inputs broadcast from memory (each
//! row's `Σ (q − 128)` comes with its bytes, `QuantizedRows::centred_sums`). Rows come
//! in blocks of `ROW_BLOCK` (at most 72 · 1536 bytes of `x`, in L2); only
//! a block's first row tile prefetches the panel.

/// Rows per block (a multiple of the tile's 12 rows); callers that split
/// a product among threads split it at these boundaries.
pub(super) const ROW_BLOCK: usize = 72;

/// Whether this CPU runs the kernel (the AVX-512 path's INT8 kernel then):
/// AVX-512F, BW, VL and VNNI.
pub(super) fn supported() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        // (BW and VL for `QuantizedRows`' AVX-512 operands, `Operands::Vnni`.)
        std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512vl")
            && std::is_x86_feature_detected!("avx512vnni")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
pub(super) use kernel::panels;

#[cfg(not(target_arch = "x86_64"))]
pub(super) unsafe fn panels(
    _: &super::int8_scheme::Int8Weights, _: &[f32], _: usize, _: &super::Int8Job, _: usize, _: usize,
) {
    unreachable!("the AVX512-VNNI kernel is never chosen off x86_64")
}

#[cfg(target_arch = "x86_64")]
mod kernel {
    use std::arch::asm;
    use std::arch::x86_64::*;

    use super::super::Int8Job;
    use super::super::fp32_avx512::{load16, store16};
    use super::super::int8_scheme::{for_each_tile, Int8Weights, Outlier, PanelTile, QuantizedRows, NR};
    use super::ROW_BLOCK;

    /// Output rows per tile: 12 accumulators, the weights, the flipped
    /// weights and the flip constant, of AVX-512's 32 registers (more rows
    /// gained nothing: the loads of the broadcasts already match the
    /// multiply-adds one for one).
    const MR: usize = 12;
    const _: () = assert!(ROW_BLOCK.is_multiple_of(MR), "a block is whole tiles");
    /// How far ahead (in bytes) the weight stream is prefetched.
    const PREFETCH_AHEAD: usize = 4096;

    /// The panels `first..end` of `w` against the rows `job.rows` of `job`.
    ///
    /// # Safety
    /// The CPU has AVX-512F and AVX512-VNNI (`super::supported`); `job`'s
    /// pointers address m rows of `w.groups · 4` bytes (centred), m × n
    /// floats (base, out) and m scales, zero points and centred sums; the columns of
    /// these panels in the rows `job.rows` (within m) of `out` are written
    /// by this call alone.
    #[target_feature(enable = "avx512f,avx512vnni")]
    pub(in super::super) unsafe fn panels(w: &Int8Weights, bias: &[f32], n: usize, job: &Int8Job, first: usize, end: usize) {
        for_each_tile(w, bias, n, job, (first, end), (ROW_BLOCK, MR), |panel, r, count, stream| {
            let tile = Tile(panel);
            match count {
                12 => tile.run::<12>(job, r, panel.c0, stream),
                11 => tile.run::<11>(job, r, panel.c0, stream),
                10 => tile.run::<10>(job, r, panel.c0, stream),
                9 => tile.run::<9>(job, r, panel.c0, stream),
                8 => tile.run::<8>(job, r, panel.c0, stream),
                7 => tile.run::<7>(job, r, panel.c0, stream),
                6 => tile.run::<6>(job, r, panel.c0, stream),
                5 => tile.run::<5>(job, r, panel.c0, stream),
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

    /// `quantize::outlier_terms` for 16 columns at once: for each outlier,
    /// its group's line of the panel, each column's dword shifted left by
    /// the outlier's `shift` and back down by 24 with its sign, widened to
    /// float32, multiplied by `x` and added (no FMA) to one of two sums
    /// (odd and even outliers); then their sum × the columns' scales. The
    /// same operations in the same order per column as the scalar version:
    /// the same bits.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn outlier_terms(w: &Int8Weights, rows: &QuantizedRows, row: usize, p: usize) -> __m512 {
        let outliers = &rows.outliers[rows.first[row]..rows.first[row + 1]];
        let (mut even, mut odd) = (_mm512_setzero_ps(), _mm512_setzero_ps());
        if outliers.is_empty() {
            return even;
        }
        let panel = w.panel(p);
        let product = |o: &Outlier| {
            let line = _mm512_load_si512(panel.add(o.line as usize).cast());
            let top = _mm512_sll_epi32(line, _mm_cvtsi32_si128(o.shift as i32));
            _mm512_mul_ps(_mm512_set1_ps(o.x), _mm512_cvtepi32_ps(_mm512_srai_epi32::<24>(top)))
        };
        let pairs = outliers.chunks_exact(2);
        let last = pairs.remainder();
        for pair in pairs {
            even = _mm512_add_ps(even, product(&pair[0]));
            odd = _mm512_add_ps(odd, product(&pair[1]));
        }
        if let [o] = last {
            even = _mm512_add_ps(even, product(o));
        }
        _mm512_mul_ps(_mm512_add_ps(even, odd), _mm512_loadu_ps(w.scales.as_ptr().add(p * NR)))
    }

    impl Tile<'_> {
        /// The int32 sums of a tile of fewer than 12 rows (a block's last
        /// rows), from intrinsics.
        #[inline]
        #[target_feature(enable = "avx512f,avx512vnni")]
        unsafe fn partial_tile<const R: usize>(&self, centred: *const i8, stride: usize, stream: bool, acc: &mut [__m512i; R]) {
            let flip = _mm512_set1_epi8(i8::MIN);
            for g in 0..self.groups {
                let line = self.panel.add(g * 64);
                // w + 128 as unsigned bytes: the top bit flipped.
                let weights = _mm512_xor_si512(_mm512_load_si512(line.cast()), flip);
                if stream {
                    // Prefetching never faults, so running past the end is harmless.
                    _mm_prefetch::<_MM_HINT_T0>(line.wrapping_add(PREFETCH_AHEAD).cast());
                }
                for (i, acc) in acc.iter_mut().enumerate() {
                    let inputs = _mm512_set1_epi32(std::ptr::read_unaligned(centred.add(i * stride + g * 4).cast::<i32>()));
                    *acc = _mm512_dpbusd_epi32(*acc, weights, inputs);
                }
            }
        }

        /// Rows `r..r + R` of `job`, the panel's columns from `c0`. `stream`:
        /// prefetch the panel ahead (the first row tile of a block, which
        /// brings it into L1).
        #[inline]
        #[target_feature(enable = "avx512f,avx512vnni")]
        unsafe fn run<const R: usize>(&self, job: &Int8Job, r: usize, c0: usize, stream: bool) {
            let stride = self.groups * 4;
            let centred = job.centred.add(r * stride);
            // The residual lines this tile's store reads, fetched while
            // its sums run (scattered lines, else a cache miss each at
            // the store).
            for i in 0..R {
                let at = (r + i) * self.ldc + c0;
                if !job.base.is_null() {
                    _mm_prefetch::<_MM_HINT_T0>(job.base.wrapping_add(at).cast());
                }
            }
            let mut acc = [_mm512_setzero_si512(); R];
            if R == MR {
                // SAFETY: as this function's: the panel holds `groups`
                // 64-byte lines, and the 12 rows `groups · 4` bytes each.
                acc.copy_from_slice(&full_tile(self.panel, centred, stride, self.groups, stream));
            } else {
                self.partial_tile(centred, stride, stream, &mut acc);
            }
            // The panel's columns that exist.
            let mask = if self.width == NR { u16::MAX } else { (1u16 << self.width) - 1 };
            // Padded to whole panels: full loads are in bounds.
            let (s, q, b) = (_mm512_loadu_ps(self.scales), _mm512_loadu_si512(self.sums.cast()), _mm512_loadu_ps(self.bias));
            for (i, acc) in acc.iter().enumerate() {
                let row = r + i;
                let scale = _mm512_set1_ps(*job.scales.add(row));
                // Σ q·w − z·Σ w = acc − 128·Σ (q − 128) + (128 − z)·Σ w.
                let zero = _mm512_set1_epi32(128 - *job.zeros.add(row));
                let a = _mm512_add_epi32(_mm512_sub_epi32(*acc, _mm512_set1_epi32(128 * *job.centred_sums.add(row))), _mm512_mullo_epi32(zero, q));
                let t = outlier_terms(self.weights, job.quantized, row, self.p);
                // ((acc − z·Σw) · (s·s_j) + outliers) + bias, then +
                // residual: the portable kernel's order, without fused
                // multiply-adds.
                let mut y = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(a), _mm512_mul_ps(scale, s)), t), b);
                let at = row * self.ldc + c0;
                if !job.base.is_null() {
                    y = _mm512_add_ps(y, load16(job.base.add(at), mask));
                }
                store16(job.out.add(at), y, mask);
            }
        }
    }

    /// One group of 4 inputs of [`full_tile`]: the panel line at byte
    /// offset `$w` flipped to unsigned, then each of the 12 rows' 4 inputs
    /// at byte offset `$x` (rows 0, 1, 2, 4, 8 from `{r0}`; 3, 5, 7, 11 from
    /// `{r3}`; 6, 10 from `{r6}`; 9 from `{r9}`) broadcast into its row's
    /// `vpdpbusd`.
    macro_rules! vnni_group {
        ($pf:literal, $w:literal, $x:literal) => {
            concat!(
                "vpxord {wu}, {flip}, zmmword ptr [{p} + ", $w, "]\n",
                $pf,
                "vpdpbusd {a0}, {wu}, dword ptr [{r0} + ", $x, "]{{1to16}}\n",
                "vpdpbusd {a1}, {wu}, dword ptr [{r0} + {s} + ", $x, "]{{1to16}}\n",
                "vpdpbusd {a2}, {wu}, dword ptr [{r0} + {s}*2 + ", $x, "]{{1to16}}\n",
                "vpdpbusd {a3}, {wu}, dword ptr [{r3} + ", $x, "]{{1to16}}\n",
                "vpdpbusd {a4}, {wu}, dword ptr [{r0} + {s}*4 + ", $x, "]{{1to16}}\n",
                "vpdpbusd {a5}, {wu}, dword ptr [{r3} + {s}*2 + ", $x, "]{{1to16}}\n",
                "vpdpbusd {a6}, {wu}, dword ptr [{r6} + ", $x, "]{{1to16}}\n",
                "vpdpbusd {a7}, {wu}, dword ptr [{r3} + {s}*4 + ", $x, "]{{1to16}}\n",
                "vpdpbusd {a8}, {wu}, dword ptr [{r0} + {s}*8 + ", $x, "]{{1to16}}\n",
                "vpdpbusd {a9}, {wu}, dword ptr [{r9} + ", $x, "]{{1to16}}\n",
                "vpdpbusd {a10}, {wu}, dword ptr [{r6} + {s}*4 + ", $x, "]{{1to16}}\n",
                "vpdpbusd {a11}, {wu}, dword ptr [{r3} + {s}*8 + ", $x, "]{{1to16}}\n",
            )
        };
    }
    const _: () = assert!(PREFETCH_AHEAD == 4096, "the assembly's prefetch distance");
    /// [`full_tile`]'s loop, with (`$a`, `$b`: the prefetches of the two
    /// groups) or without the prefetches: 2 groups per iteration, then the
    /// last one if the count is odd.
    macro_rules! vnni_loop {
        ($a:literal, $b:literal, $panel:ident, $rows:ident, $stride:ident, $pairs:ident, $odd:ident, $flip:ident, $acc:ident) => {
            asm!(
                "test {n2}, {n2}",
                "jz 3f",
                "2:",
                vnni_group!($a, "0", "0"),
                vnni_group!($b, "64", "4"),
                "add {p}, 128",
                "add {r0}, 8",
                "add {r3}, 8",
                "add {r6}, 8",
                "add {r9}, 8",
                "dec {n2}",
                "jnz 2b",
                "3:",
                "test {n1}, {n1}",
                "jz 4f",
                vnni_group!($a, "0", "0"),
                "4:",
                p = inout(reg) $panel => _,
                r0 = inout(reg) $rows[0] => _,
                r3 = inout(reg) $rows[1] => _,
                r6 = inout(reg) $rows[2] => _,
                r9 = inout(reg) $rows[3] => _,
                s = in(reg) $stride,
                n2 = inout(reg) $pairs => _,
                n1 = in(reg) $odd,
                flip = in(zmm_reg) $flip,
                wu = out(zmm_reg) _,
                a0 = inout(zmm_reg) $acc[0],
                a1 = inout(zmm_reg) $acc[1],
                a2 = inout(zmm_reg) $acc[2],
                a3 = inout(zmm_reg) $acc[3],
                a4 = inout(zmm_reg) $acc[4],
                a5 = inout(zmm_reg) $acc[5],
                a6 = inout(zmm_reg) $acc[6],
                a7 = inout(zmm_reg) $acc[7],
                a8 = inout(zmm_reg) $acc[8],
                a9 = inout(zmm_reg) $acc[9],
                a10 = inout(zmm_reg) $acc[10],
                a11 = inout(zmm_reg) $acc[11],
                options(nostack, readonly),
            )
        };
    }

    /// The int32 sums of a full 12 × 16 tile over `groups` groups of 4
    /// inputs, in assembly: LLVM's loop from the intrinsics kept the 12
    /// accumulators on the stack (a store per `vpdpbusd`) and recomputed
    /// every row's address. The same products as the intrinsic loop
    /// ([`Tile::partial_tile`]); integer sums, so the same bits.
    ///
    /// # Safety
    /// The CPU has AVX-512F and AVX512-VNNI; `panel` addresses `groups`
    /// 64-byte lines, 64-byte aligned; `centred + i·stride` addresses
    /// `groups · 4` bytes for each row i < 12.
    #[inline]
    #[target_feature(enable = "avx512f,avx512vnni")]
    unsafe fn full_tile(panel: *const i8, centred: *const i8, stride: usize, groups: usize, stream: bool) -> [__m512i; MR] {
        let mut acc = [_mm512_setzero_si512(); MR];
        let flip = _mm512_set1_epi8(i8::MIN);
        let rows = [centred, centred.add(3 * stride), centred.add(6 * stride), centred.add(9 * stride)];
        let (pairs, odd) = (groups / 2, groups % 2);
        // SAFETY: the loop reads `groups` lines from `panel` (aligned
        // loads) and `groups` dwords from each of the 12 rows (at the
        // offsets `vnni_group!` lists, all below 12·stride), as the caller
        // guarantees; it writes no memory and only the registers it
        // declares. Prefetches never fault.
        unsafe {
            if stream {
                vnni_loop!("prefetcht0 byte ptr [{p} + 4096]\n", "prefetcht0 byte ptr [{p} + 4160]\n", panel, rows, stride, pairs, odd, flip, acc);
            } else {
                vnni_loop!("", "", panel, rows, stride, pairs, odd, flip, acc);
            }
        }
        acc
    }
}
