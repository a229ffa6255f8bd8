//! The reference forward pass of the pre-norm decoder Qwen3 and Gemma3
//! share (`../decoder.rs`), in plain candle tensor ops over a padded batch
//! with an attention mask, as transformers 5's eager `Qwen3Model` and
//! `Gemma3TextModel` compute it: grouped-query heads repeated as
//! `repeat_kv` does, per-head q/k RMS norms, rotary positions, additive
//! masks (causal, sliding window, padding). The oracle the fast engine is
//! tested against. (candle-transformers' `qwen3` and `gemma3` are
//! generation models: causal masks only, a KV cache behind `&mut self`,
//! no padding mask, no bidirectional attention, no two-sided window.)

use candle_core::{DType, Device, Result, Tensor, D};
use candle_nn::ops::{rms_norm, softmax_last_dim};

use super::super::decoder::{DecoderWeights, Gate, Layer, LayerAttention, Linear};
use super::super::modernbert::inverse_frequencies;

fn linear(x: &Tensor, l: &Linear) -> Result<Tensor> {
    let y = x.broadcast_matmul(&l.weight.t()?)?;
    match &l.bias {
        Some(b) => y.broadcast_add(b),
        None => Ok(y),
    }
}

/// RMS norm over the last dimension, scale `offset + weight`.
fn norm(x: &Tensor, weight: &Tensor, offset: f32, eps: f64) -> Result<Tensor> {
    let scale = (weight + offset as f64)?;
    rms_norm(&x.contiguous()?, &scale, eps as f32)
}

/// cos and sin of `cat(freqs, freqs)` for positions 0..s, each (s, head_dim).
fn rotary(theta: f64, head_dim: usize, s: usize, device: &Device) -> Result<(Tensor, Tensor)> {
    let inv = Tensor::from_vec(inverse_frequencies(theta, head_dim), (1, head_dim / 2), device)?;
    let positions = Tensor::arange(0u32, s as u32, device)?.to_dtype(DType::F32)?.reshape((s, 1))?;
    let freqs = positions.broadcast_mul(&inv)?;
    let emb = Tensor::cat(&[&freqs, &freqs], D::Minus1)?;
    Ok((emb.cos()?, emb.sin()?))
}

fn rotate_half(x: &Tensor) -> Result<Tensor> {
    let half = x.dim(D::Minus1)? / 2;
    let (x1, x2) = (x.narrow(D::Minus1, 0, half)?, x.narrow(D::Minus1, half, half)?);
    Tensor::cat(&[&x2.neg()?, &x1], D::Minus1)
}

fn apply_rotary(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    x.broadcast_mul(cos)? + rotate_half(x)?.broadcast_mul(sin)?
}

/// The additive mask of a layer's pattern: 0 where query i sees key j,
/// f32::MIN elsewhere, as (1, 1, s, s).
fn pattern(a: LayerAttention, s: usize, device: &Device) -> Result<Tensor> {
    let seen = |i: usize, j: usize| (!a.causal || j <= i) && a.window.map_or(true, |w| i.abs_diff(j) <= w);
    let mask: Vec<f32> = (0..s).flat_map(|i| (0..s).map(move |j| if seen(i, j) { 0.0 } else { f32::MIN })).collect();
    Tensor::from_vec(mask, (1, 1, s, s), device)
}

/// `input_ids`: (batch, seq) u32; `mask`: (batch, seq) f32, 1 for real
/// tokens, `None` when no row is padded. Returns (batch, seq, h) after the
/// final norm.
pub(crate) fn forward(w: &DecoderWeights, input_ids: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
    let cfg = &w.config;
    let (b, s) = input_ids.dims2()?;
    let device = input_ids.device();
    let mut x = w.embed_tokens.embedding(input_ids)?.reshape((b, s, cfg.hidden))?;
    if let Some(scale) = cfg.embed_scale {
        x = (x * scale as f64)?;
    }
    // Padding: f32::MIN for padded keys, as (batch, 1, 1, seq).
    let padding = mask
        .map(|m| (m.to_dtype(DType::F32)?.affine(-1.0, 1.0)? * f32::MIN as f64)?.reshape((b, 1, 1, s)))
        .transpose()?;
    let d = cfg.heads.head_dim;
    let global = rotary(cfg.global_theta, d, s, device)?;
    let local = rotary(cfg.local_theta, d, s, device)?;
    for layer in &w.layers {
        let mut bias = pattern(layer.attention, s, device)?;
        if let Some(p) = &padding {
            // Both masks: f32::MIN + f32::MIN is -inf, still no weight.
            bias = bias.broadcast_add(p)?;
        }
        let rope = if layer.attention.local_rope { &local } else { &global };
        x = decoder_layer(layer, w, &x, &bias, rope)?;
    }
    norm(&x, &w.norm, cfg.norm_offset, cfg.eps)
}

fn decoder_layer(l: &Layer, w: &DecoderWeights, x: &Tensor, bias: &Tensor, (cos, sin): &(Tensor, Tensor)) -> Result<Tensor> {
    let cfg = &w.config;
    let (b, s, _) = x.dims3()?;
    let (heads, kv, d) = (cfg.heads.heads, cfg.heads.kv_heads, cfg.heads.head_dim);
    let rms = |x: &Tensor, weight: &Tensor| norm(x, weight, cfg.norm_offset, cfg.eps);
    let normed = rms(x, &l.attn_norm)?;
    let split = |t: Tensor, n: usize| -> Result<Tensor> { t.reshape((b, s, n, d)) };
    let q = rms(&split(linear(&normed, &l.q)?, heads)?, &l.q_norm)?.transpose(1, 2)?.contiguous()?;
    let k = rms(&split(linear(&normed, &l.k)?, kv)?, &l.k_norm)?.transpose(1, 2)?.contiguous()?;
    let v = split(linear(&normed, &l.v)?, kv)?.transpose(1, 2)?.contiguous()?;
    let (q, k) = (apply_rotary(&q, cos, sin)?, apply_rotary(&k, cos, sin)?);
    // repeat_kv: query head n reads key / value head n / (heads / kv).
    let repeat = |t: &Tensor| -> Result<Tensor> { t.unsqueeze(2)?.expand((b, kv, heads / kv, s, d))?.reshape((b, heads, s, d)) };
    let (k, v) = (repeat(&k)?, repeat(&v)?);
    let scores = (q.matmul(&k.t()?)? * cfg.scale as f64)?.broadcast_add(bias)?;
    let context = softmax_last_dim(&scores)?.matmul(&v)?.transpose(1, 2)?.reshape((b, s, heads * d))?;
    let mut attn = linear(&context, &l.o)?;
    if let Some(n) = &l.attn_out_norm {
        attn = rms(&attn, n)?;
    }
    let x = (x + attn)?;
    let y = rms(&x, &l.mlp_norm)?;
    let gate = y.broadcast_matmul(&l.gate.t()?)?;
    let up = y.broadcast_matmul(&l.up.t()?)?;
    let act = match cfg.gate {
        Gate::Silu => candle_nn::ops::silu(&gate)?,
        Gate::GeluTanh => gate.gelu()?,
    };
    let mut mlp = (act * up)?.broadcast_matmul(&l.down.t()?)?;
    if let Some(n) = &l.mlp_out_norm {
        mlp = rms(&mlp, n)?;
    }
    x + mlp
}
