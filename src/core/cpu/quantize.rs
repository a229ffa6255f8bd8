//! The INT8 scheme of `PackedLinear` (`Precision::Int8`): weights quantised
//! once at load, each input row quantised on the fly, integer products,
//! dequantised as the outputs are stored.
//!
//! - **Weights**: per output channel `j`, symmetric: `s_j = max|w_j| / 63`,
//!   `q = round(w / s_j)` in −63..63 (7 bits). Why 7 and not 8: AVX2's
//!   `vpmaddubsw` multiplies uint8 by int8 and adds *pairs* into int16 with
//!   saturation; with 8-bit weights a pair reaches 2·255·127 = 64 770 and
//!   saturates at 32 767, silently. With 7-bit weights a pair is at most
//!   2·255·63 = 32 130: never saturates, so every kernel (AVX2, portable)
//!   gets the exact int32 sum, the same integers on every CPU path.
//!   Per-channel scales keep the weights' error small anyway; the inputs,
//!   whose outliers dominate the error, keep all 8 bits.
//! - **Inputs**: per row, asymmetric uint8: the row's range widened to hold
//!   0, `s = (max − min) / 255`, zero point `z = round(−min / s)`,
//!   `q = clamp(round(x / s) + z, 0, 255)`. uint8 because `vpmaddubsw`
//!   (and VNNI's `vpdpbusd`) take the unsigned operand first; per row
//!   because a token's hidden state has its own range (a per-tensor scale
//!   would let one outlier token coarsen every other).
//! - **Sums**: int32 over 4-input groups (`Σ q_x·q_w`), exact (at most
//!   1536·255·63 ≈ 2.5e7); then `y = (acc − z·Σ_k q_w[j]) · (s·s_j) + bias
//!   (+ residual)`, in float32, in that order on every path.
//!
//! Packed layout: panels of `NR` = 16 output columns; in a panel, one
//! 64-byte line per group of 4 inputs, holding for each column its 4
//! weights (the operand layout of `vpmaddubsw` + `vpmaddwd` and of
//! `vpdpbusd`: each int32 lane sums 4 byte products). Inputs past `inputs`
//! are zero weights.

/// Output columns per panel.
pub(super) const NR: usize = 16;
/// Largest weight magnitude (7 bits, see the module documentation).
pub(super) const WEIGHT_MAX: f32 = 63.0;

/// One group of 4 inputs of a 16-column panel, 64-byte aligned.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub(super) struct Group(pub [i8; 64]);

/// A linear layer's weights in the INT8 scheme.
pub(super) struct Int8Weights {
    /// `panels × groups` lines.
    pub groups_data: Vec<Group>,
    /// Groups of 4 inputs per panel (inputs rounded up to 4).
    pub groups: usize,
    /// Per output channel (padded to whole panels): `s_j`.
    pub scales: Vec<f32>,
    /// Per output channel (padded): `Σ_k q_w[j, k]`, for the zero point.
    pub sums: Vec<i32>,
}

impl Int8Weights {
    /// Quantises `weight` (outputs × inputs, row-major, PyTorch's layout).
    pub fn pack(weight: &[f32], outputs: usize, inputs: usize) -> Self {
        let groups = inputs.div_ceil(4);
        let count = outputs.div_ceil(NR);
        let mut groups_data = vec![Group([0; 64]); count * groups];
        let mut scales = vec![0f32; count * NR];
        let mut sums = vec![0i32; count * NR];
        for (o, row) in weight.chunks_exact(inputs).enumerate() {
            let max = row.iter().fold(0f32, |m, w| m.max(w.abs()));
            let scale = if max > 0.0 && max.is_finite() { max / WEIGHT_MAX } else { 1.0 };
            let (panel, col) = (o / NR, o % NR);
            let mut sum = 0i32;
            for (i, &w) in row.iter().enumerate() {
                let q = (w / scale).round().clamp(-WEIGHT_MAX, WEIGHT_MAX) as i8;
                groups_data[panel * groups + i / 4].0[col * 4 + i % 4] = q;
                sum += i32::from(q);
            }
            scales[o] = scale;
            sums[o] = sum;
        }
        Self { groups_data, groups, scales, sums }
    }

    /// Panel `p`'s first group.
    pub fn panel(&self, p: usize) -> *const i8 {
        self.groups_data[p * self.groups..].as_ptr().cast::<i8>()
    }
}

/// Input rows quantised to uint8 (see the module documentation).
pub(super) struct QuantizedRows {
    /// rows × `stride` bytes; inputs past `inputs` are 0 (their weights are 0).
    pub data: Vec<u8>,
    /// Bytes per row: the inputs rounded up to a group of 4.
    pub stride: usize,
    /// Per row: the scale `s`.
    pub scales: Vec<f32>,
    /// Per row: the zero point `z`.
    pub zeros: Vec<i32>,
}

impl QuantizedRows {
    /// Quantises `x` (rows of `inputs` floats).
    pub fn new(x: &[f32], inputs: usize) -> Self {
        let stride = inputs.div_ceil(4) * 4;
        let rows = x.len() / inputs;
        let mut data = vec![0u8; rows * stride];
        let mut scales = Vec::with_capacity(rows);
        let mut zeros = Vec::with_capacity(rows);
        for (row, out) in x.chunks_exact(inputs).zip(data.chunks_exact_mut(stride)) {
            let (lo, hi) = row.iter().fold((0f32, 0f32), |(lo, hi), &v| (lo.min(v), hi.max(v)));
            let range = hi - lo;
            let scale = if range > 0.0 && range.is_finite() { range / 255.0 } else { 1.0 };
            let zero = (-lo / scale).round().clamp(0.0, 255.0);
            let inverse = 1.0 / scale;
            for (q, &v) in out.iter_mut().zip(row) {
                // `as u8` saturates (NaN gives 0): never out of range.
                *q = (v * inverse + zero).round().clamp(0.0, 255.0) as u8;
            }
            scales.push(scale);
            zeros.push(zero as i32);
        }
        Self { data, stride, scales, zeros }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_seven_bit_per_channel_and_rows_keep_their_range() {
        let w = [0.5, -1.0, 0.25, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 1.0, -2.0, 0.1];
        let q = Int8Weights::pack(&w, 3, 4);
        assert_eq!(q.groups, 1);
        // 0.5 · 63 = 31.5 lands just below the tie in float32: 31.
        assert_eq!(&q.groups_data[0].0[..12], &[31, -63, 16, 0, 0, 0, 0, 0, 63, 31, -63, 3]);
        assert_eq!(q.scales[..3], [1.0 / 63.0, 1.0, 2.0 / 63.0]);
        assert_eq!(q.sums[..3], [-16, 0, 34]);
        let x = QuantizedRows::new(&[-1.0, 0.0, 3.0, 1.0, 2.0, 4.0], 3);
        assert_eq!(x.stride, 4);
        assert_eq!(x.zeros, vec![64, 0]);
        assert_eq!(&x.data[..4], &[0, 64, 255, 0]);
        assert_eq!(&x.data[4..], &[64, 127, 255, 0]); // 127.5 in exact arithmetic, just below in float32
        // Dequantised, every input is within half a step of its value.
        for (r, row) in [[-1.0f32, 0.0, 3.0], [1.0, 2.0, 4.0]].iter().enumerate() {
            for (i, v) in row.iter().enumerate() {
                let back = (i32::from(x.data[r * 4 + i]) - x.zeros[r]) as f32 * x.scales[r];
                assert!((back - v).abs() <= x.scales[r] / 2.0 + 1e-6, "{back} vs {v}");
            }
        }
    }
}
