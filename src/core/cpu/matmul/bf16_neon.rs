//! The NEON BF16 kernel of `PackedLinear` (`bf16_scheme.rs` has the scheme):
//! the float32 NEON driver (`fp32_neon.rs`: 6 × 16 tiles) over the bfloat16
//! panels, each group of 4 widened to float32 by a 16-bit shift (`ushll`,
//! baseline NEON) before the FMAs. A product of two bfloat16s is exact in
//! float32 and each output is summed over the inputs in order, as in the
//! portable kernel: the same vectors as the portable path, bit for bit.

use super::bf16_scheme::{Bf16Weights, NR};
use super::Job;

const _: () = assert!(NR == super::fp32_neon::NR, "bfloat16 panels are as wide as the NEON driver's");

/// The panels `first..end` of `w` (`k` inputs, `n` outputs, `bias` padded
/// to whole panels) against the rows `job.rows` of `job.x`.
///
/// # Safety
/// `job`'s pointers address m × k (x) and m × n (base, out) floats; the
/// columns of these panels in the rows `job.rows` (within m) of `out` are
/// written by this call alone.
#[cfg(target_arch = "aarch64")]
pub(super) unsafe fn panels(w: &Bf16Weights, bias: &[f32], k: usize, n: usize, job: &Job, first: usize, end: usize) {
    // Panel p is k rows of 16 bfloat16s from panel 0.
    super::fp32_neon::panels_of::<Bf16>(w.panel(0, k).cast(), bias, k, n, job, first, end)
}

#[cfg(not(target_arch = "aarch64"))]
pub(super) unsafe fn panels(_: &Bf16Weights, _: &[f32], _: usize, _: usize, _: &Job, _: usize, _: usize) {
    unreachable!("the NEON path is never chosen off aarch64")
}

/// A bfloat16 weight as the panels store it.
#[cfg(target_arch = "aarch64")]
#[derive(Clone, Copy)]
#[repr(transparent)]
struct Bf16(#[allow(dead_code)] u16);

#[cfg(target_arch = "aarch64")]
impl super::fp32_neon::Widen for Bf16 {
    #[inline(always)]
    unsafe fn widen4(src: *const Bf16) -> std::arch::aarch64::float32x4_t {
        use std::arch::aarch64::*;
        // bfloat16 → float32: zero-extend to 32 bits, shifted left 16.
        vreinterpretq_f32_u32(vshll_n_u16::<16>(vld1_u16(src.cast())))
    }
}
