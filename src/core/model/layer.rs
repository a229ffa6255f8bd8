//! The post-layer-norm transformer encoder layer shared by BERT, XLM-RoBERTa
//! and DistilBERT: self-attention (query/key/value fused into one matrix
//! multiply), residual + layer norm, feed-forward, residual + layer norm.
//! The architectures differ only in their embeddings and weight names.

use candle_core::{DType, Module, Result, Tensor};
use candle_nn::{LayerNorm, Linear, VarBuilder};

use super::config::{Activation, TransformerConfig};

/// Where one layer's weights live, relative to the layer's prefix.
pub(crate) struct LayerNames {
    pub query: &'static str,
    pub key: &'static str,
    pub value: &'static str,
    pub attn_out: &'static str,
    pub attn_norm: &'static str,
    pub ffn_in: &'static str,
    pub ffn_out: &'static str,
    pub out_norm: &'static str,
}

/// Loads a layer norm stored as `weight`/`bias` or, in older checkpoints,
/// `gamma`/`beta`.
pub(crate) fn layer_norm(vb: VarBuilder, size: usize, eps: f64) -> Result<LayerNorm> {
    let (w, b) = if vb.contains_tensor("weight") { ("weight", "bias") } else { ("gamma", "beta") };
    Ok(LayerNorm::new(vb.get(size, w)?, vb.get(size, b)?, eps))
}

/// A linear layer's (weight, bias), weight stored as (out, in) like PyTorch.
fn linear_parts(vb: VarBuilder, in_dim: usize, out_dim: usize) -> Result<(Tensor, Tensor)> {
    Ok((vb.get((out_dim, in_dim), "weight")?, vb.get(out_dim, "bias")?))
}

fn linear(vb: VarBuilder, in_dim: usize, out_dim: usize) -> Result<Linear> {
    let (w, b) = linear_parts(vb, in_dim, out_dim)?;
    Ok(Linear::new(w, Some(b)))
}

pub(crate) struct EncoderLayer {
    qkv: Linear,
    attn_out: Linear,
    attn_norm: LayerNorm,
    ffn_in: Linear,
    ffn_out: Linear,
    out_norm: LayerNorm,
    act: Activation,
    heads: usize,
    head_dim: usize,
}

impl EncoderLayer {
    pub fn load(vb: VarBuilder, names: &LayerNames, cfg: &TransformerConfig) -> Result<Self> {
        let h = cfg.hidden_size;
        let (qw, qb) = linear_parts(vb.pp(names.query), h, h)?;
        let (kw, kb) = linear_parts(vb.pp(names.key), h, h)?;
        let (vw, vb_) = linear_parts(vb.pp(names.value), h, h)?;
        Ok(Self {
            qkv: Linear::new(Tensor::cat(&[qw, kw, vw], 0)?, Some(Tensor::cat(&[qb, kb, vb_], 0)?)),
            attn_out: linear(vb.pp(names.attn_out), h, h)?,
            attn_norm: layer_norm(vb.pp(names.attn_norm), h, cfg.layer_norm_eps)?,
            ffn_in: linear(vb.pp(names.ffn_in), h, cfg.intermediate_size)?,
            ffn_out: linear(vb.pp(names.ffn_out), cfg.intermediate_size, h)?,
            out_norm: layer_norm(vb.pp(names.out_norm), h, cfg.layer_norm_eps)?,
            act: cfg.activation(),
            heads: cfg.num_attention_heads,
            head_dim: h / cfg.num_attention_heads,
        })
    }

    /// `bias`: (batch, 1, 1, seq), 0 for real tokens and a large negative
    /// number for padding; `None` when nothing is padded.
    pub fn forward(&self, x: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        let (b, s, h) = x.dims3()?;
        let qkv = self.qkv.forward(x)?;
        let split = |i: usize| -> Result<Tensor> {
            qkv.narrow(2, i * h, h)?
                .reshape((b, s, self.heads, self.head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        let (q, k, v) = (split(0)?, split(1)?, split(2)?);
        let scale = 1.0 / (self.head_dim as f64).sqrt();
        let mut scores = (q.matmul(&k.t()?)? * scale)?;
        if let Some(bias) = bias {
            scores = scores.broadcast_add(bias)?;
        }
        let probs = candle_nn::ops::softmax_last_dim(&scores)?;
        let context = probs.matmul(&v)?.transpose(1, 2)?.reshape((b, s, h))?;
        let attended = self.attn_norm.forward(&self.attn_out.forward(&context)?.add(x)?)?;
        let inner = self.act.apply(&self.ffn_in.forward(&attended)?)?;
        self.out_norm.forward(&self.ffn_out.forward(&inner)?.add(&attended)?)
    }
}

/// Runs `layers` over `x`, masking padding when `mask` is given.
pub(crate) fn run_layers(layers: &[EncoderLayer], mut x: Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
    let bias = mask.map(attention_bias).transpose()?;
    for layer in layers {
        x = layer.forward(&x, bias.as_ref())?;
    }
    Ok(x)
}

/// (batch, seq) 1/0 mask → (batch, 1, 1, seq) additive bias, the way
/// Hugging Face builds it: `(1 - mask) * f32::MIN`.
fn attention_bias(mask: &Tensor) -> Result<Tensor> {
    let (b, s) = mask.dims2()?;
    let inverted = mask.to_dtype(DType::F32)?.affine(-1.0, 1.0)?;
    (inverted * f32::MIN as f64)?.reshape((b, 1, 1, s))
}

/// Picks the checkpoint's root: the model itself, or nested under `prefix`
/// when it was saved from a task head (e.g. `bert.` in BertForMaskedLM).
pub(crate) fn model_root<'a>(vb: VarBuilder<'a>, probe: &str, prefix: &str) -> VarBuilder<'a> {
    if vb.contains_tensor(probe) {
        vb
    } else {
        vb.pp(prefix)
    }
}
