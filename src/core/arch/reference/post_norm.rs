//! The reference forward pass, in plain candle tensor ops over a padded
//! batch with an attention mask, as Hugging Face computes it. Slower than
//! the packed CPU engine (`crate::core::cpu`); kept as the readable
//! definition the fast path is tested against.

use candle_core::{DType, Device, Result, Tensor};
use candle_nn::ops::{layer_norm, softmax_last_dim};

use crate::core::model::Activation;
use super::super::post_norm::{Dense, LayerWeights, Norm, RelativeBias, TransformerWeights};

fn linear(x: &Tensor, d: &Dense) -> Result<Tensor> {
    x.broadcast_matmul(&d.weight.t()?)?.broadcast_add(&d.bias)
}

fn norm(x: &Tensor, n: &Norm) -> Result<Tensor> {
    layer_norm(&x.contiguous()?, &n.gamma, &n.beta, n.eps as f32)
}

/// `input_ids`, `type_ids`: (batch, seq) u32; `mask`: (batch, seq) f32, 1
/// for real tokens, `None` when no row is padded. Returns (batch, seq, h).
pub(crate) fn forward(w: &TransformerWeights, input_ids: &Tensor, type_ids: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
    let (b, s) = input_ids.dims2()?;
    let h = w.hidden_size();
    // Position ids per row, as transformers numbers them (padding tokens included).
    let ids = input_ids.to_vec2::<u32>()?;
    let positions: Vec<u32> = ids.iter().flat_map(|row| super::super::post_norm::position_ids(row, w.position_offset).map(|p| p as u32)).collect();
    let positions = Tensor::from_vec(positions, (b, s), input_ids.device())?;
    let mut x = w.word.embedding(input_ids)?.reshape((b, s, h))?;
    if let Some(tt) = &w.token_type {
        x = x.add(&tt.embedding(&type_ids.flatten_all()?)?.reshape((b, s, h))?)?;
    }
    x = x.add(&w.position.embedding(&positions.flatten_all()?)?.reshape((b, s, h))?)?;
    x = norm(&x, &w.emb_norm)?;
    // (1 - mask) * f32::MIN as (batch, 1, 1, seq), as Hugging Face builds it.
    let mask_bias = mask
        .map(|m| (m.to_dtype(DType::F32)?.affine(-1.0, 1.0)? * f32::MIN as f64)?.reshape((b, 1, 1, s)))
        .transpose()?;
    // MPNet adds its relative position bias (1, heads, seq, seq) before the
    // mask; for real tokens the mask adds 0, so one sum is the same.
    let bias = match (relative_position_bias(w, s, input_ids.device())?, mask_bias) {
        (Some(p), Some(m)) => Some(p.broadcast_add(&m)?),
        (p, m) => p.or(m),
    };
    for layer in &w.layers {
        x = encoder_layer(layer, w.heads, w.act, &x, bias.as_ref())?;
    }
    Ok(x)
}

/// MPNet's `compute_position_bias`: the table's row for the bucket of
/// each (query, key) pair, as (1, heads, seq, seq); `None` without a table.
fn relative_position_bias(w: &TransformerWeights, s: usize, device: &Device) -> Result<Option<Tensor>> {
    let Some(RelativeBias { table, bucket }) = &w.relative_bias else { return Ok(None) };
    let buckets: Vec<u32> = (0..s).flat_map(|i| (0..s).map(move |j| bucket(j as i64 - i as i64) as u32)).collect();
    let buckets = Tensor::from_vec(buckets, s * s, device)?;
    let values = table.embedding(&buckets)?.reshape((s, s, w.heads))?;
    Ok(Some(values.permute((2, 0, 1))?.contiguous()?.unsqueeze(0)?))
}

fn encoder_layer(l: &LayerWeights, heads: usize, act: Activation, x: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    let (b, s, h) = x.dims3()?;
    let head_dim = h / heads;
    let qkv = linear(x, &l.qkv)?;
    let split = |i: usize| -> Result<Tensor> {
        qkv.narrow(2, i * h, h)?.reshape((b, s, heads, head_dim))?.transpose(1, 2)?.contiguous()
    };
    let (q, k, v) = (split(0)?, split(1)?, split(2)?);
    let mut scores = (q.matmul(&k.t()?)? * (1.0 / (head_dim as f64).sqrt()))?;
    if let Some(bias) = bias {
        scores = scores.broadcast_add(bias)?;
    }
    let context = softmax_last_dim(&scores)?.matmul(&v)?.transpose(1, 2)?.reshape((b, s, h))?;
    let attended = norm(&linear(&context, &l.attn_out)?.add(x)?, &l.attn_norm)?;
    let inner = act.apply(&linear(&attended, &l.ffn_in)?)?;
    norm(&linear(&inner, &l.ffn_out)?.add(&attended)?, &l.out_norm)
}
