//! Element-wise kernels of the packed CPU engine: exact-erf GeLU, SiLU, row
//! softmax, row layer norm, row RMS norm, one attention head. Each is written once as
//! plain loops the compiler vectorises, and compiled three times (AVX-512,
//! AVX2+FMA, portable); the process's CPU path (`config.rs`) picks one.
//!
//! `erf` and `exp` are branch-free polynomial approximations accurate to a
//! few float32 ulps (erf: max |error| 4.2e-7, checked against candle's f64
//! erf in the tests below), so the vectors stay within 1e-5 of PyTorch's.

/// Defines `pub fn $name` dispatching to AVX-512 / AVX2+FMA / portable
/// copies of the same body, following the process's CPU path (`config`).
/// The body is generic over `M: MulAdd`, the multiply-add its polynomials
/// use: fused where the copy has FMA, a plain multiply and add in the
/// portable copy (without hardware FMA, `f32::mul_add` is a library call).
macro_rules! multiversion {
    ($(#[$doc:meta])* pub fn $name:ident($($arg:ident: $ty:ty),*) $body:block) => {
        $(#[$doc])*
        pub fn $name($($arg: $ty),*) {
            #[inline(always)]
            #[allow(unused)]
            fn body<M: MulAdd>($($arg: $ty),*) $body

            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
                unsafe fn avx512($($arg: $ty),*) { body::<Fused>($($arg),*) }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2($($arg: $ty),*) { body::<Fused>($($arg),*) }
                match super::config::path() {
                    // SAFETY: the path was checked against the CPU's features.
                    super::config::CpuPath::Avx512 => unsafe { avx512($($arg),*) },
                    // SAFETY: as above.
                    super::config::CpuPath::Avx2 => unsafe { avx2($($arg),*) },
                    // (The NEON path is aarch64's, never chosen here.)
                    super::config::CpuPath::Portable | super::config::CpuPath::Neon => body::<Separate>($($arg),*),
                }
            }
            #[cfg(not(target_arch = "x86_64"))]
            {
                body::<Native>($($arg),*)
            }
        }
    };
}

/// `a · b + c`, as a kernel copy computes it.
pub(super) trait MulAdd {
    fn mul_add(a: f32, b: f32, c: f32) -> f32;
}

/// One fused multiply-add (a single instruction where the copy has FMA).
#[allow(dead_code)]
pub(super) struct Fused;
impl MulAdd for Fused {
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
}

/// A multiply, then an add (the portable x86 copy: no FMA instruction).
#[allow(dead_code)]
pub(super) struct Separate;
impl MulAdd for Separate {
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
}

/// Off x86: fused where the target has FMA (aarch64 always does).
#[cfg(not(target_arch = "x86_64"))]
#[cfg(any(target_arch = "aarch64", target_feature = "fma"))]
type Native = Fused;
#[cfg(not(target_arch = "x86_64"))]
#[cfg(not(any(target_arch = "aarch64", target_feature = "fma")))]
type Native = Separate;

/// erf(x), rational minimax approximation on [-4, 4] (beyond, erf is ±1 in
/// float32).
#[inline(always)]
fn erf<M: MulAdd>(x: f32) -> f32 {
    const A: [f32; 7] = [
        -2.726_142_3e-10, 2.770_681_4e-8, -2.101_024e-6, -5.692_506_4e-5, -7.349_906_3e-4, -2.954_600e-3, -1.609_603_3e-2,
    ];
    const B: [f32; 5] = [-1.456_607_2e-5, -2.133_740_6e-4, -1.682_827e-3, -7.373_329_2e-3, -1.426_473_9e-2];
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = A[0];
    for a in &A[1..] {
        p = M::mul_add(p, x2, *a);
    }
    let mut q = B[0];
    for b in &B[1..] {
        q = M::mul_add(q, x2, *b);
    }
    x * p / q
}

/// e^x for x ≤ 0 (softmax inputs after subtracting the row maximum):
/// 2^n · poly(r) with x = n·ln2 + r, |r| ≤ ln2/2.
#[inline(always)]
fn exp_nonpositive<M: MulAdd>(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    const ROUND: f32 = 12_582_912.0; // 1.5 · 2^23: adding it rounds to an integer
    let x = x.max(-87.0).min(0.0);
    // t's low mantissa bits hold n = round(x·log2 e) as an integer: reading
    // them off avoids a float-to-int conversion (which Rust's saturating
    // `as` does one lane at a time).
    let t = x * LOG2E + ROUND;
    let n = t - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p: f32 = 1.0 / 5040.0;
    for c in [1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = M::mul_add(p, r, c);
    }
    let n_int = t.to_bits().wrapping_sub(ROUND.to_bits()) as i32;
    let scale = f32::from_bits(((n_int + 127) as u32) << 23);
    p * scale
}

multiversion! {
    /// In place: x ← x · (1 + erf(x / √2)) / 2, PyTorch's exact GeLU.
    pub fn gelu_erf(xs: &mut [f32]) {
        let gelu = |x: &mut f32| {
            let v = *x;
            *x = 0.5 * v * (1.0 + erf::<M>(v * std::f32::consts::FRAC_1_SQRT_2));
        };
        // One plain loop: LLVM vectorises it 8 (16) lanes at a time. Cut
        // into `chunks_exact_mut(8)` instead, it vectorised across the
        // chunks and spent most of the time transposing them (about 1.6×
        // this loop's time on the AVX2 path, Zen 3).
        xs.iter_mut().for_each(gelu);
    }
}

multiversion! {
    /// In place: x ← x · sigmoid(x), PyTorch's SiLU (`silu`, the SwiGLU
    /// gate of Qwen3): e = exp(−|x|) ≤ 1, then x / (1 + e) for x ≥ 0 and
    /// x · e / (1 + e) below.
    pub fn silu(xs: &mut [f32]) {
        for x in xs.iter_mut() {
            let v = *x;
            let e = exp_nonpositive::<M>(-v.abs());
            let num = if v >= 0.0 { v } else { v * e };
            *x = num / (1.0 + e);
        }
    }
}

multiversion! {
    /// In place: x ← max(x, 0).
    pub fn relu(xs: &mut [f32]) {
        for x in xs.iter_mut() {
            *x = x.max(0.0);
        }
    }
}

/// Lanes of the reductions below: independent partial sums (or maxima) the
/// compiler keeps in one vector register, instead of one serial chain.
const LANES: usize = 16;

/// Σ f(x) over `xs`, summed in `LANES` interleaved partial sums.
#[inline(always)]
fn lane_sum(xs: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0f32; LANES];
    let chunks = xs.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..LANES {
            acc[i] += f(c[i]);
        }
    }
    for (a, &x) in acc.iter_mut().zip(rest) {
        *a += f(x);
    }
    acc.iter().sum()
}

/// max(xs), in `LANES` interleaved partial maxima.
#[inline(always)]
fn lane_max(xs: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let chunks = xs.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for i in 0..LANES {
            acc[i] = acc[i].max(c[i]);
        }
    }
    for (a, &x) in acc.iter_mut().zip(rest) {
        *a = a.max(x);
    }
    acc.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v))
}

multiversion! {
    /// In place, for rows `stride` floats apart: the first `cols` values
    /// of each row ← their softmax; the rest of the row (padding, so the
    /// loops run on whole vectors) ← 0.
    #[cfg_attr(not(test), allow(dead_code))] // the attention calls the body directly
    pub fn softmax_rows(xs: &mut [f32], stride: usize, cols: usize) {
        softmax_body::<M>(xs, stride, cols)
    }
}

/// `softmax_rows`'s body, for the kernels that call it.
#[inline(always)]
fn softmax_body<M: MulAdd>(xs: &mut [f32], stride: usize, cols: usize) {
        for row in xs.chunks_exact_mut(stride) {
            row[cols..].fill(f32::NEG_INFINITY);
            let max = lane_max(row);
            for v in row.iter_mut() {
                *v = exp_nonpositive::<M>(*v - max);
            }
            row[cols..].fill(0.0);
            let inv = 1.0 / lane_sum(row, |v| v);
            for v in row.iter_mut() {
                *v *= inv;
            }
        }
}

multiversion! {
    /// In place: each row of `gamma.len()` values ← layer_norm(row).
    pub fn layer_norm_rows(xs: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
        let n = gamma.len();
        for row in xs.chunks_exact_mut(n) {
            let mean = lane_sum(row, |v| v) / n as f32;
            let var = lane_sum(row, |v| (v - mean) * (v - mean)) / n as f32;
            let inv = 1.0 / (var + eps).sqrt();
            for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
                *v = (*v - mean) * inv * g + b;
            }
        }
    }
}

multiversion! {
    /// In place: each row of `gamma.len()` values ← gamma · row / √(mean(row²)
    /// + eps), as transformers' RMSNorm (Qwen3's weight; Gemma's `1 +
    /// weight`, added once when packing).
    pub fn rms_norm_rows(xs: &mut [f32], gamma: &[f32], eps: f32) {
        let n = gamma.len();
        for row in xs.chunks_exact_mut(n) {
            let mean_square = lane_sum(row, |v| v * v) / n as f32;
            let inv = 1.0 / (mean_square + eps).sqrt();
            for (v, g) in row.iter_mut().zip(gamma) {
                *v = g * (*v * inv);
            }
        }
    }
}

multiversion! {
    /// One attention head of one text: `context = softmax(q·kᵀ · scale) · v`.
    /// `qkv` holds the text's `len` rows of q | k | v (each `hidden` wide,
    /// rows `3·hidden` apart); the head's `d` columns start at `offset`
    /// within each. `scores` ([`QUERY_BLOCK`] × stride, stride ≥ len a
    /// multiple of 16: the score rows of one block of queries at a time)
    /// and `kt` (d × stride) are scratch; the result goes to `out` (len × d).
    /// With `relative` (2·len − 1 values, MPNet's position bias of this
    /// head by key − query offset, offset 0 at `len − 1`), score (i, j)
    /// gets `relative[len − 1 − i + j]` added after scaling. With `window`,
    /// keys further than it from the query are masked (|i − j| > window);
    /// `causal` masks the keys after the query (j > i); both together
    /// leave i − window ≤ j ≤ i.
    pub fn attend_head(qkv: &[f32], len: usize, hidden: usize, offset: usize, d: usize, scale: f32, relative: Option<&[f32]>, window: Option<usize>, causal: bool, scores: &mut [f32], stride: usize, kt: &mut [f32], out: &mut [f32]) {
        debug_assert!(stride % BLOCK == 0 && stride >= len);
        let row = 3 * hidden;
        // The head's rows of k, q and v are a few cache lines each, 3·hidden
        // floats apart, mostly no longer in this core's caches: ask for all
        // of them at once, so that their latencies overlap instead of adding
        // up one short row at a time.
        for part in [hidden, 0, 2 * hidden] {
            for j in 0..len {
                let at = j * row + part + offset;
                for c in (0..d).step_by(16).chain([d - 1]) {
                    prefetch(&qkv[at + c]);
                }
            }
        }
        // kᵀ, rows padded with zeros to whole blocks of `BLOCK` columns, so
        // that scores are computed in register blocks with no remainder.
        let kt = &mut kt[..d * stride];
        kt.fill(0.0);
        for j in 0..len {
            let k = &qkv[j * row + hidden + offset..][..d];
            for (dd, &v) in k.iter().enumerate() {
                kt[dd * stride + j] = v;
            }
        }
        // Queries in blocks of ROWS, each against the keys it can see: all
        // of them, or with a sliding window only the blocks of keys within
        // `w` of one of its queries (the rest of its score rows are never
        // computed nor read), so a long text costs len · window, not len².
        let band = window.filter(|&w| w + 1 < len);
        let v = &qkv[2 * hidden + offset..];
        let mut i = 0;
        while i < len {
            let rows = ROWS.min(len - i);
            let (lo, hi) = match band {
                Some(w) => (i.saturating_sub(w) / BLOCK * BLOCK, (i + rows + w).min(len)),
                None => (0, len),
            };
            // Causal: no key after the block's last query is ever seen.
            let hi = if causal { hi.min(i + rows) } else { hi };
            // How far after the query keys are seen (`None`: all of them).
            let after = if causal { Some(0) } else { band };
            for j0 in (lo..hi).step_by(BLOCK) {
                match rows {
                    4 => score_block::<M, 4>(qkv, row, offset, d, i, kt, stride, j0, scale, scores),
                    3 => score_block::<M, 3>(qkv, row, offset, d, i, kt, stride, j0, scale, scores),
                    2 => score_block::<M, 2>(qkv, row, offset, d, i, kt, stride, j0, scale, scores),
                    _ => score_block::<M, 1>(qkv, row, offset, d, i, kt, stride, j0, scale, scores),
                }
            }
            // lo is a whole block and hi ≤ len ≤ stride: the rows' spans
            // lo..lo + width stay within their rows of `scores` (row r − i:
            // the block's rows, from the first).
            let width = (hi - lo).next_multiple_of(BLOCK);
            for r in i..i + rows {
                let s = &mut scores[(r - i) * stride + lo..][..width];
                if let Some(relative) = relative {
                    for (v, b) in s[..hi - lo].iter_mut().zip(&relative[len - 1 - r + lo..][..hi - lo]) {
                        *v += b;
                    }
                }
                // Keys further than `w` from the query, or after it when
                // causal, get no weight (the diagonal always stays, so no
                // row is all masked).
                if let Some(w) = band {
                    s[..r.saturating_sub(w).saturating_sub(lo)].fill(f32::NEG_INFINITY);
                }
                if let Some(w) = after {
                    s[(r + w + 1).min(hi) - lo..hi - lo].fill(f32::NEG_INFINITY);
                }
                softmax_body::<M>(s, width, hi - lo);
            }
            let mut c0 = 0;
            while c0 + BLOCK <= d {
                match rows {
                    4 => value_block::<M, 4>(v, row, (lo, hi), i, c0, d, scores, stride, out),
                    3 => value_block::<M, 3>(v, row, (lo, hi), i, c0, d, scores, stride, out),
                    2 => value_block::<M, 2>(v, row, (lo, hi), i, c0, d, scores, stride, out),
                    _ => value_block::<M, 1>(v, row, (lo, hi), i, c0, d, scores, stride, out),
                }
                c0 += BLOCK;
            }
            // Head widths that are not a multiple of the block (none of the
            // usual models): the last columns one at a time.
            for r in i..i + rows {
                let p = &scores[(r - i) * stride + lo..][..hi - lo];
                for c in c0..d {
                    let mut acc = 0f32;
                    for (j, &pj) in (lo..hi).zip(p) {
                        acc = M::mul_add(pj, v[j * row + c], acc);
                    }
                    out[r * d + c] = acc;
                }
            }
            i += rows;
        }
    }
}

/// Asks for the cache line holding `x` (a hint; never faults).
#[inline(always)]
fn prefetch(x: &f32) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing architecturally and cannot fault;
    // SSE, which provides it, is part of every x86_64 CPU.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>((x as *const f32).cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// Rows of a register block in the attention (queries, or output rows).
const ROWS: usize = 4;
/// Score rows `attend_head` needs at once: one block of queries.
pub(super) const QUERY_BLOCK: usize = ROWS;
/// Columns of a register block in the attention (keys, or value columns).
const BLOCK: usize = 16;

/// Scores of queries `i0..i0 + R` against keys `j0..j0 + BLOCK`, summed
/// over the head's `d` dimensions in registers, then scaled, into rows
/// `0..R` of `scores`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn score_block<M: MulAdd, const R: usize>(qkv: &[f32], row: usize, offset: usize, d: usize, i0: usize, kt: &[f32], stride: usize, j0: usize, scale: f32, scores: &mut [f32]) {
    let q: [&[f32]; R] = std::array::from_fn(|r| &qkv[(i0 + r) * row + offset..][..d]);
    let mut acc = [[0f32; BLOCK]; R];
    for dd in 0..d {
        let k: &[f32; BLOCK] = kt[dd * stride + j0..][..BLOCK].try_into().expect("a block");
        for r in 0..R {
            let qv = q[r][dd];
            for c in 0..BLOCK {
                acc[r][c] = M::mul_add(qv, k[c], acc[r][c]);
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        let s: &mut [f32; BLOCK] = (&mut scores[r * stride + j0..][..BLOCK]).try_into().expect("a block");
        for c in 0..BLOCK {
            s[c] = acc[c] * scale;
        }
    }
}

/// Output rows `i0..i0 + R`, columns `c0..c0 + BLOCK`: Σ_j p(i, j) · v(j),
/// summed in registers over the keys `lo..hi` (the rows' probabilities of
/// those keys: rows `0..R` of `scores`, from column `lo`).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn value_block<M: MulAdd, const R: usize>(v: &[f32], row: usize, (lo, hi): (usize, usize), i0: usize, c0: usize, d: usize, scores: &[f32], stride: usize, out: &mut [f32]) {
    let p: [&[f32]; R] = std::array::from_fn(|r| &scores[r * stride + lo..][..hi - lo]);
    let mut acc = [[0f32; BLOCK]; R];
    for (jj, j) in (lo..hi).enumerate() {
        let vj: &[f32; BLOCK] = v[j * row + c0..][..BLOCK].try_into().expect("a block");
        for r in 0..R {
            let pj = p[r][jj];
            for c in 0..BLOCK {
                acc[r][c] = M::mul_add(pj, vj[c], acc[r][c]);
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        out[(i0 + r) * d + c0..][..BLOCK].copy_from_slice(acc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_is_within_half_a_micro_of_the_exact_value() {
        let mut worst = 0f64;
        for i in -60_000..=60_000 {
            let x = i as f32 * 1e-4;
            worst = worst.max((erf::<Fused>(x) as f64 - candle_core::cpu::erf::erf_f64(x as f64)).abs());
        }
        assert!(worst < 5e-7, "max |erf error| {worst}");
        let mut worst = 0f64;
        for i in -60_000..=60_000 {
            let x = i as f32 * 1e-4;
            worst = worst.max((erf::<Separate>(x) as f64 - candle_core::cpu::erf::erf_f64(x as f64)).abs());
        }
        assert!(worst < 1e-6, "max |erf error| without FMA {worst}");
    }

    #[test]
    fn exp_is_within_a_few_ulps() {
        for i in 0..=86_900 {
            let x = -(i as f32) * 1e-3;
            let (got, want) = (exp_nonpositive::<Fused>(x) as f64, (x as f64).exp());
            assert!((got - want).abs() <= 4.0 * f32::EPSILON as f64 * want, "exp({x}) = {got}, want {want}");
            let (got, want) = (exp_nonpositive::<Separate>(x) as f64, (x as f64).exp());
            assert!((got - want).abs() <= 4.0 * f32::EPSILON as f64 * want, "exp({x}) = {got}, want {want}");
        }
    }

    #[test]
    fn gelu_matches_the_erf_definition() {
        let mut xs: Vec<f32> = (-800..=800).map(|i| i as f32 * 0.01).collect();
        let want: Vec<f64> =
            xs.iter().map(|&x| 0.5 * x as f64 * (1.0 + candle_core::cpu::erf::erf_f64(x as f64 / 2f64.sqrt()))).collect();
        gelu_erf(&mut xs);
        for (g, w) in xs.iter().zip(&want) {
            assert!((*g as f64 - w).abs() < 2e-6, "{g} vs {w}");
        }
    }

    #[test]
    fn attention_heads_match_a_plain_softmax_on_awkward_shapes() {
        let mut seed = 7u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            (seed % 2001) as f32 / 500.0 - 2.0
        };
        for (len, d, heads) in [(1usize, 32usize, 2usize), (5, 32, 3), (17, 64, 2), (23, 32, 12), (33, 24, 2), (40, 16, 1)] {
            let hidden = d * heads;
            let qkv: Vec<f32> = (0..len * 3 * hidden).map(|_| next()).collect();
            let stride = len.next_multiple_of(16);
            let scale = 1.0 / (d as f32).sqrt();
            let bias: Vec<f32> = (0..2 * len - 1).map(|_| next()).collect();
            let cases = (0..heads).flat_map(|h| {
                [(h, None, None, false), (h, Some(&bias[..]), None, false), (h, None, Some(4usize), false), (h, None, Some(0), false)]
                    .into_iter()
                    .chain([(h, None, None, true), (h, None, Some(3usize), true), (h, None, Some(0), true)])
            });
            for (head, relative, window, causal) in cases {
                let (mut scores, mut kt, mut out) = (vec![0f32; QUERY_BLOCK * stride], vec![0f32; d * stride], vec![f32::NAN; len * d]);
                attend_head(&qkv, len, hidden, head * d, d, scale, relative, window, causal, &mut scores, stride, &mut kt, &mut out);
                let seen = |i: usize, j: usize| window.map_or(true, |w| i.abs_diff(j) <= w) && (!causal || j <= i);
                let at = |i: usize, part: usize, c: usize| qkv[i * 3 * hidden + part * hidden + head * d + c] as f64;
                let b = |i: usize, j: usize| relative.map_or(0.0, |r| r[len - 1 - i + j] as f64);
                for i in 0..len {
                    let s: Vec<f64> = (0..len).map(|j| (0..d).map(|c| at(i, 0, c) * at(j, 1, c)).sum::<f64>() * scale as f64 + b(i, j)).collect();
                    let max = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let e: Vec<f64> = s.iter().enumerate().map(|(j, v)| if seen(i, j) { (v - max).exp() } else { 0.0 }).collect();
                    let total: f64 = e.iter().sum();
                    for c in 0..d {
                        let want: f64 = (0..len).map(|j| e[j] / total * at(j, 2, c)).sum();
                        let got = out[i * d + c] as f64;
                        assert!((got - want).abs() < 1e-5, "len {len} d {d} head {head} bias {} window {window:?} causal {causal} ({i},{c}): {got} vs {want}", relative.is_some());
                    }
                }
            }
        }
    }

    #[test]
    fn softmax_and_layer_norm_rows() {
        let mut s = vec![1.0, 2.0, 3.0, 7.0, -1e9, 0.0, 0.0, 7.0];
        softmax_rows(&mut s, 4, 3);
        assert_eq!((s[3], s[7]), (0.0, 0.0), "padding");
        s.remove(3);
        let e: f32 = (1f32).exp() + (2f32).exp() + (3f32).exp();
        assert!((s[2] - (3f32).exp() / e).abs() < 1e-6);
        assert!(s[3] < 1e-30);
        assert!((s[4] - 0.5).abs() < 1e-6);
        let mut long: Vec<f32> = (0..37).map(|i| i as f32 * 0.1).collect();
        long.extend([5.0; 11]);
        softmax_rows(&mut long, 48, 37);
        let total: f32 = long[..37].iter().sum();
        assert!((total - 1.0).abs() < 1e-6 && long[37..].iter().all(|&v| v == 0.0));
        assert!((long[36] / long[35] - 0.1f32.exp()).abs() < 1e-5);
        let mut x = vec![1.0, 2.0, 3.0, 4.0];
        layer_norm_rows(&mut x, &[1.0, 1.0], &[0.0, 0.5], 0.0);
        assert_eq!(x, vec![-1.0, 1.5, -1.0, 1.5]);
        let mut x = vec![3.0, -4.0, 0.0, 2.0];
        rms_norm_rows(&mut x, &[1.0, 2.0], 0.0);
        let r = (12.5f32).sqrt();
        assert!((x[0] - 3.0 / r).abs() < 1e-6 && (x[1] + 8.0 / r).abs() < 1e-6, "{x:?}");
        assert!((x[2]).abs() < 1e-6 && (x[3] - 2.0 * 2.0 / 2f32.sqrt()).abs() < 1e-6, "{x:?}");
    }

    #[test]
    fn silu_matches_its_definition() {
        let xs: Vec<f32> = (-400..=400).map(|i| i as f32 * 0.05).chain([-90.0, -1e4, 90.0, 0.0]).collect();
        let mut got = xs.clone();
        silu(&mut got);
        for (x, g) in xs.iter().zip(&got) {
            let want = *x as f64 / (1.0 + (-*x as f64).exp());
            assert!((*g as f64 - want).abs() <= 1e-6 * want.abs().max(1.0), "silu({x}) = {g}, want {want}");
        }
    }
}
