//! The AVX2 + FMA micro-kernel of `PackedLinear`.
//!
//! AVX2 has 16 vector registers of 8 floats: the kernel keeps a 6 × 16
//! block of the output in 12 of them, loads a 16-float row of the weight
//! panel into 2 and broadcasts `x`'s elements from memory into the last
//! (BLIS's Haswell shape: 12 FMAs per 2 weight loads and 6 broadcasts).
//!
//! Blocking for the caches: the input dimension is cut into chunks of at
//! most `KC` (a panel's chunk, ≤ 24 KiB, stays in L1 while every row tile
//! of the block passes over it) and the rows into blocks of `x` that stay in
//! L2 (≤ 128 KiB). The broadcasts read `x`'s six rows where they are (six
//! sequential streams the hardware prefetches): copying `x` into strips
//! first cost more than it saved, and with two threads each copied all of
//! it. Partial sums of a
//! chunk go to the output and are reloaded by the next; the last chunk adds
//! bias and residual as the tile is stored. The activation then runs over
//! each row of the block (still in L2) across all of the call's columns.
//!
//! The driver is generic over the panel's element ([`Widen`]): float32
//! panels here, bfloat16 panels in `bf16_avx2.rs`, which differ only
//! in how a row of 8 weights is loaded into a float32 register.
//!
//! Full tiles run their multiply-adds in a few lines of assembly
//! (`full_tile`, float32 or bfloat16 panels): from intrinsics LLVM issues
//! about 30 instructions per 12 FMAs, the assembly about 21 (float32), and
//! on a core whose issue slots are shared (an SMT sibling, a VM's busy
//! neighbour) that is what sets the pace. Alternating A/B on the project's
//! Zen 3 VM: float32 +24% on the model's products and +20% on the model at
//! batch 32; bfloat16 about +10% at batch 32. Only a block's first row tile
//! prefetches the panel into L1; the rest find it there. Tiles of 5 and 4
//! rows (a text's last rows: 22 tokens are 3 tiles of 6 and one of 4) run
//! the same loop on fewer rows; only tiles of 3 rows or fewer use the
//! intrinsics. Alternating A/B, one text of all-MiniLM-L6-v2: faster in 5
//! of 5 pairs, median +7%; batch 32 unchanged.
//!
//! Meanwhile every full tile brings its share of the next chunk into L2
//! (`prefetcht1`, a line or two per 4 steps). With few rows (a lone text
//! of 22 tokens: 3 full tiles) the weights are a stream from memory that
//! used to flow only while the first tile ran; now it flows while all of
//! them compute. Alternating A/B pairs, avx2 path: one text of
//! all-MiniLM-L6-v2 about +15% (147 → 170 texts/s); the 12-layer
//! multilingual stand-in, six pairs, median +16% (one pair −5%); batch 32
//! unchanged within noise (`docs/measurements/2026-12-02-6928f9d-bench.md`).

use super::{Job, PackedLinear};

/// Columns per panel: two 8-float registers.
pub(super) const NR: usize = 16;
/// Output rows per micro-kernel call: 12 accumulators, 2 weight
/// registers and the broadcast, of AVX2's 16 registers.
const MR: usize = 6;
/// At most this many inputs per chunk: a panel's chunk (KC × 16
/// weights, 24 KiB of float32) stays in a 32 KiB L1.
const KC: usize = 384;
/// Floats of `x` per block of rows and chunk (128 KiB), kept in L2.
const X_BLOCK: usize = 1 << 15;

/// Rows per block of `x` for a layer of `k` inputs (a multiple of the
/// tile's rows): one chunk of a block's rows stays in L2 while the panels
/// pass over it. Callers that split a product among threads split it at
/// these boundaries.
pub(super) fn row_block(k: usize) -> usize {
    let kc_max = k.div_ceil(k.div_ceil(KC).max(1)).max(1);
    (X_BLOCK / kc_max).max(MR) / MR * MR
}

#[cfg(target_arch = "x86_64")]
pub(super) use kernel::{lanes, load8, panels_of, store8, Panel, Widen};

/// The panels `first..end` of the float32 layer `w` against the rows
/// `job.rows` of `job.x`.
///
/// # Safety
/// As [`panels_of`]: the CPU has AVX2 and FMA (`w` was packed for this path
/// only then); `job`'s pointers address m × inputs (x) and m × outputs
/// (base, out) floats; the columns of these panels in the rows `job.rows` (within m) of `out` are written by this call alone.
#[cfg(target_arch = "x86_64")]
pub(super) unsafe fn panels(w: &PackedLinear, job: &Job, first: usize, end: usize) {
    panels_of::<f32>(w.panel(0), &w.bias, w.inputs, w.outputs, job, first, end)
}

#[cfg(not(target_arch = "x86_64"))]
pub(super) unsafe fn panels(_: &PackedLinear, _: &Job, _: usize, _: usize) {
    unreachable!("the AVX2 path is never chosen off x86_64")
}

#[cfg(target_arch = "x86_64")]
mod kernel {
    use std::arch::asm;
    use std::arch::x86_64::*;

    use super::{row_block, Job, KC, MR, NR};

    /// How far ahead (in weights) the weight stream is prefetched: 8 KiB
    /// of float32.
    const PREFETCH_AHEAD: usize = 2048;

    /// A panel's stored weight, widened to float32 as a row is loaded.
    pub(in super::super) trait Widen: Copy {
        /// The 8 weights at `src` as float32.
        ///
        /// # Safety
        /// The CPU has AVX2 and FMA; `src` addresses 8 weights of a panel
        /// row (rows are aligned to their size in bytes, at least 16).
        unsafe fn widen8(src: *const Self) -> __m256;
        /// What the panel's weights are, for [`full_tile`]'s assembly
        /// (which widens as [`Widen::widen8`] does).
        const PANEL: Panel;
    }

    /// The weight formats [`full_tile`] reads.
    #[derive(Clone, Copy)]
    pub(in super::super) enum Panel {
        Float32,
        Bfloat16,
    }

    impl Widen for f32 {
        const PANEL: Panel = Panel::Float32;

        #[inline]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn widen8(src: *const f32) -> __m256 {
            _mm256_load_ps(src)
        }
    }

    /// The panels `first..end` of a layer (`k` inputs, `n` outputs, panel
    /// `p` of `k` rows of 16 weights at `panel0 + p·k·16`, `bias` padded to
    /// whole panels) against the rows `job.rows` of `job.x`.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA (the layer was packed for an AVX2 or
    /// AVX-512 path only then); the panels `first..end` exist from
    /// `panel0`, each row aligned as [`Widen::widen8`] needs; `job`'s
    /// pointers address m × k (x) and m × n (base, out) floats; the columns of these panels in the rows `job.rows` (within m) of `out` are written by this call alone.
    #[target_feature(enable = "avx2,fma")]
    pub(in super::super) unsafe fn panels_of<E: Widen>(
        panel0: *const E, bias: &[f32], k: usize, n: usize, job: &Job, first: usize, end: usize,
    ) {
        let chunks = k.div_ceil(KC);
        let mc = row_block(k);
        let m = job.rows.end;
        for m0 in job.rows.clone().step_by(mc) {
            let rows = mc.min(m - m0);
            for chunk in 0..chunks {
                let (k0, k1) = (chunk * k / chunks, (chunk + 1) * k / chunks);
                let (first_chunk, last_chunk) = (chunk == 0, chunk + 1 == chunks);
                let depth = k1 - k0;
                // Full row tiles per panel: they share the fetching of the
                // next chunk (see `Tile::run`'s `ahead`).
                let full_tiles = (rows / MR).max(1);
                for p in first..end {
                    let c0 = p * NR;
                    let width = NR.min(n - c0);
                    let tile = Tile {
                        panel: panel0.add((p * k + k0) * NR),
                        bias: bias.as_ptr().add(c0),
                        depth,
                        ldx: k,
                        ldc: n,
                        width,
                        load: !first_chunk,
                        finish: last_chunk,
                    };
                    // The chunk this thread multiplies next: the next panel's,
                    // else the first panel's next chunk, else (the last of
                    // this call) this one again, already here.
                    let next = if p + 1 < end {
                        panel0.wrapping_add(((p + 1) * k + k0) * NR)
                    } else if !last_chunk {
                        panel0.wrapping_add((first * k + k1) * NR)
                    } else {
                        tile.panel
                    };
                    let share = depth * NR / full_tiles;
                    let mut r = m0;
                    while r < m0 + rows {
                        let count = MR.min(m0 + rows - r);
                        let x = job.x.add(r * k + k0);
                        let out = job.out.add(r * n + c0);
                        let base = if job.base.is_null() { job.base } else { job.base.add(r * n + c0) };
                        // The block's first row tile streams the panel's chunk
                        // into L1 (prefetching ahead); the others find it there.
                        let stream = r == m0;
                        // Each full tile brings its share of the next chunk
                        // into L2 meanwhile, so that the weights arrive while
                        // all of them compute, not only the first.
                        let ahead = next.wrapping_add((r - m0) / MR * share).cast::<u8>();
                        match count {
                            6 => tile.run::<6>(x, base, out, stream, ahead, full_tiles),
                            5 => tile.run::<5>(x, base, out, stream, ahead, full_tiles),
                            4 => tile.run::<4>(x, base, out, stream, ahead, full_tiles),
                            3 => tile.run::<3>(x, base, out, stream, ahead, full_tiles),
                            2 => tile.run::<2>(x, base, out, stream, ahead, full_tiles),
                            _ => tile.run::<1>(x, base, out, stream, ahead, full_tiles),
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
    struct Tile<E> {
        /// The panel's rows for this chunk.
        panel: *const E,
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
    pub(in super::super) unsafe fn lanes(width: usize, from: usize) -> __m256i {
        let limit = _mm256_set1_epi32(width as i32 - from as i32);
        _mm256_cmpgt_epi32(limit, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
    }

    /// 8 floats at `src`, only the lanes of `mask` unless `full`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(in super::super) unsafe fn load8(src: *const f32, full: bool, mask: __m256i) -> __m256 {
        if full {
            _mm256_loadu_ps(src)
        } else {
            _mm256_maskload_ps(src, mask)
        }
    }

    /// `v` to the 8 floats at `dst`, only the lanes of `mask` unless `full`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(in super::super) unsafe fn store8(dst: *mut f32, v: __m256, full: bool, mask: __m256i) {
        if full {
            _mm256_storeu_ps(dst, v)
        } else {
            _mm256_maskstore_ps(dst, mask, v)
        }
    }

    impl<E: Widen> Tile<E> {
        /// `out (R × 16, rows ldc apart, columns < width) (+)= x (R × depth,
        /// rows ldx apart) · panel (+ bias + base)`.
        #[inline]
        #[target_feature(enable = "avx2,fma")]
        /// `stream`: prefetch the panel ahead (the first row tile of a
        /// block, which brings the chunk into L1). A full tile also
        /// prefetches into L2 from `ahead` on, its share of the next chunk
        /// when the block has `tiles` full tiles (prefetches never fault:
        /// `ahead` may point anywhere).
        unsafe fn run<const R: usize>(&self, x: *const f32, base: *const f32, out: *mut f32, stream: bool, ahead: *const u8, tiles: usize) {
            let panel = self.panel;
            let mut lo = [_mm256_setzero_ps(); R];
            let mut hi = [_mm256_setzero_ps(); R];
            if R >= 4 {
                // SAFETY: as this function's: the panel holds depth rows
                // of 16 weights of E, each aligned to its size; x has R rows.
                let (l, h) = full_tile::<E, R>(panel, x, self.ldx, self.depth, stream, ahead, tiles);
                lo.copy_from_slice(&l[..R]);
                hi.copy_from_slice(&h[..R]);
            } else {
                for kk in 0..self.depth {
                    let b0 = E::widen8(panel.add(kk * NR));
                    let b1 = E::widen8(panel.add(kk * NR + 8));
                    if stream {
                        // Prefetching never faults, so running past the end is harmless.
                        _mm_prefetch::<_MM_HINT_T0>(panel.wrapping_add(kk * NR + PREFETCH_AHEAD).cast());
                    }
                    for r in 0..R {
                        let xv = _mm256_broadcast_ss(&*x.add(r * self.ldx + kk));
                        lo[r] = _mm256_fmadd_ps(xv, b0, lo[r]);
                        hi[r] = _mm256_fmadd_ps(xv, b1, hi[r]);
                    }
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
                store8(dst, y0, full, m0);
                store8(dst.add(8), y1, full, m1);
            }
        }
    }

    /// A float32 panel row at byte offset `$p` into the two weight registers.
    macro_rules! f32_row {
        ($p:literal) => {
            concat!("vmovaps {b0}, ymmword ptr [{p} + ", $p, "]\n", "vmovaps {b1}, ymmword ptr [{p} + ", $p, " + 32]\n")
        };
    }
    /// A bfloat16 panel row at byte offset `$p` into the two weight
    /// registers, widened to float32 (zero-extend to 32 bits, shift left 16).
    macro_rules! bf16_row {
        ($p:literal) => {
            concat!(
                "vpmovzxwd {b0}, xmmword ptr [{p} + ", $p, "]\n",
                "vpslld {b0}, {b0}, 16\n",
                "vpmovzxwd {b1}, xmmword ptr [{p} + ", $p, " + 16]\n",
                "vpslld {b1}, {b1}, 16\n",
            )
        };
    }
    /// One row's input at byte offset `$x` from `$addr` (broadcast into
    /// `$s`) times the two weight registers, into accumulators `$lo`, `$hi`.
    macro_rules! fma_row {
        ($s:literal, $lo:literal, $hi:literal, $addr:literal, $x:literal) => {
            concat!(
                "vbroadcastss {", $s, "}, dword ptr [", $addr, " + ", $x, "]\n",
                "vfmadd231ps {", $lo, "}, {", $s, "}, {b0}\n",
                "vfmadd231ps {", $hi, "}, {", $s, "}, {b1}\n",
            )
        };
    }
    /// Rows 0–3 (`x0`, `x0 + l`, `x0 + 2l`, `x3`), alternating the two
    /// broadcast registers.
    macro_rules! rows4 {
        ($x:literal) => {
            concat!(
                fma_row!("s0", "a0", "a1", "{x0}", $x),
                fma_row!("s1", "a2", "a3", "{x0} + {l}", $x),
                fma_row!("s0", "a4", "a5", "{x0} + {l}*2", $x),
                fma_row!("s1", "a6", "a7", "{x3}", $x),
            )
        };
    }
    /// The 6 rows' inputs at byte offset `$x` (broadcast) times the two
    /// weight registers, into the 12 accumulators.
    macro_rules! fmas {
        ($x:literal) => {
            concat!(rows4!($x), fma_row!("s0", "a8", "a9", "{x3} + {l}", $x), fma_row!("s1", "a10", "a11", "{x3} + {l}*2", $x))
        };
    }
    /// The same for a tile of 5 rows (the sixth row's accumulators stay as
    /// they are, named only in a comment: asm! requires every operand to be
    /// used).
    macro_rules! fmas5 {
        ($x:literal) => {
            concat!("/* {a10} {a11} */\n", rows4!($x), fma_row!("s0", "a8", "a9", "{x3} + {l}", $x))
        };
    }
    /// The same for a tile of 4 rows.
    macro_rules! fmas4 {
        ($x:literal) => {
            concat!("/* {a8} {a9} {a10} {a11} */\n", rows4!($x))
        };
    }
    /// Float32 panels: the prefetch of the line `PREFETCH_AHEAD` weights
    /// (8 KiB) past byte offset `$p`; every row is a line of its own.
    macro_rules! f32_ahead {
        ($p:literal) => {
            concat!("prefetcht0 byte ptr [{p} + ", $p, " + 8192]\n")
        };
    }
    /// Bfloat16 panels: the same, `PREFETCH_AHEAD` weights being 4 KiB;
    /// two rows to a line, so only at the offsets that start one.
    macro_rules! bf16_ahead {
        ("0") => {
            "prefetcht0 byte ptr [{p} + 4096]\n"
        };
        ("64") => {
            "prefetcht0 byte ptr [{p} + 64 + 4096]\n"
        };
        ($p:literal) => {
            ""
        };
    }
    /// One line (64 bytes) into L2 per iteration of 4 steps, from `{q}` on.
    macro_rules! l2_one {
        () => {
            "prefetcht1 byte ptr [{q}]\nadd {q}, 64\n"
        };
    }
    /// Two lines per iteration.
    macro_rules! l2_two {
        () => {
            "prefetcht1 byte ptr [{q}]\nprefetcht1 byte ptr [{q} + 64]\nadd {q}, 128\n"
        };
    }
    macro_rules! no_prefetch {
        ($p:literal) => {
            ""
        };
    }
    /// No lines into L2 (a partial tile: the full ones share the next
    /// chunk); `{q}` only named in a comment (asm! requires every operand
    /// to be used).
    macro_rules! no_l2 {
        () => {
            "/* {q} */\n"
        };
    }
    const _: () = assert!(PREFETCH_AHEAD * 4 == 8192, "the assembly's prefetch distances");
    /// [`full_tile`]'s loop for panel rows of `$row` (a row macro above,
    /// `$r0..$r3` the byte offsets of 4 rows, `$quad` and `$one` the bytes
    /// of 4 and of 1), with or without (`$pf`) the prefetches: 4 steps per
    /// iteration (the pointers advance once per 4), then the remaining
    /// 0–3 steps one at a time.
    macro_rules! tile_loop {
        ($fmas:ident, $row:ident, $pf:ident, $l2:ident, [$r0:literal, $r1:literal, $r2:literal, $r3:literal], $quad:literal, $one:literal,
         $panel:ident, $x:ident, $x3:ident, $ldx:ident, $quads:ident, $rest:ident, $ahead:ident, $a:ident) => {
            asm!(
                "test {n4}, {n4}",
                "jz 3f",
                "2:",
                $pf!($r0), $row!($r0), $fmas!("0"),
                $pf!($r1), $row!($r1), $fmas!("4"),
                $pf!($r2), $row!($r2), $fmas!("8"),
                $pf!($r3), $row!($r3), $fmas!("12"),
                $l2!(),
                concat!("add {p}, ", $quad),
                "add {x0}, 16",
                "add {x3}, 16",
                "dec {n4}",
                "jnz 2b",
                "3:",
                "test {n1}, {n1}",
                "jz 5f",
                "4:",
                $pf!("0"), $row!("0"), $fmas!("0"),
                concat!("add {p}, ", $one),
                "add {x0}, 4",
                "add {x3}, 4",
                "dec {n1}",
                "jnz 4b",
                "5:",
                p = inout(reg) $panel => _,
                x0 = inout(reg) $x => _,
                x3 = inout(reg) $x3 => _,
                l = in(reg) $ldx,
                n4 = inout(reg) $quads => _,
                n1 = inout(reg) $rest => _,
                q = inout(reg) $ahead => _,
                a0 = inout(ymm_reg) $a[0],
                a1 = inout(ymm_reg) $a[1],
                a2 = inout(ymm_reg) $a[2],
                a3 = inout(ymm_reg) $a[3],
                a4 = inout(ymm_reg) $a[4],
                a5 = inout(ymm_reg) $a[5],
                a6 = inout(ymm_reg) $a[6],
                a7 = inout(ymm_reg) $a[7],
                a8 = inout(ymm_reg) $a[8],
                a9 = inout(ymm_reg) $a[9],
                a10 = inout(ymm_reg) $a[10],
                a11 = inout(ymm_reg) $a[11],
                b0 = out(ymm_reg) _,
                b1 = out(ymm_reg) _,
                s0 = out(ymm_reg) _,
                s1 = out(ymm_reg) _,
                options(nostack, readonly),
            )
        };
    }

    /// The multiply-adds of an R × 16 tile (R = 6, 5 or 4), `x` (R rows,
    /// `ldx` floats apart) times `depth` rows of the panel (float32, or bfloat16 widened
    /// as they are loaded: `E::PANEL`), in assembly: written with
    /// intrinsics, LLVM recomputes each row's address with an add per
    /// broadcast and runs the loop one step at a time, 30 instructions for
    /// 12 FMAs; here the rows are addressed from two pointers and a stride
    /// and the loop does 4 steps at a time (about 21 per 12 for float32).
    /// On a core shared with another thread (SMT, or a busy neighbour on a
    /// VM host) the instructions issued, not the FMA pipes, set the pace.
    /// Returns 6 rows' accumulators (columns 0–7, then 8–15), of which the
    /// first R hold the tile.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA; `panel` addresses `depth` rows of 16
    /// weights of `E::PANEL`'s kind, each row aligned to its size; `x +
    /// r·ldx` addresses `depth` floats for each row r < R. `ahead` may be
    /// any address: the loop only prefetches from it (`tiles`: how many
    /// full tiles share the next chunk, which sets how many lines a step).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn full_tile<E: Widen, const R: usize>(panel: *const E, x: *const f32, ldx: usize, depth: usize, stream: bool, ahead: *const u8, tiles: usize) -> ([__m256; 6], [__m256; 6]) {
        let mut a = [_mm256_setzero_ps(); 12];
        let x3 = x.add(3 * ldx);
        let ldx_bytes = ldx * 4;
        let (quads, rest) = (depth / 4, depth % 4);
        let panel = panel.cast::<u8>();
        // SAFETY: each loop reads depth panel rows from `panel` (float32:
        // aligned 32-byte loads; bfloat16: 16-byte loads) and depth floats
        // from each of the R rows (x, x + ldx, x + 2·ldx, x3, x3 + ldx,
        // x3 + 2·ldx: the first R of them), as the caller guarantees; it
        // writes no memory and only the registers it declares. Prefetches
        // never fault.
        unsafe {
            // Tiles of 5 or 4 rows (a text's last rows: 22 tokens are 3
            // full tiles and 4 rows): the same loop on fewer rows; only the
            // full tiles bring the next chunk into L2.
            if R == 5 || R == 4 {
                match (E::PANEL, stream, R == 5) {
                    (Panel::Float32, true, true) => tile_loop!(fmas5, f32_row, f32_ahead, no_l2, ["0", "64", "128", "192"], "256", "64", panel, x, x3, ldx_bytes, quads, rest, ahead, a),
                    (Panel::Float32, false, true) => tile_loop!(fmas5, f32_row, no_prefetch, no_l2, ["0", "64", "128", "192"], "256", "64", panel, x, x3, ldx_bytes, quads, rest, ahead, a),
                    (Panel::Float32, true, false) => tile_loop!(fmas4, f32_row, f32_ahead, no_l2, ["0", "64", "128", "192"], "256", "64", panel, x, x3, ldx_bytes, quads, rest, ahead, a),
                    (Panel::Float32, false, false) => tile_loop!(fmas4, f32_row, no_prefetch, no_l2, ["0", "64", "128", "192"], "256", "64", panel, x, x3, ldx_bytes, quads, rest, ahead, a),
                    (Panel::Bfloat16, true, true) => tile_loop!(fmas5, bf16_row, bf16_ahead, no_l2, ["0", "32", "64", "96"], "128", "32", panel, x, x3, ldx_bytes, quads, rest, ahead, a),
                    (Panel::Bfloat16, false, true) => tile_loop!(fmas5, bf16_row, no_prefetch, no_l2, ["0", "32", "64", "96"], "128", "32", panel, x, x3, ldx_bytes, quads, rest, ahead, a),
                    (Panel::Bfloat16, true, false) => tile_loop!(fmas4, bf16_row, bf16_ahead, no_l2, ["0", "32", "64", "96"], "128", "32", panel, x, x3, ldx_bytes, quads, rest, ahead, a),
                    (Panel::Bfloat16, false, false) => tile_loop!(fmas4, bf16_row, no_prefetch, no_l2, ["0", "32", "64", "96"], "128", "32", panel, x, x3, ldx_bytes, quads, rest, ahead, a),
                }
                return ([a[0], a[2], a[4], a[6], a[8], a[10]], [a[1], a[3], a[5], a[7], a[9], a[11]]);
            }
            debug_assert_eq!(R, MR);
            // A float32 chunk is 4 lines per iteration's worth of rows:
            // with fewer than 4 full tiles to share it, each fetches two.
            match (E::PANEL, stream, tiles >= 4) {
                (Panel::Float32, true, true) => tile_loop!(fmas, f32_row, f32_ahead, l2_one, ["0", "64", "128", "192"], "256", "64", panel, x, x3, ldx_bytes, quads, rest, ahead, a),
                (Panel::Float32, false, true) => tile_loop!(fmas, f32_row, no_prefetch, l2_one, ["0", "64", "128", "192"], "256", "64", panel, x, x3, ldx_bytes, quads, rest, ahead, a),
                (Panel::Float32, true, false) => tile_loop!(fmas, f32_row, f32_ahead, l2_two, ["0", "64", "128", "192"], "256", "64", panel, x, x3, ldx_bytes, quads, rest, ahead, a),
                (Panel::Float32, false, false) => tile_loop!(fmas, f32_row, no_prefetch, l2_two, ["0", "64", "128", "192"], "256", "64", panel, x, x3, ldx_bytes, quads, rest, ahead, a),
                // Bfloat16 rows are half a line: one line per iteration is
                // a whole chunk for 2 tiles.
                (Panel::Bfloat16, true, _) => tile_loop!(fmas, bf16_row, bf16_ahead, l2_one, ["0", "32", "64", "96"], "128", "32", panel, x, x3, ldx_bytes, quads, rest, ahead, a),
                (Panel::Bfloat16, false, _) => tile_loop!(fmas, bf16_row, no_prefetch, l2_one, ["0", "32", "64", "96"], "128", "32", panel, x, x3, ldx_bytes, quads, rest, ahead, a),
            }
        }
        (
            [a[0], a[2], a[4], a[6], a[8], a[10]],
            [a[1], a[3], a[5], a[7], a[9], a[11]],
        )
    }
}
