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
    let rounding = 0x7fff + ((bits >> 16) & 1);
    let rounded = (bits.wrapping_add(rounding) >> 16) as u16;
    let quiet = ((bits >> 16) | 0x40) as u16;
    // (A select, not a branch: loops over rows of these vectorise.)
    if v.is_nan() { quiet } else { rounded }
}

/// `to_bf16` of each float of `src` into `dst`.
#[inline(always)]
fn round_row(src: &[f32], dst: &mut [u16]) {
    for (o, &v) in dst.iter_mut().zip(src) {
        *o = to_bf16(v);
    }
}

/// `round_row` compiled for AVX-512 (16 floats per instruction).
///
/// # Safety
/// The CPU has AVX-512F and BW.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw")]
unsafe fn round_row_avx512(src: &[f32], dst: &mut [u16]) {
    round_row(src, dst)
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

/// Output columns per panel of the pair layout (`Bf16PairWeights`).
pub(super) const PAIR_NR: usize = 32;

/// One pair of inputs of 16 columns in the pair layout: for each column,
/// its weights for inputs 2j and 2j + 1 (`vdpbf16ps`'s operand: each
/// float32 lane sums the products of 2 bfloat16s). 64 bytes, aligned.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub(super) struct PairLine(pub [u16; 32]);

/// A linear layer's weights in bfloat16, in the pair layout of the
/// AVX512_BF16 kernel (`bf16_avx512.rs`): panels of `PAIR_NR`
/// columns; in a panel, per pair of inputs, two lines (columns 0–15, then
/// 16–31). An odd last input is paired with a zero weight.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // used by the x86-64 kernels only
pub(super) struct Bf16PairWeights {
    /// `panels × pairs × 2` lines.
    pub lines: Vec<PairLine>,
    /// Pairs of inputs (inputs rounded up to 2).
    pub pairs: usize,
}

#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // used by the x86-64 kernels only
impl Bf16PairWeights {
    /// Rounds and packs `weight` (outputs × inputs, PyTorch's layout).
    pub fn pack(weight: &[f32], outputs: usize, inputs: usize) -> Self {
        let pairs = inputs.div_ceil(2);
        let mut lines = vec![PairLine([0; 32]); outputs.div_ceil(PAIR_NR) * pairs * 2];
        for (o, row) in weight.chunks_exact(inputs).enumerate() {
            let (panel, col) = (o / PAIR_NR, o % PAIR_NR);
            for (i, &w) in row.iter().enumerate() {
                lines[(panel * pairs + i / 2) * 2 + col / 16].0[(col % 16) * 2 + i % 2] = to_bf16(w);
            }
        }
        Self { lines, pairs }
    }

    /// Panel `p`'s first line.
    pub fn panel(&self, p: usize) -> *const u16 {
        self.lines[p * self.pairs * 2..].as_ptr().cast::<u16>()
    }
}

/// `x` (rows of `inputs` floats) rounded to bfloat16, each row padded with
/// a zero to a whole number of pairs (`inputs.div_ceil(2) · 2` values): the
/// pair layout's inputs. Rows split among the pass's threads when given.
pub(super) fn rows_to_pairs(x: &[f32], inputs: usize, pass: Option<&super::super::team::Pass>) -> Vec<u16> {
    let stride = inputs.div_ceil(2) * 2;
    let rows = x.len() / inputs;
    // Not zeroed first: every value of every row is written below.
    let mut out = Vec::<u16>::with_capacity(rows * stride);
    let dst = Dst(out.as_mut_ptr());
    let dst = &dst;
    #[cfg(target_arch = "x86_64")]
    let wide = std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512bw");
    let work = |first: usize, end: usize| -> Vec<()> {
        for r in first..end {
            // SAFETY: rows first..end of `out` are this call's alone
            // (disjoint ranges per thread), and in bounds.
            let row = unsafe { std::slice::from_raw_parts_mut(dst.0.add(r * stride), stride) };
            let (values, padding) = row.split_at_mut(inputs);
            let src = &x[r * inputs..(r + 1) * inputs];
            #[cfg(target_arch = "x86_64")]
            if wide {
                // SAFETY: the CPU has AVX-512F and BW (checked above).
                unsafe { round_row_avx512(src, values) };
            } else {
                round_row(src, values);
            }
            #[cfg(not(target_arch = "x86_64"))]
            round_row(src, values);
            padding.fill(0);
        }
        Vec::new()
    };
    match pass {
        Some(pass) => {
            pass.concat_ranges(rows, work);
        }
        None => {
            work(0, rows);
        }
    }
    // SAFETY: every row's `stride` values were written above.
    unsafe { out.set_len(rows * stride) };
    out
}

/// The output of `rows_to_pairs`, for the threads that fill disjoint rows of it.
struct Dst(*mut u16);
// SAFETY: each thread writes only its own rows.
unsafe impl Sync for Dst {}

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

    #[test]
    fn the_pair_layout_holds_each_column_s_two_inputs_side_by_side() {
        // 33 outputs (2 panels, the second with 1 column), 3 inputs (2 pairs).
        let (outputs, inputs) = (33, 3);
        let w: Vec<f32> = (0..outputs * inputs).map(|i| i as f32).collect();
        let packed = Bf16PairWeights::pack(&w, outputs, inputs);
        assert_eq!((packed.pairs, packed.lines.len()), (2, 2 * 2 * 2));
        let at = |o: usize, i: usize| packed.lines[((o / 32) * 2 + i / 2) * 2 + (o % 32) / 16].0[(o % 16) * 2 + i % 2];
        for o in 0..outputs {
            for i in 0..inputs {
                assert_eq!(from_bf16(at(o, i)), w[o * inputs + i]);
            }
            assert_eq!(at(o, 3), 0, "the odd input's partner is zero");
        }
        let x = [1.0f32, 1.0 + 1.0 / 256.0, -2.5, 7.0, 0.1, 3.0];
        assert_eq!(rows_to_pairs(&x, 3, None), vec![0x3f80, 0x3f80, 0xc020, 0, 0x40e0, to_bf16(0.1), 0x4040, 0]);
    }
}
