//! The shared building blocks of the fast engine's architectures
//! (`crate::core::arch`): packed linear layers, layer norms (with or
//! without bias), RMS norms, activations (plain and gated: GeGLU, SwiGLU),
//! rotary position embeddings and per-text self-attention (with an
//! optional relative position bias, rotary positions, a sliding window, a
//! causal mask, and grouped-query heads with per-head q/k norms). Each works on
//! plain f32 buffers, texts packed end to end, and runs its parallel steps
//! on the pass's threads.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::config::CpuPath;
use crate::core::precision::Precision;
use super::kernels;
use super::scratch;
use super::matmul::{Activation as ElementWise, PackedLinear};
use super::team::Pass;
use crate::core::model::Activation;

/// Element-wise work is split into chunks of about this many floats.
pub(crate) const PAR_CHUNK: usize = 1 << 14;

pub(crate) fn to_vec(t: &candle_core::Tensor) -> candle_core::Result<Vec<f32>> {
    t.flatten_all()?.to_vec1::<f32>()
}

/// How linear layers are packed: every [`Linear`] is built from one of
/// these, so that packing options live in one place.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Packing {
    pub path: CpuPath,
    /// The number format of the weights and the products' inputs.
    pub precision: Precision,
}

/// A linear layer, packed for the process's CPU path in the model's precision.
pub(crate) struct Linear(PackedLinear);

impl Linear {
    /// The one constructor: `weight` (out × in) as PyTorch stores it,
    /// `bias` (out) or none (zeros).
    pub fn new(packing: Packing, weight: &candle_core::Tensor, bias: Option<&candle_core::Tensor>) -> candle_core::Result<Self> {
        let (outputs, inputs) = weight.dims2()?;
        let bias = match bias {
            Some(b) => to_vec(b)?,
            None => vec![0f32; outputs],
        };
        Ok(Self(PackedLinear::new(packing.path, packing.precision, &to_vec(weight)?, &bias, outputs, inputs)))
    }

    /// `act(x (rows × in) · weightᵀ + bias + base)` (rows × out), where
    /// `base` is the residual input, if any.
    pub fn forward(&self, x: &[f32], base: Option<&[f32]>, act: Option<ElementWise>, pass: &Pass) -> Vec<f32> {
        self.0.forward(x, base, act, pass)
    }
}

/// A layer norm over rows of `gamma.len()` floats; `beta` zero when the
/// model has no norm bias.
pub(crate) struct LayerNorm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
    eps: f32,
}

impl LayerNorm {
    pub fn new(gamma: &candle_core::Tensor, beta: Option<&candle_core::Tensor>, eps: f64) -> candle_core::Result<Self> {
        let gamma = to_vec(gamma)?;
        let beta = match beta {
            Some(b) => to_vec(b)?,
            None => vec![0f32; gamma.len()],
        };
        Ok(Self { gamma, beta, eps: eps as f32 })
    }

    pub fn apply(&self, xs: &mut [f32], pass: &Pass) {
        let h = self.gamma.len();
        let rows = xs.len() / h;
        let threads = if xs.len() >= PAR_CHUNK { pass.threads() } else { 1 };
        if threads == 1 {
            return kernels::layer_norm_rows(xs, &self.gamma, &self.beta, self.eps);
        }
        let out = SharedMut(xs.as_mut_ptr());
        pass.run(&|t| {
            let (first, end) = (t * rows / threads, (t + 1) * rows / threads);
            // SAFETY: thread t alone touches rows first..end of xs, which
            // outlives the step.
            let mine = unsafe { std::slice::from_raw_parts_mut(out.get().add(first * h), (end - first) * h) };
            kernels::layer_norm_rows(mine, &self.gamma, &self.beta, self.eps);
        });
    }
}

/// An RMS norm over rows of `gamma.len()` floats (transformers' Qwen3 /
/// Gemma3 RMSNorm; for Gemma, built with `offset` 1: its scale is `1 +
/// weight`).
pub(crate) struct RmsNorm {
    gamma: Vec<f32>,
    eps: f32,
}

impl RmsNorm {
    /// `gamma` + `offset` (0, or 1 for Gemma's `1 + weight`, computed in
    /// f32 as transformers does).
    pub fn new(weight: &candle_core::Tensor, offset: f32, eps: f64) -> candle_core::Result<Self> {
        let gamma = to_vec(weight)?.into_iter().map(|w| offset + w).collect();
        Ok(Self { gamma, eps: eps as f32 })
    }

    /// Each row of `xs` (rows of `gamma.len()` floats), in place.
    pub fn apply(&self, xs: &mut [f32], pass: &Pass) {
        let h = self.gamma.len();
        let rows = xs.len() / h;
        let threads = if xs.len() >= PAR_CHUNK { pass.threads().min(rows.max(1)) } else { 1 };
        if threads == 1 {
            return kernels::rms_norm_rows(xs, &self.gamma, self.eps);
        }
        let out = SharedMut(xs.as_mut_ptr());
        pass.run(&|t| {
            if t < threads {
                let (first, end) = (t * rows / threads, (t + 1) * rows / threads);
                // SAFETY: thread t alone touches rows first..end of xs, which
                // outlives the step.
                let mine = unsafe { std::slice::from_raw_parts_mut(out.get().add(first * h), (end - first) * h) };
                kernels::rms_norm_rows(mine, &self.gamma, self.eps);
            }
        });
    }

    /// Just these rows, on this thread.
    fn apply_here(&self, xs: &mut [f32]) {
        kernels::rms_norm_rows(xs, &self.gamma, self.eps);
    }
}

/// The in-place element-wise kernel for an activation.
pub(crate) fn activation(act: Activation) -> ElementWise {
    match act {
        Activation::GeluErf => kernels::gelu_erf,
        Activation::Relu => kernels::relu,
        Activation::GeluTanh => gelu_tanh,
    }
}

/// The tanh approximation (`gelu_new`), for models that ask for it.
fn gelu_tanh(xs: &mut [f32]) {
    const C: f32 = 0.797_884_6; // √(2/π)
    for x in xs {
        let v = *x;
        *x = 0.5 * v * (1.0 + (C * (v + 0.044_715 * v * v * v)).tanh());
    }
}

/// A gated linear unit's second half: `x (rows × 2i)`, each row `input |
/// gate`, becomes `act(input) · gate` (rows × i), as transformers'
/// `input, gate = Wi(x).chunk(2)`; `act(input) * gate` computes it.
pub(crate) fn gated(x: &[f32], inner: usize, act: Activation, pass: &Pass) -> Vec<f32> {
    gated_with(x, inner, activation(act), pass)
}

/// A decoder's gated feed-forward activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Gate {
    /// SwiGLU: `silu(gate) · up` (Qwen3).
    Silu,
    /// GeGLU with the tanh GeLU: `gelu_tanh(gate) · up` (Gemma3).
    GeluTanh,
}

/// A decoder's feed-forward middle (`act_fn(gate_proj(x)) * up_proj(x)`,
/// the two projections packed as one: rows `gate | up`).
pub(crate) fn gated_by(x: &[f32], inner: usize, gate: Gate, pass: &Pass) -> Vec<f32> {
    let act: ElementWise = match gate {
        Gate::Silu => kernels::silu,
        Gate::GeluTanh => gelu_tanh,
    };
    gated_with(x, inner, act, pass)
}

/// [`gated`] with any element-wise kernel.
fn gated_with(x: &[f32], inner: usize, act: ElementWise, pass: &Pass) -> Vec<f32> {
    let rows = x.len() / (2 * inner);
    let mut out = vec![0f32; rows * inner];
    let work = |first: usize, end: usize, out: &mut [f32]| {
        for (r, o) in (first..end).zip(out.chunks_exact_mut(inner)) {
            let row = &x[r * 2 * inner..][..2 * inner];
            o.copy_from_slice(&row[..inner]);
            act(o);
            for (v, g) in o.iter_mut().zip(&row[inner..]) {
                *v *= g;
            }
        }
    };
    let threads = if x.len() >= PAR_CHUNK { pass.threads().min(rows.max(1)) } else { 1 };
    if threads == 1 {
        work(0, rows, &mut out);
        return out;
    }
    let dst = SharedMut(out.as_mut_ptr());
    pass.run(&|t| {
        if t < threads {
            let (first, end) = (t * rows / threads, (t + 1) * rows / threads);
            // SAFETY: thread t alone writes rows first..end of `out`, which
            // outlives the step.
            let mine = unsafe { std::slice::from_raw_parts_mut(dst.get().add(first * inner), (end - first) * inner) };
            work(first, end, mine);
        }
    });
    out
}

/// Rotary position embeddings (`rotate_half` form, as transformers'
/// `apply_rotary_pos_emb`): cos and sin of `position · inv_freq` for
/// positions 0..longest, computed once per pass.
pub(crate) struct Rotary {
    /// head_dim / 2 frequencies.
    inv_freq: Vec<f32>,
}

impl Rotary {
    /// From the head_dim / 2 inverse frequencies.
    pub fn new(inv_freq: Vec<f32>) -> Self {
        Self { inv_freq }
    }

    /// (cos, sin), each `longest × head_dim / 2`.
    pub fn table(&self, longest: usize) -> RotaryTable {
        let half = self.inv_freq.len();
        let (mut cos, mut sin) = (Vec::with_capacity(longest * half), Vec::with_capacity(longest * half));
        for p in 0..longest {
            for &f in &self.inv_freq {
                // transformers: position (f32) × inv_freq (f32), then cos/sin.
                let angle = (p as f32 * f) as f64;
                cos.push(angle.cos() as f32);
                sin.push(angle.sin() as f32);
            }
        }
        RotaryTable { cos, sin, half }
    }
}

pub(crate) struct RotaryTable {
    cos: Vec<f32>,
    sin: Vec<f32>,
    half: usize,
}

impl RotaryTable {
    /// Rotates one head's `x` (head_dim floats) of the token at `position`.
    #[inline]
    fn rotate(&self, x: &mut [f32], position: usize) {
        let half = self.half;
        let (cos, sin) = (&self.cos[position * half..][..half], &self.sin[position * half..][..half]);
        let (a, b) = x.split_at_mut(half);
        for i in 0..half {
            let (x1, x2) = (a[i], b[i]);
            a[i] = x1 * cos[i] - x2 * sin[i];
            b[i] = x2 * cos[i] + x1 * sin[i];
        }
    }
}

/// What an architecture adds to plain scaled dot-product attention.
#[derive(Clone, Copy, Default)]
pub(crate) struct AttentionOptions<'a> {
    /// MPNet: see [`relative_bias_by_offset`].
    pub relative: Option<&'a [f32]>,
    /// Rotary positions applied to q and k (positions from 0 in each text).
    pub rotary: Option<&'a RotaryTable>,
    /// Keys further than this from the query (|i − j| > window) are masked.
    pub window: Option<usize>,
    /// Keys after the query (j > i) are masked (decoders).
    pub causal: bool,
    /// The scores' scale, when not 1/√head_dim (Gemma's
    /// `query_pre_attn_scalar^-0.5`).
    pub scale: Option<f32>,
}

/// A raw pointer that may cross into parallel steps writing disjoint regions.
#[derive(Clone, Copy)]
pub(crate) struct SharedMut(*mut f32);
// SAFETY: every thread writes a region no other touches (see its users).
unsafe impl Send for SharedMut {}
unsafe impl Sync for SharedMut {}

impl SharedMut {
    /// (A method, so closures capture the whole wrapper, not the bare pointer.)
    pub fn get(self) -> *mut f32 {
        self.0
    }
}

/// MPNet: per head, the bias of every key − query offset from
/// −(longest − 1) to longest − 1 (offset 0 at `longest − 1`), computed once
/// per pass from the table (buckets × heads) and shared by the layers.
pub(crate) fn relative_bias_by_offset(table: &[f32], heads: usize, longest: usize, bucket: impl Fn(i64) -> usize) -> Vec<f32> {
    let width = (2 * longest).saturating_sub(1);
    let mut out = vec![0f32; heads * width];
    for (k, column) in (0..width).map(|k| (k, bucket(k as i64 - longest as i64 + 1))) {
        for head in 0..heads {
            out[head * width + k] = table[column * heads + head];
        }
    }
    out
}

/// Self-attention of each text on its own tokens, one task per (text,
/// head), claimed by the threads one at a time: softmax(q·kᵀ/√d + options)·v
/// written into the text's rows and the head's columns of the context
/// (total × hidden). `qkv`: total × 3·hidden (q | k | v per row); with
/// rotary positions it is rotated in place first.
pub(crate) fn attention(qkv: &mut [f32], lens: &[usize], hidden: usize, heads: usize, options: AttentionOptions, pass: &Pass) -> Vec<f32> {
    let (h, d) = (hidden, hidden / heads);
    let total: usize = lens.iter().sum();
    let starts: Vec<usize> = lens.iter().scan(0, |acc, &l| Some(std::mem::replace(acc, *acc + l))).collect();
    if let Some(rotary) = options.rotary {
        rotate_qk(qkv, lens, h, d, rotary, pass);
    }
    let qkv: &[f32] = qkv;
    let mut context = scratch::zeros(total * h);
    let out = SharedMut(context.as_mut_ptr());
    let tasks: Vec<(usize, usize)> = (0..lens.len()).flat_map(|t| (0..heads).map(move |hd| (t, hd))).collect();
    let threads = pass.threads();
    let longest = lens.iter().copied().max().unwrap_or(0);
    let scale = options.scale.unwrap_or(1.0 / (d as f32).sqrt());
    // Each thread claims the next task as it finishes one (texts differ in
    // length, and a thread may be slowed down by what shares its core).
    let next = AtomicUsize::new(0);
    let work = |_: usize| {
        // Scratch sized for the longest text, reused by this thread's tasks
        // (scores: one block of queries at a time).
        let stride = longest.next_multiple_of(16);
        let (mut scores, mut kt, mut head_out) = (vec![0f32; kernels::QUERY_BLOCK * stride], vec![0f32; d * stride], vec![0f32; longest * d]);
        while let Some(&(text, head)) = tasks.get(next.fetch_add(1, Ordering::Relaxed)) {
            let (start, len) = (starts[text], lens[text]);
            let block = &qkv[start * 3 * h..(start + len) * 3 * h];
            // Rows padded to whole vectors, for the softmax's loops.
            let stride = len.next_multiple_of(16);
            // This head's offsets −(len − 1)..=len − 1.
            let width = (2 * longest).saturating_sub(1);
            let relative = options.relative.map(|r| &r[head * width + longest - len..][..(2 * len).saturating_sub(1)]);
            kernels::attend_head(block, len, h, head * d, d, scale, relative, options.window, options.causal, &mut scores[..kernels::QUERY_BLOCK * stride], stride, &mut kt[..d * stride], &mut head_out[..len * d]);
            for (i, row) in head_out[..len * d].chunks_exact(d).enumerate() {
                // SAFETY: rows start..start+len, columns head·d..(head+1)·d
                // of the context are written by this task alone, and
                // `context` outlives the parallel step.
                unsafe { std::ptr::copy_nonoverlapping(row.as_ptr(), out.get().add((start + i) * h + head * d), d) };
            }
        }
    };
    if threads == 1 {
        work(0);
    } else {
        pass.run(&|t| work(t));
    }
    context
}

/// Applies the rotary positions to every head's q and k, in place.
fn rotate_qk(qkv: &mut [f32], lens: &[usize], h: usize, d: usize, rotary: &RotaryTable, pass: &Pass) {
    let total: usize = lens.iter().sum();
    // Each row's position within its text.
    let positions: Vec<usize> = lens.iter().flat_map(|&l| 0..l).collect();
    let work = |first: usize, rows: &mut [f32]| {
        for (r, row) in rows.chunks_exact_mut(3 * h).enumerate() {
            let p = positions[first + r];
            for head in row[..2 * h].chunks_exact_mut(d) {
                rotary.rotate(head, p);
            }
        }
    };
    let threads = if qkv.len() >= PAR_CHUNK { pass.threads().min(total.max(1)) } else { 1 };
    if threads == 1 {
        return work(0, qkv);
    }
    let base = SharedMut(qkv.as_mut_ptr());
    pass.run(&|t| {
        if t < threads {
            let (first, end) = (t * total / threads, (t + 1) * total / threads);
            // SAFETY: thread t alone touches rows first..end of qkv, which
            // outlives the step.
            let mine = unsafe { std::slice::from_raw_parts_mut(base.get().add(first * 3 * h), (end - first) * 3 * h) };
            work(first, mine);
        }
    });
}

/// The head layout of grouped-query attention: `heads` query heads sharing
/// `kv_heads` key / value heads (query head n reads key / value head
/// n / (heads / kv_heads), as transformers' `repeat_kv`), `head_dim` wide
/// each.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Heads {
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
}

impl Heads {
    /// Width of a row of the fused projection: q | k | v.
    pub fn qkv_width(&self) -> usize {
        (self.heads + 2 * self.kv_heads) * self.head_dim
    }
}

/// Grouped-query self-attention of each text on its own tokens (Qwen3,
/// Gemma3): `qkv` (total × `heads.qkv_width()`, each row q | k | v as one
/// fused projection gives it) → context (total × heads·head_dim). Each
/// head's q and k get their RMS norm (`q_norm`, `k_norm`: Qwen3's and
/// Gemma's per-head norms) before the rotary positions and the masks of
/// `options`.
pub(crate) fn grouped_query_attention(
    qkv: &[f32],
    lens: &[usize],
    heads: Heads,
    q_norm: Option<&RmsNorm>,
    k_norm: Option<&RmsNorm>,
    options: AttentionOptions,
    pass: &Pass,
) -> Vec<f32> {
    let Heads { heads: n, kv_heads, head_dim: d } = heads;
    let (width, wide) = (heads.qkv_width(), 3 * n * d);
    let group = n / kv_heads.max(1);
    let total: usize = lens.iter().sum();
    // The rows as plain attention takes them: q | k | v with a key and value
    // head for every query head (repeated per group), q and k normed.
    let mut expanded = scratch::zeros(total * wide);
    let work = |first: usize, out: &mut [f32]| {
        for (r, row) in out.chunks_exact_mut(wide).enumerate() {
            let src = &qkv[(first + r) * width..][..width];
            let (q, rest) = row.split_at_mut(n * d);
            let (k, v) = rest.split_at_mut(n * d);
            q.copy_from_slice(&src[..n * d]);
            if let Some(norm) = q_norm {
                norm.apply_here(q);
            }
            for g in 0..kv_heads {
                let (ks, vs) = (&src[(n + g) * d..][..d], &src[(n + kv_heads + g) * d..][..d]);
                for m in 0..group {
                    let at = (g * group + m) * d;
                    k[at..at + d].copy_from_slice(ks);
                    v[at..at + d].copy_from_slice(vs);
                }
                if let Some(norm) = k_norm {
                    norm.apply_here(&mut k[g * group * d..][..d]);
                    let (normed, rest) = k[g * group * d..(g + 1) * group * d].split_at_mut(d);
                    for copy in rest.chunks_exact_mut(d) {
                        copy.copy_from_slice(normed);
                    }
                }
            }
        }
    };
    let threads = if expanded.len() >= PAR_CHUNK { pass.threads().min(total.max(1)) } else { 1 };
    if threads == 1 {
        work(0, &mut expanded);
    } else {
        let base = SharedMut(expanded.as_mut_ptr());
        pass.run(&|t| {
            if t < threads {
                let (first, end) = (t * total / threads, (t + 1) * total / threads);
                // SAFETY: thread t alone writes rows first..end of
                // `expanded`, which outlives the step.
                let mine = unsafe { std::slice::from_raw_parts_mut(base.get().add(first * wide), (end - first) * wide) };
                work(first, mine);
            }
        });
    }
    let context = attention(&mut expanded, lens, n * d, n, options, pass);
    scratch::give(expanded);
    context
}
