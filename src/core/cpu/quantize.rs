//! The INT8 scheme of `PackedLinear` (`Precision::Int8`): weights quantised
//! once at load, each input row quantised on the fly, integer products,
//! dequantised as the outputs are stored.
//!
//! - **Weights**: per output channel `j`, symmetric: `s_j = max|w_j| / 127`,
//!   `q = round(w / s_j)` in −127..127 (never −128). AVX2's `vpmaddubsw`
//!   (uint8 × int8, pairs summed into int16 *with saturation*) would
//!   saturate on uint8 inputs times these (2·255·127 = 64 770 > 32 767); the
//!   AVX2 kernel centres the inputs so it never does (`linear_int8_avx2.rs`),
//!   and every kernel gets the exact int32 sums, the same integers on every
//!   CPU path. (7-bit weights, the other way out, lost too much: 94.5% of
//!   the benchmark corpus's nearest neighbours kept instead of 96.9%.)
//! - **Inputs**: per row, asymmetric uint8: the row's range widened to hold
//!   0, `s = (max − min) / 255`, zero point `z = round(−min / s)`,
//!   `q = clamp(x / s + z, 0, 255)` rounded half up. uint8 because `vpmaddubsw`
//!   (and VNNI's `vpdpbusd`) take the unsigned operand first; per row
//!   because a token's hidden state has its own range (a per-tensor scale
//!   would let one outlier token coarsen every other). Inputs beyond 3×
//!   the row's RMS (a LayerNorm's outlier channels) are set apart and
//!   multiplied in float32 (`QuantizedRows`).
//! - **Sums**: int32 over 4-input groups (`Σ q_x·q_w`), exact (at most
//!   1536·255·127 ≈ 5e7); then `y = ((acc − z·Σ_k q_w[j]) · (s·s_j) +
//!   outliers_j) + bias (+ residual)`, in float32, in that order on every
//!   path.
//!
//! Packed layout: panels of `NR` = 16 output columns; in a panel, one
//! 64-byte line per group of 4 inputs, holding for each column its 4
//! weights (the operand layout of `vpmaddubsw` + `vpmaddwd` and of
//! `vpdpbusd`: each int32 lane sums 4 byte products). Inputs past `inputs`
//! are zero weights.

/// Output columns per panel.
pub(super) const NR: usize = 16;
/// Largest weight magnitude (see the module documentation).
pub(super) const WEIGHT_MAX: f32 = 127.0;

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

/// An input is an outlier of its row when its magnitude exceeds this many
/// times the row's root mean square (see `QuantizedRows`).
pub(super) const OUTLIER_RMS: f32 = 3.0;

/// Input rows quantised to uint8 (see the module documentation), their
/// outliers set apart: a transformer's hidden states have a few channels
/// far larger than the rest (a LayerNorm's large gains), and one of them
/// would stretch the row's scale until the other inputs keep only a few
/// levels. An input beyond `OUTLIER_RMS` times the row's RMS is quantised
/// as 0 and its exact product with the (dequantised) int8 weights is added
/// in float32 as the output is stored (`outlier_terms`).
pub(super) struct QuantizedRows {
    /// rows × `stride` bytes; inputs past `inputs` are 0 (their weights are 0).
    pub data: Vec<u8>,
    /// Bytes per row: the inputs rounded up to a group of 4.
    pub stride: usize,
    /// Per row: the scale `s`.
    pub scales: Vec<f32>,
    /// Per row: the zero point `z`.
    pub zeros: Vec<i32>,
    /// Row r's outliers (input index, value) are `outliers[first[r]..first[r + 1]]`.
    pub outliers: Vec<(usize, f32)>,
    pub first: Vec<usize>,
}

impl QuantizedRows {
    /// Quantises `x` (rows of `inputs` floats).
    pub fn new(x: &[f32], inputs: usize) -> Self {
        let stride = inputs.div_ceil(4) * 4;
        let rows = x.len() / inputs;
        let mut data = vec![0u8; rows * stride];
        let mut scales = Vec::with_capacity(rows);
        let mut zeros = Vec::with_capacity(rows);
        let (mut outliers, mut first) = (Vec::new(), Vec::with_capacity(rows + 1));
        for (row, out) in x.chunks_exact(inputs).zip(data.chunks_exact_mut(stride)) {
            first.push(outliers.len());
            let rms = (row.iter().map(|v| v * v).sum::<f32>() / inputs as f32).sqrt();
            let limit = if rms.is_finite() { OUTLIER_RMS * rms } else { f32::INFINITY };
            let kept = |v: f32| if v.abs() > limit { 0.0 } else { v };
            let (lo, hi) = row.iter().fold((0f32, 0f32), |(lo, hi), &v| (lo.min(kept(v)), hi.max(kept(v))));
            let range = hi - lo;
            let scale = if range > 0.0 && range.is_finite() { range / 255.0 } else { 1.0 };
            let zero = (-lo / scale).round().clamp(0.0, 255.0);
            let inverse = 1.0 / scale;
            outliers.extend(row.iter().enumerate().filter(|(_, v)| v.abs() > limit).map(|(i, &v)| (i, v)));
            for (q, &v) in out.iter_mut().zip(row) {
                // Rounded half up (the value is ≥ 0): a truncating
                // conversion, where `round` is a libm call per input on
                // x86-64's baseline. `as u8` saturates and NaN gives 0:
                // never out of range.
                *q = ((kept(v) * inverse + zero).clamp(0.0, 255.0) + 0.5) as u8;
            }
            scales.push(scale);
            zeros.push(zero as i32);
        }
        first.push(outliers.len());
        Self { data, stride, scales, zeros, outliers, first }
    }
}

/// Row `row`'s outliers times panel `p`'s weights, per column:
/// `s_j · Σ x_k · q_w[j, k]` in float32, in the order the outliers were
/// found (the same arithmetic on every path).
pub(super) fn outlier_terms(w: &Int8Weights, rows: &QuantizedRows, row: usize, p: usize) -> [f32; NR] {
    let mut terms = [0f32; NR];
    let outliers = &rows.outliers[rows.first[row]..rows.first[row + 1]];
    if outliers.is_empty() {
        return terms;
    }
    // Outliers outer, columns inner: 16 independent sums (each column's
    // still in the outliers' order), not one serial chain per column.
    for &(k, x) in outliers {
        let line = &w.groups_data[p * w.groups + k / 4].0;
        for (c, term) in terms.iter_mut().enumerate() {
            *term += x * f32::from(line[c * 4 + k % 4]);
        }
    }
    for (term, &scale) in terms.iter_mut().zip(&w.scales[p * NR..(p + 1) * NR]) {
        *term *= scale;
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_per_channel_and_rows_keep_their_range() {
        let w = [0.6, -1.0, 0.25, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 1.2, -2.0, 0.1];
        let q = Int8Weights::pack(&w, 3, 4);
        assert_eq!(q.groups, 1);
        assert_eq!(&q.groups_data[0].0[..12], &[76, -127, 32, 0, 0, 0, 0, 0, 127, 76, -127, 6]);
        assert_eq!(q.scales[..3], [1.0 / 127.0, 1.0, 2.0 / 127.0]);
        assert_eq!(q.sums[..3], [-19, 0, 82]);
        let x = QuantizedRows::new(&[-1.0, 0.0, 3.0, 1.0, 2.0, 4.0], 3);
        assert_eq!(x.stride, 4);
        assert_eq!(x.zeros, vec![64, 0]);
        assert_eq!(&x.data[..4], &[0, 64, 255, 0]);
        assert_eq!(&x.data[4..], &[64, 127, 255, 0]); // 127.5 in exact arithmetic, just below in float32
        assert!(x.outliers.is_empty());
        // One channel far beyond the others: set apart, exactly.
        let mut row = vec![0.1f32; 16];
        row[5] = -10.0;
        let y = QuantizedRows::new(&row, 16);
        assert_eq!((y.outliers.clone(), y.first.clone()), (vec![(5, -10.0)], vec![0, 1]));
        assert_eq!(y.data[5], y.zeros[0] as u8, "an outlier is quantised as 0");
        assert!((y.scales[0] - 0.1 / 255.0).abs() < 1e-9, "the rest keep their own range");
        // Dequantised, every input is within half a step of its value.
        for (r, row) in [[-1.0f32, 0.0, 3.0], [1.0, 2.0, 4.0]].iter().enumerate() {
            for (i, v) in row.iter().enumerate() {
                let back = (i32::from(x.data[r * 4 + i]) - x.zeros[r]) as f32 * x.scales[r];
                assert!((back - v).abs() <= x.scales[r] / 2.0 + 1e-6, "{back} vs {v}");
            }
        }
    }
}
