//! The INT8 scheme of `PackedLinear` (`Precision::Int8`): weights quantised
//! once at load, each input row quantised on the fly, integer products,
//! dequantised as the outputs are stored.
//!
//! - **Weights**: per output channel `j`, symmetric: `s_j = max|w_j| / 127`,
//!   `q = round(w / s_j)` in −127..127 (never −128). AVX2's `vpmaddubsw`
//!   (uint8 × int8, pairs summed into int16 *with saturation*) would
//!   saturate on uint8 inputs times these (2·255·127 = 64 770 > 32 767); the
//!   AVX2 kernel centres the inputs so it never does (`int8_avx2.rs`),
//!   and every kernel gets the exact int32 sums, the same integers on every
//!   CPU path. (7-bit weights, the other way out, lost too much: 94.5% of
//!   the benchmark corpus's nearest neighbours kept instead of 96.9%.)
//! - **Inputs**: per row, asymmetric uint8: the row's range widened to hold
//!   0, `s = (max − min) / 255`, zero point `z = round(−min / s)`,
//!   `q = clamp(x / s + z, 0, 255)` rounded half up. uint8 because `vpmaddubsw`
//!   (and VNNI's `vpdpbusd`) multiply an unsigned byte by a signed one (the
//!   VNNI kernel turns the roles round, `int8_avx512_vnni.rs`); per row
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

use super::Int8Job;
use super::super::team::Pass;

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
    /// The same, centred (`q − 128` as int8) and its magnitude (`|q − 128|`
    /// as uint8, ≤ 128): the AVX2 kernel's operands, made once per input
    /// instead of once per input and panel. (`Operands::Vnni` makes
    /// `centred` only: `data` and `magnitudes` are empty then.)
    pub centred: Vec<i8>,
    pub magnitudes: Vec<u8>,
    /// Per row: `Σ (q − 128)` over its `stride` bytes (the VNNI kernel's
    /// correction, `int8_avx512_vnni.rs`).
    pub centred_sums: Vec<i32>,
    /// Bytes per row: the inputs rounded up to a group of 4.
    pub stride: usize,
    /// Per row: the scale `s`.
    pub scales: Vec<f32>,
    /// Per row: the zero point `z`.
    pub zeros: Vec<i32>,
    /// Row r's outliers are `outliers[first[r]..first[r + 1]]`, in input order.
    pub outliers: Vec<Outlier>,
    pub first: Vec<usize>,
}

/// An input set apart as an outlier: its value, and where its weights lie
/// in a panel, worked out once per row instead of once per panel: the
/// byte offset of its group's 64-byte line, and the left shift that moves
/// its byte (`input % 4` of each column's dword) to the dword's top, from
/// where an arithmetic right shift by 24 gives the weight with its sign.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Outlier {
    pub line: u32,
    pub shift: u32,
    pub x: f32,
}

impl Outlier {
    fn new(input: usize, x: f32) -> Self {
        Self { line: (input / 4 * 64) as u32, shift: (3 - (input % 4) as u32) * 8, x }
    }

    /// The input's index in its row.
    #[cfg(test)]
    pub fn input(&self) -> usize {
        self.line as usize / 16 + 3 - self.shift as usize / 8
    }

    /// Its weight for column `c` of a panel whose line (64 bytes) is `line`:
    /// the dword's byte brought to the top, shifted back down with its sign
    /// (the vector kernels' arithmetic, one column).
    #[inline(always)]
    pub fn weight(&self, line: &[i8; 64], c: usize) -> i32 {
        let dword = i32::from_le_bytes([line[c * 4] as u8, line[c * 4 + 1] as u8, line[c * 4 + 2] as u8, line[c * 4 + 3] as u8]);
        (dword << self.shift) >> 24
    }
}

/// Raw pointers into a `QuantizedRows` being filled, for the threads that
/// fill disjoint rows of it.
struct Fill {
    data: *mut u8,
    centred: *mut i8,
    magnitudes: *mut u8,
    scales: *mut f32,
    zeros: *mut i32,
    sums: *mut i32,
}

/// Which kernel's operands `QuantizedRows::on` makes, and how it is
/// compiled. The bytes, scales, zero points and outliers are the same
/// every way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Operands {
    /// Every array, in plain Rust (the portable path; SSE2 on x86_64).
    Portable,
    /// Every array, compiled for AVX2 (the caller checked the CPU has it).
    Avx2,
    /// `centred` and its row sums only, compiled for AVX-512 (the caller
    /// checked the CPU has AVX-512F/BW/VL: the VNNI kernel's CPU).
    Vnni,
}
// SAFETY: each thread writes only its own rows (see `QuantizedRows::on`).
unsafe impl Sync for Fill {}

impl QuantizedRows {
    /// Quantises `x` (rows of `inputs` floats) on the calling thread.
    #[cfg(test)]
    pub fn new(x: &[f32], inputs: usize) -> Self {
        Self::on(x, inputs, None, Operands::Portable)
    }

    /// Quantises `x` (rows of `inputs` floats), its rows split among the
    /// pass's threads when `pass` is given, making the `operands` the
    /// kernel reads (see `Operands`, whose CPU the caller checked). The
    /// same bytes every way.
    pub fn on(x: &[f32], inputs: usize, pass: Option<&Pass>, operands: Operands) -> Self {
        let stride = inputs.div_ceil(4) * 4;
        let rows = x.len() / inputs;
        let every = if operands == Operands::Vnni { 0 } else { rows * stride };
        // Not zeroed first: every byte of every row is written below.
        let (mut data, mut centred, mut magnitudes) = (Vec::<u8>::with_capacity(every), Vec::<i8>::with_capacity(rows * stride), Vec::<u8>::with_capacity(every));
        let (mut scales, mut zeros, mut centred_sums) = (vec![0f32; rows], vec![0i32; rows], vec![0i32; rows]);
        let fill = Fill {
            data: data.as_mut_ptr(),
            centred: centred.as_mut_ptr(),
            magnitudes: magnitudes.as_mut_ptr(),
            scales: scales.as_mut_ptr(),
            zeros: zeros.as_mut_ptr(),
            sums: centred_sums.as_mut_ptr(),
        };
        // (A reference, so closures capture the whole `Fill`, not its bare pointers.)
        let fill = &fill;
        // Rows first..end; their outliers, tagged with the row, in order.
        let work = |first: usize, end: usize| -> Vec<(usize, usize, f32)> {
            let mut outliers = Vec::new();
            for r in first..end {
                // SAFETY: rows first..end of every buffer are this call's
                // alone (disjoint ranges per thread), and in bounds.
                let c = unsafe { std::slice::from_raw_parts_mut(fill.centred.add(r * stride), stride) };
                let row = &x[r * inputs..(r + 1) * inputs];
                let mut found = |i, v| outliers.push((r, i, v));
                let (scale, zero, sum) = match operands {
                    // SAFETY: `every` is rows × stride here: as above.
                    Operands::Portable | Operands::Avx2 => unsafe {
                        let q = std::slice::from_raw_parts_mut(fill.data.add(r * stride), stride);
                        let a = std::slice::from_raw_parts_mut(fill.magnitudes.add(r * stride), stride);
                        match operands {
                            #[cfg(target_arch = "x86_64")]
                            // SAFETY: the CPU has AVX2 (`Operands::Avx2`).
                            Operands::Avx2 => quantize_row_avx2(row, q, c, a, &mut found),
                            _ => quantize_row(row, q, c, a, &mut found),
                        }
                    },
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: the CPU has AVX-512F/BW/VL (`Operands::Vnni`).
                    Operands::Vnni => unsafe { quantize_row_centred_avx512(row, c, &mut found) },
                    #[cfg(not(target_arch = "x86_64"))]
                    Operands::Vnni => unreachable!("the VNNI kernel is never chosen off x86_64"),
                };
                // SAFETY: as above.
                unsafe {
                    *fill.scales.add(r) = scale;
                    *fill.zeros.add(r) = zero as i32;
                    *fill.sums.add(r) = sum;
                }
            }
            outliers
        };
        let tagged = match pass {
            Some(pass) => pass.concat_ranges(rows, work),
            None => work(0, rows),
        };
        // SAFETY: each row's `stride` bytes of each array were written
        // (`quantize_row`, `quantize_row_centred_avx512`: the inputs and the
        // padding), by the threads that returned above.
        unsafe {
            data.set_len(every);
            centred.set_len(rows * stride);
            magnitudes.set_len(every);
        }
        let mut first = vec![0usize; rows + 1];
        for &(r, _, _) in &tagged {
            first[r + 1] += 1;
        }
        for r in 0..rows {
            first[r + 1] += first[r];
        }
        let outliers = tagged.into_iter().map(|(_, i, v)| Outlier::new(i, v)).collect();
        Self { data, centred, magnitudes, centred_sums, stride, scales, zeros, outliers, first }
    }
}

/// One row: its bytes written to `q`, `centred` and `magnitude`, its
/// outliers passed to `found`; returns its scale, zero point and `Σ
/// centred`. Plain
/// Rust in independent lanes that the compiler vectorises: the same
/// float32 operations in the same order whatever it compiles them to (no
/// fused multiply-adds are ever formed implicitly).
#[inline(always)]
fn quantize_row(row: &[f32], q: &mut [u8], centred: &mut [i8], magnitude: &mut [u8], found: &mut dyn FnMut(usize, f32)) -> (f32, f32, i32) {
    let (scale, zero, limit) = row_range(row);
    quantize_inputs(row, scale, zero, limit, q, centred, magnitude);
    find_outliers(row, limit, found);
    (scale, zero, centred.iter().map(|&c| i32::from(c)).sum())
}

/// `quantize_row` compiled for AVX2 (8 floats per instruction, not SSE2's 4).
///
/// # Safety
/// The CPU has AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn quantize_row_avx2(row: &[f32], q: &mut [u8], centred: &mut [i8], magnitude: &mut [u8], found: &mut dyn FnMut(usize, f32)) -> (f32, f32, i32) {
    quantize_row(row, q, centred, magnitude, found)
}

/// One row's centred bytes only (the VNNI kernel's operand), in AVX-512
/// (two passes over the row before the bytes, not `row_range`'s three):
/// the same bytes, scale, zero point, sum and outliers as `quantize_row`
/// (`rows_quantise_to_the_same_bytes_on_any_threads_and_path`).
///
/// # Safety
/// The CPU has AVX-512F, BW and VL.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl")]
unsafe fn quantize_row_centred_avx512(row: &[f32], centred: &mut [i8], found: &mut dyn FnMut(usize, f32)) -> (f32, f32, i32) {
    use std::arch::x86_64::*;
    let len = row.len();
    // The sum of squares in `row_range`'s `LANES` lanes and order (a tail
    // lane past the row adds 0·0, which changes nothing).
    let mask = |c: usize| -> __mmask16 { if c + 16 <= len { 0xffff } else if c < len { (1u16 << (len - c)) - 1 } else { 0 } };
    let mut squares = [_mm512_setzero_ps(); 2];
    for c in (0..len).step_by(LANES) {
        for (h, lanes) in squares.iter_mut().enumerate() {
            // SAFETY (loads): masked to the row's inputs from c + 16h.
            let v = _mm512_maskz_loadu_ps(mask(c + 16 * h), row.as_ptr().add(c + 16 * h));
            *lanes = _mm512_add_ps(*lanes, _mm512_mul_ps(v, v));
        }
    }
    let limit = outlier_limit(std::mem::transmute::<[__m512; 2], [f32; LANES]>(squares), len);
    // Range of the kept inputs and the outliers, 16 at a time: `vminps
    // (kept, lo)` is `kept < lo ? kept : lo`, `row_range`'s selection.
    // The outliers' masks are kept for a stretch of the row and reported
    // after it: a call inside the loop would spill the extremes (every
    // vector register is the caller's to save).
    const STRETCH: usize = 64 * 16;
    let (mut lo, mut hi) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    let limits = _mm512_set1_ps(limit);
    for start in (0..len).step_by(STRETCH) {
        let end = len.min(start + STRETCH);
        let mut masks = [0u16; STRETCH / 16];
        let mut any = 0u16;
        // (The stretch's own extremes, in registers; merged below.)
        let (mut low, mut high) = (_mm512_setzero_ps(), _mm512_setzero_ps());
        for (c, beyond_here) in (start..end).step_by(16).zip(masks.iter_mut()) {
            let tail: __mmask16 = if end - c >= 16 { 0xffff } else { (1u16 << (end - c)) - 1 };
            let v = _mm512_maskz_loadu_ps(tail, row.as_ptr().add(c));
            let beyond = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(_mm512_abs_ps(v), limits) & tail;
            let kept = _mm512_mask_blend_ps(beyond, v, _mm512_setzero_ps());
            low = _mm512_min_ps(kept, low);
            high = _mm512_max_ps(kept, high);
            *beyond_here = beyond;
            any |= beyond;
        }
        (lo, hi) = (_mm512_min_ps(low, lo), _mm512_max_ps(high, hi));
        if any != 0 {
            for (c, &mask) in (start..end).step_by(16).zip(&masks) {
                let mut bits = mask;
                while bits != 0 {
                    let i = bits.trailing_zeros() as usize;
                    found(c + i, row[c + i]);
                    bits &= bits - 1;
                }
            }
        }
    }
    let (lo, hi) = (std::mem::transmute::<__m512, [f32; 16]>(lo), std::mem::transmute::<__m512, [f32; 16]>(hi));
    let (scale, zero) = scale_and_zero(&lo, &hi);
    let inverse = 1.0 / scale;
    let mut sum = 0i32;
    for (c, &v) in centred.iter_mut().zip(row) {
        *c = (quantize_input(v, inverse, zero, limit) ^ 0x80) as i8;
        sum += i32::from(*c);
    }
    // Inputs past the row (padding to a group of 4): 0, centred −128.
    for c in centred.iter_mut().skip(row.len()) {
        *c = i8::MIN;
        sum -= 128;
    }
    (scale, zero, sum)
}

/// A row's scale, zero point (a whole number, as f32) and outlier limit.
/// Sums in `LANES` independent lanes, extremes in 8.
#[inline(always)]
fn row_range(row: &[f32]) -> (f32, f32, f32) {
    let mut squares = [0f32; LANES];
    let chunks = row.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks {
        for (s, v) in squares.iter_mut().zip(chunk) {
            *s += v * v;
        }
    }
    for (s, v) in squares.iter_mut().zip(tail) {
        *s += v * v;
    }
    let limit = outlier_limit(squares, row.len());
    // The range of the kept inputs, widened to hold 0 (exact in any order;
    // a NaN is skipped).
    let (mut lo, mut hi) = ([0f32; 8], [0f32; 8]);
    let mut extend = |chunk: &[f32; 8]| {
        for i in 0..8 {
            let v = chunk[i];
            let kept = if v.abs() > limit { 0.0 } else { v };
            lo[i] = if kept < lo[i] { kept } else { lo[i] };
            hi[i] = if kept > hi[i] { kept } else { hi[i] };
        }
    };
    let (chunks, tail) = row.as_chunks::<8>();
    for chunk in chunks {
        extend(chunk);
    }
    // The tail padded with zeros (0 is in the range already).
    let mut last = [0f32; 8];
    last[..tail.len()].copy_from_slice(tail);
    extend(&last);
    let (scale, zero) = scale_and_zero(&lo, &hi);
    (scale, zero, limit)
}

/// Lanes of a row's sum of squares: input i goes to lane `i % LANES` (two
/// AVX-512 registers: two chains of additions at 16 lanes each, the row's
/// first pass no longer bound by the additions' latency).
const LANES: usize = 32;

/// The outlier limit of a row of `len` inputs from its lanes of squares,
/// summed as a tree: each lane of the lower half plus its partner of the
/// upper half, until one is left.
#[inline(always)]
fn outlier_limit(mut squares: [f32; LANES], len: usize) -> f32 {
    let mut half = LANES / 2;
    while half > 0 {
        for i in 0..half {
            squares[i] += squares[i + half];
        }
        half /= 2;
    }
    let rms = (squares[0] / len as f32).sqrt();
    if rms.is_finite() { OUTLIER_RMS * rms } else { f32::INFINITY }
}

/// Scale and zero point from lanes of the kept inputs' minima and maxima
/// (each lane started at 0 and never took a NaN: the same in any order).
#[inline(always)]
fn scale_and_zero(lo: &[f32], hi: &[f32]) -> (f32, f32) {
    let lo = lo.iter().fold(0f32, |a, &b| if b < a { b } else { a });
    let hi = hi.iter().fold(0f32, |a, &b| if b > a { b } else { a });
    let range = hi - lo;
    let scale = if range > 0.0 && range.is_finite() { range / 255.0 } else { 1.0 };
    let zero = (-lo / scale).round().clamp(0.0, 255.0);
    (scale, zero)
}

/// Calls `found(i, v)` for each input beyond `limit`, in order: 8 inputs
/// compared at a time (a vector compare and its mask), since most rows
/// have none or a few.
#[inline(always)]
fn find_outliers(row: &[f32], limit: f32, found: &mut dyn FnMut(usize, f32)) {
    let mut check = |base: usize, inputs: &[f32; 8], count: usize| {
        let mut mask = 0u32;
        for i in 0..8 {
            mask |= u32::from(inputs[i].abs() > limit) << i;
        }
        let mut bits = mask & ((1 << count) - 1);
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            found(base + i, inputs[i]);
            bits &= bits - 1;
        }
    };
    let (chunks, tail) = row.as_chunks::<8>();
    for (c, chunk) in chunks.iter().enumerate() {
        check(c * 8, chunk, 8);
    }
    let mut last = [0f32; 8];
    last[..tail.len()].copy_from_slice(tail);
    check(row.len() - tail.len(), &last, tail.len());
}

/// `q = clamp(x / s + z, 0, 255)` rounded half up (outliers as 0), and the
/// AVX2 kernel's centred value and magnitude of each.
#[inline(always)]
fn quantize_inputs(row: &[f32], scale: f32, zero: f32, limit: f32, q: &mut [u8], centred: &mut [i8], magnitude: &mut [u8]) {
    let inverse = 1.0 / scale;
    for (((q, c), a), &v) in q.iter_mut().zip(centred.iter_mut()).zip(magnitude.iter_mut()).zip(row) {
        let b = quantize_input(v, inverse, zero, limit);
        *q = b;
        *c = (b ^ 0x80) as i8;
        *a = c.unsigned_abs();
    }
    // Inputs past the row (padding to a group of 4): 0, centred −128.
    for ((q, c), a) in q.iter_mut().zip(centred.iter_mut()).zip(magnitude.iter_mut()).skip(row.len()) {
        *q = 0;
        *c = i8::MIN;
        *a = 128;
    }
}

/// One input's byte: `clamp(v / s + z, 0, 255)` rounded half up (an
/// outlier, beyond `limit`, as 0), `inverse` being `1 / s`.
#[inline(always)]
fn quantize_input(v: f32, inverse: f32, zero: f32, limit: f32) -> u8 {
    let kept = if v.abs() > limit { 0.0 } else { v };
    let t = kept * inverse + zero;
    // Clamped to 0..=255 (a NaN to 0), then rounded half up by
    // truncation: the value is ≥ 0.
    let t = if t > 0.0 { t } else { 0.0 };
    let t = if t < 255.0 { t } else { 255.0 };
    // SAFETY: t + 0.5 is finite and in 0.5..=255.5.
    (unsafe { (t + 0.5).to_int_unchecked::<i32>() }) as u8
}

/// One panel's share of an INT8 product, as every kernel's tiles read it.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // used by the x86-64 kernels only
pub(super) struct PanelTile<'a> {
    pub weights: &'a Int8Weights,
    /// The panel's index, first column, first group and columns that exist (≤ `NR`).
    pub p: usize,
    pub c0: usize,
    pub panel: *const i8,
    pub width: usize,
    /// Groups of 4 inputs per panel.
    pub groups: usize,
    /// The panel's `NR` weight scales, weight sums and biases (padded).
    pub scales: *const f32,
    pub sums: *const i32,
    pub bias: *const f32,
    /// Floats per row of the output.
    pub ldc: usize,
}

/// The loop every INT8 kernel runs (`panels`): the rows `job.rows` in
/// blocks of `block` (the kernel's, in L2 while panels pass over them);
/// per block, each of the panels `first..end` against the block's row
/// tiles of at most `mr` rows, `tile(panel, first row, rows, stream)`,
/// where `stream` marks the block's first tile, which brings the panel
/// into L1 (prefetching ahead) while the others find it there; then the
/// activation over the block's rows of these panels.
///
/// # Safety
/// As the kernels' `panels`: `job.out` addresses the rows `job.rows` × `n`
/// floats, whose columns of these panels only this call writes; `tile`
/// stores every element of its rows × the panel's columns.
#[inline(always)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))] // used by the x86-64 kernels only
pub(super) unsafe fn for_each_tile(w: &Int8Weights, bias: &[f32], n: usize, job: &Int8Job, (first, end): (usize, usize), (block, mr): (usize, usize), mut tile: impl FnMut(&PanelTile, usize, usize, bool)) {
    let m = job.rows.end;
    for m0 in job.rows.clone().step_by(block) {
        let rows = block.min(m - m0);
        for p in first..end {
            let c0 = p * NR;
            let panel = PanelTile {
                weights: w,
                p,
                c0,
                panel: w.panel(p),
                width: NR.min(n - c0),
                groups: w.groups,
                // SAFETY: the scales, sums and biases are padded to whole panels.
                scales: w.scales.as_ptr().add(c0),
                sums: w.sums.as_ptr().add(c0),
                bias: bias.as_ptr().add(c0),
                ldc: n,
            };
            let mut r = m0;
            while r < m0 + rows {
                let count = mr.min(m0 + rows - r);
                tile(&panel, r, count, r == m0);
                r += count;
            }
        }
        if let (Some(act), true) = (job.act, first < end) {
            let (c0, c1) = (first * NR, (end * NR).min(n));
            for row in m0..m0 + rows {
                // SAFETY: this call's rows and columns of `out`, all stored above.
                act(std::slice::from_raw_parts_mut(job.out.add(row * n + c0), c1 - c0));
            }
        }
    }
}

/// Row `row`'s outliers times panel `p`'s weights, per column:
/// `s_j · Σ x_k · q_w[j, k]` in float32, the same arithmetic on every path:
/// the products (`x · q_w`, no fused multiply-add) of the 1st, 3rd, 5th …
/// outlier summed in order, those of the 2nd, 4th … in another sum (two
/// chains of additions, not one, for the vector kernels' latency), then
/// `(even + odd) · s_j`.
pub(super) fn outlier_terms(w: &Int8Weights, rows: &QuantizedRows, row: usize, p: usize) -> [f32; NR] {
    let mut terms = [[0f32; NR]; 2];
    let outliers = &rows.outliers[rows.first[row]..rows.first[row + 1]];
    if outliers.is_empty() {
        return terms[0];
    }
    // Outliers outer, columns inner: 16 independent sums per chain.
    for (i, o) in outliers.iter().enumerate() {
        let line = &w.groups_data[p * w.groups + o.line as usize / 64].0;
        for (c, term) in terms[i % 2].iter_mut().enumerate() {
            *term += o.x * o.weight(line, c) as f32;
        }
    }
    let [even, odd] = terms;
    std::array::from_fn(|c| (even[c] + odd[c]) * w.scales[p * NR + c])
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
        assert_eq!((y.outliers.iter().map(|o| (o.input(), o.x)).collect::<Vec<_>>(), y.first.clone()), (vec![(5, -10.0)], vec![0, 1]));
        assert_eq!(y.data[5], y.zeros[0] as u8, "an outlier is quantised as 0");
        // An outlier's weights, picked out of a panel's line by its shift.
        let line: [i8; 64] = std::array::from_fn(|b| (b as i8).wrapping_mul(37));
        for input in 0..16 {
            let o = Outlier::new(input, 1.0);
            assert_eq!(o.input(), input);
            for c in 0..NR {
                assert_eq!(o.weight(&line, c), i32::from(line[o.line as usize % 64 + c * 4 + input % 4]), "input {input}, column {c}");
            }
        }
        assert!((y.scales[0] - 0.1 / 255.0).abs() < 1e-9, "the rest keep their own range");
        // Dequantised, every input is within half a step of its value.
        for (r, row) in [[-1.0f32, 0.0, 3.0], [1.0, 2.0, 4.0]].iter().enumerate() {
            for (i, v) in row.iter().enumerate() {
                let back = (i32::from(x.data[r * 4 + i]) - x.zeros[r]) as f32 * x.scales[r];
                assert!((back - v).abs() <= x.scales[r] / 2.0 + 1e-6, "{back} vs {v}");
            }
        }
    }

    #[test]
    fn rows_quantise_to_the_same_bytes_on_any_threads_and_path() {
        let team = super::super::super::team::Team::new(3).expect("team");
        // 37 rows of 77 inputs (not a whole number of 8-input chunks), a
        // large input every 29th: outliers in most rows.
        let (rows, inputs) = (37, 77);
        let x: Vec<f32> = (0..rows * inputs)
            .map(|i| {
                let v = ((i * 7919) % 1000) as f32 / 500.0 - 1.0;
                if i % 29 == 0 { v * 20.0 } else { v }
            })
            .collect();
        let serial = QuantizedRows::on(&x, inputs, None, Operands::Portable);
        assert!(serial.outliers.len() > rows / 2, "{} outliers", serial.outliers.len());
        let mut kinds = vec![Operands::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx2") {
                kinds.push(Operands::Avx2);
            }
            if has!("avx512f") && has!("avx512bw") && has!("avx512vl") {
                kinds.push(Operands::Vnni);
            } else {
                eprintln!("SKIPPED: the VNNI kernel's operands (no AVX-512 here)");
            }
        }
        for kind in kinds {
            for threaded in [false, true] {
                let q = if threaded {
                    team.pass(None, |pass| QuantizedRows::on(&x, inputs, Some(pass), kind))
                } else {
                    QuantizedRows::on(&x, inputs, None, kind)
                };
                let what = format!("{kind:?}, threaded {threaded}");
                assert_eq!(q.centred, serial.centred, "{what}");
                assert_eq!(q.centred_sums, serial.centred_sums, "{what}");
                if kind != Operands::Vnni {
                    assert_eq!(q.data, serial.data, "{what}");
                    assert_eq!(q.magnitudes, serial.magnitudes, "{what}");
                }
                assert_eq!((&q.scales, &q.zeros), (&serial.scales, &serial.zeros), "{what}");
                assert_eq!((&q.outliers, &q.first), (&serial.outliers, &serial.first), "{what}");
            }
        }
        // The AVX2 kernel's operands: q − 128 and its magnitude, padding
        // included (q = 0 there).
        for ((&q, &c), &a) in serial.data.iter().zip(&serial.centred).zip(&serial.magnitudes) {
            assert_eq!(i32::from(c), i32::from(q) - 128);
            assert_eq!(u32::from(a), (i32::from(q) - 128).unsigned_abs());
        }
        assert_eq!(serial.data[inputs..serial.stride], [0, 0, 0]);
        for (r, &sum) in serial.centred_sums.iter().enumerate() {
            assert_eq!(sum, serial.centred[r * serial.stride..(r + 1) * serial.stride].iter().map(|&c| i32::from(c)).sum::<i32>());
        }
    }
}
