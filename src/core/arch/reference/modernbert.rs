//! ModernBERT's reference forward pass, in plain candle tensor ops over a
//! padded batch with an attention mask, as transformers 5's eager
//! `ModernBertModel` computes it (see `arch/modernbert.rs` for
//! the architecture). The oracle the fast engine (`arch/modernbert.rs`) is
//! tested against.

use candle_core::{DType, Device, Result, Tensor, D};
use candle_nn::ops::{layer_norm, softmax_last_dim};

use super::super::modernbert::{inverse_frequencies, Layer, LayerKind, Linear, ModernBertWeights, Norm};

fn linear(x: &Tensor, l: &Linear) -> Result<Tensor> {
    let y = x.broadcast_matmul(&l.weight.t()?)?;
    match &l.bias {
        Some(b) => y.broadcast_add(b),
        None => Ok(y),
    }
}

fn norm(x: &Tensor, n: &Norm) -> Result<Tensor> {
    let beta = match &n.beta {
        Some(b) => b.clone(),
        None => n.gamma.zeros_like()?,
    };
    layer_norm(&x.contiguous()?, &n.gamma, &beta, n.eps as f32)
}

/// cos and sin of `cat(freqs, freqs)` for positions 0..s, each (s, head_dim).
fn rotary(theta: f64, head_dim: usize, s: usize, device: &Device) -> Result<(Tensor, Tensor)> {
    let inv = inverse_frequencies(theta, head_dim);
    let inv = Tensor::from_vec(inv, (1, head_dim / 2), device)?;
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

/// `input_ids`: (batch, seq) u32; `mask`: (batch, seq) f32, 1 for real
/// tokens, `None` when no row is padded. Returns (batch, seq, h) after the
/// final norm.
pub(crate) fn forward(w: &ModernBertWeights, input_ids: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
    let cfg = &w.config;
    let (b, s) = input_ids.dims2()?;
    let device = input_ids.device();
    let mut x = w.tok_embeddings.embedding(input_ids)?.reshape((b, s, cfg.hidden))?;
    x = norm(&x, &w.emb_norm)?;
    // Padding: (1 - mask) · f32::MIN as (batch, 1, 1, seq).
    let padding = mask
        .map(|m| (m.to_dtype(DType::F32)?.affine(-1.0, 1.0)? * f32::MIN as f64)?.reshape((b, 1, 1, s)))
        .transpose()?;
    // The sliding window: f32::MIN where |i − j| > window, as (1, 1, seq, seq).
    let window: Vec<f32> = (0..s)
        .flat_map(|i| (0..s).map(move |j| if i.abs_diff(j) > cfg.window { f32::MIN } else { 0.0 }))
        .collect();
    let window = Tensor::from_vec(window, (1, 1, s, s), device)?;
    let sliding = match &padding {
        Some(p) => window.broadcast_add(p)?,
        None => window,
    };
    let global_rope = rotary(cfg.global_theta, cfg.head_dim(), s, device)?;
    let local_rope = rotary(cfg.local_theta, cfg.head_dim(), s, device)?;
    for layer in &w.layers {
        let (bias, rope) = match layer.kind {
            LayerKind::Global => (padding.as_ref(), &global_rope),
            LayerKind::Sliding => (Some(&sliding), &local_rope),
        };
        x = encoder_layer(layer, w, &x, bias, rope)?;
    }
    norm(&x, &w.final_norm)
}

fn encoder_layer(l: &Layer, w: &ModernBertWeights, x: &Tensor, bias: Option<&Tensor>, (cos, sin): &(Tensor, Tensor)) -> Result<Tensor> {
    let cfg = &w.config;
    let (b, s, h) = x.dims3()?;
    let (heads, d) = (cfg.heads, cfg.head_dim());
    let normed = match &l.attn_norm {
        Some(n) => norm(x, n)?,
        None => x.clone(),
    };
    let qkv = linear(&normed, &l.wqkv)?;
    let split = |i: usize| -> Result<Tensor> { qkv.narrow(2, i * h, h)?.reshape((b, s, heads, d))?.transpose(1, 2)?.contiguous() };
    let (q, k, v) = (split(0)?, split(1)?, split(2)?);
    let (q, k) = (apply_rotary(&q, cos, sin)?, apply_rotary(&k, cos, sin)?);
    let mut scores = (q.matmul(&k.t()?)? * (1.0 / (d as f64).sqrt()))?;
    if let Some(bias) = bias {
        scores = scores.broadcast_add(bias)?;
    }
    let context = softmax_last_dim(&scores)?.matmul(&v)?.transpose(1, 2)?.reshape((b, s, h))?;
    let x = (x + linear(&context, &l.wo)?)?;
    let inner = linear(&norm(&x, &l.mlp_norm)?, &l.wi)?;
    let i = inner.dim(2)? / 2;
    let (input, gate) = (inner.narrow(2, 0, i)?, inner.narrow(2, i, i)?);
    let gated = (cfg.act.apply(&input)? * gate)?;
    x + linear(&gated, &l.mlp_wo)?
}
