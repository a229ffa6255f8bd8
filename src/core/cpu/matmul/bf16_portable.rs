//! The portable BF16 kernel of `PackedLinear` (`bf16_scheme.rs` has the scheme):
//! the float32 portable driver (`fp32_portable.rs`: 4 × 16 tiles in plain
//! Rust) over bfloat16 panels, each row of 16 widened to float32 before the
//! multiply-adds.

use super::bf16_scheme::{from_bf16, Bf16Weights, NR};
use super::fp32_portable::{panels_of, Widen};
use super::Job;

const _: () = assert!(NR == super::fp32_portable::NR, "bfloat16 panels are as wide as the portable driver's");

/// A bfloat16 weight as the panels store it.
#[derive(Clone, Copy)]
#[repr(transparent)]
struct Bf16(u16);

impl Widen for Bf16 {
    #[inline(always)]
    fn widen(self) -> f32 {
        from_bf16(self.0)
    }
}

/// The panels `first..end` of `w` (`k` inputs, `n` outputs, `bias` padded
/// to whole panels) against the rows `job.rows` of `job.x`.
///
/// # Safety
/// `job`'s pointers address m × k (x) and m × n (base, out) floats; the
/// columns of these panels in the rows `job.rows` (within m) of `out` are written by this call alone.
pub(super) unsafe fn panels(w: &Bf16Weights, bias: &[f32], k: usize, n: usize, job: &Job, first: usize, end: usize) {
    // Panel p is k rows of 16 bfloat16s from panel 0.
    panels_of::<Bf16>(w.panel(0, k).cast(), bias, k, n, job, first, end)
}
