//! The BF16 scheme of `PackedLinear` (`Precision::Bf16`): weights rounded
//! once, at load, to bfloat16 (round to nearest, ties to even) and packed
//! like the float32 panels (`NR` = 16 columns, `inputs` rows of 16 bfloat16
//! each); the inputs of each product rounded to bfloat16 too; the products
//! (exact in float32: 8-bit by 8-bit significands) summed in float32. On a
//! CPU without AVX512_BF16 the kernels widen a bfloat16 to float32 by a
//! 16-bit shift and use float32 FMAs: the products are those `vdpbf16ps`
//! would form; only the order of the float32 sums differs.

/// Output columns per panel.
pub(super) const NR: usize = 16;

/// `v` rounded to bfloat16 (nearest, ties to even); NaN stays NaN.
pub(super) fn to_bf16(v: f32) -> u16 {
    let bits = v.to_bits();
    if v.is_nan() {
        return ((bits >> 16) | 0x40) as u16; // quiet
    }
    let rounding = 0x7fff + ((bits >> 16) & 1);
    (bits.wrapping_add(rounding) >> 16) as u16
}

/// The float32 a bfloat16 stands for.
pub(super) fn from_bf16(b: u16) -> f32 {
    f32::from_bits(u32::from(b) << 16)
}

/// `x` with every value rounded to bfloat16 (kept as float32).
pub(super) fn round_rows(x: &[f32]) -> Vec<f32> {
    x.iter().map(|&v| from_bf16(to_bf16(v))).collect()
}

/// 16 bfloat16s, 32 bytes: one row of a panel.
#[derive(Clone, Copy)]
#[repr(C, align(32))]
pub(super) struct Row(pub [u16; NR]);

/// A linear layer's weights in bfloat16.
pub(super) struct Bf16Weights {
    /// `panels × inputs` rows.
    pub rows: Vec<Row>,
}

impl Bf16Weights {
    /// Rounds and packs `weight` (outputs × inputs, PyTorch's layout).
    pub fn pack(weight: &[f32], outputs: usize, inputs: usize) -> Self {
        let mut rows = vec![Row([0; NR]); outputs.div_ceil(NR) * inputs];
        for (o, row) in weight.chunks_exact(inputs).enumerate() {
            for (i, &w) in row.iter().enumerate() {
                rows[(o / NR) * inputs + i].0[o % NR] = to_bf16(w);
            }
        }
        Self { rows }
    }

    /// Panel `p`'s first row.
    pub fn panel(&self, p: usize, inputs: usize) -> *const u16 {
        self.rows[p * inputs..].as_ptr().cast::<u16>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_to_nearest_even() {
        assert_eq!(to_bf16(1.0), 0x3f80);
        // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1.0).
        assert_eq!(to_bf16(1.0 + 1.0 / 256.0), 0x3f80);
        // 1 + 3·2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: to even.
        assert_eq!(to_bf16(1.0 + 3.0 / 256.0), 0x3f82);
        assert_eq!(to_bf16(1.0 + 1.0 / 256.0 + 1.0 / 65536.0), 0x3f81);
        assert_eq!(to_bf16(-2.5), 0xc020);
        assert!(from_bf16(to_bf16(f32::NAN)).is_nan());
        assert_eq!(from_bf16(to_bf16(f32::INFINITY)), f32::INFINITY);
        for v in [0.1f32, -3.7, 1e-20, 6.0e4] {
            assert!((from_bf16(to_bf16(v)) - v).abs() <= v.abs() / 256.0);
        }
    }
}
