//! The AVX2 BF16 kernel of `PackedLinear` (`bf16_scheme.rs` has the scheme): the
//! float32 AVX2 driver (`fp32_avx2.rs`: 6 × 16 tiles, inputs in L1-sized
//! chunks, rows in L2-sized blocks) over bfloat16 weight panels, each row of
//! 8 widened to float32 by `vpmovzxwd` and a 16-bit shift before the FMAs.
//! Full tiles run in the driver's assembly, which widens the same way.
//! The inputs arrive already rounded to bfloat16. It streams half the
//! weight bytes of float32; the arithmetic is the same. AVX-512 CPUs without
//! AVX512_BF16 run it too (with it, `bf16_avx512.rs`).

use super::bf16_scheme::{Bf16Weights, NR};
use super::Job;

const _: () = assert!(NR == super::fp32_avx2::NR, "bfloat16 panels are as wide as the AVX2 driver's");

/// The panels `first..end` of `w` (`k` inputs, `n` outputs, `bias` padded
/// to whole panels) against the rows `job.rows` of `job.x`.
///
/// # Safety
/// The CPU has AVX2 and FMA (`w` was packed for an AVX2 or AVX-512 path
/// only then); `job`'s pointers address m × k (x) and m × n (base, out)
/// floats; the columns of these panels in the rows `job.rows` (within m) of `out` are written by this call alone.
#[cfg(target_arch = "x86_64")]
pub(super) unsafe fn panels(w: &Bf16Weights, bias: &[f32], k: usize, n: usize, job: &Job, first: usize, end: usize) {
    // Panel p is k rows of 16 bfloat16s from panel 0, rows 32-byte aligned.
    super::fp32_avx2::panels_of::<Bf16>(w.panel(0, k).cast(), bias, k, n, job, first, end)
}

#[cfg(not(target_arch = "x86_64"))]
pub(super) unsafe fn panels(_: &Bf16Weights, _: &[f32], _: usize, _: usize, _: &Job, _: usize, _: usize) {
    unreachable!("the AVX2 path is never chosen off x86_64")
}

/// A bfloat16 weight as the panels store it.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
#[repr(transparent)]
struct Bf16(#[allow(dead_code)] u16);

#[cfg(target_arch = "x86_64")]
impl super::fp32_avx2::Widen for Bf16 {
    const PANEL: super::fp32_avx2::Panel = super::fp32_avx2::Panel::Bfloat16;

    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn widen8(src: *const Bf16) -> std::arch::x86_64::__m256 {
        use std::arch::x86_64::*;
        // bfloat16 → float32: zero-extend to 32 bits, shift left 16.
        _mm256_castsi256_ps(_mm256_slli_epi32::<16>(_mm256_cvtepu16_epi32(_mm_load_si128(src.cast()))))
    }
}
