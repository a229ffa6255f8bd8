//! BERT encoder (the architecture of all-MiniLM-L6-v2 and of
//! paraphrase-multilingual-MiniLM-L12-v2), written for inference:
//! query/key/value projections fused into one matrix multiply, the
//! attention mask skipped when no row of the batch is padded.

use candle_core::{DType, Module, Result, Tensor};
use candle_nn::{Embedding, LayerNorm, Linear, VarBuilder};

use super::config::{Activation, TransformerConfig};

/// Loads a layer norm stored as `weight`/`bias` or, in older checkpoints,
/// `gamma`/`beta`.
fn layer_norm(vb: VarBuilder, size: usize, eps: f64) -> Result<LayerNorm> {
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

struct Embeddings {
    word: Embedding,
    position: Embedding,
    token_type: Embedding,
    norm: LayerNorm,
}

impl Embeddings {
    fn load(vb: VarBuilder, cfg: &TransformerConfig) -> Result<Self> {
        let h = cfg.hidden_size;
        let table = |name: &str, rows: usize| -> Result<Embedding> {
            Ok(Embedding::new(vb.pp(name).get((rows, h), "weight")?, h))
        };
        Ok(Self {
            word: table("word_embeddings", cfg.vocab_size)?,
            position: table("position_embeddings", cfg.max_position_embeddings)?,
            token_type: table("token_type_embeddings", cfg.type_vocab_size)?,
            norm: layer_norm(vb.pp("LayerNorm"), h, cfg.layer_norm_eps)?,
        })
    }

    fn forward(&self, input_ids: &Tensor, type_ids: &Tensor) -> Result<Tensor> {
        let seq_len = input_ids.dim(1)?;
        let positions = Tensor::arange(0u32, seq_len as u32, input_ids.device())?;
        let x = self
            .word
            .forward(input_ids)?
            .add(&self.token_type.forward(type_ids)?)?
            .broadcast_add(&self.position.forward(&positions)?)?;
        self.norm.forward(&x)
    }
}

struct Layer {
    qkv: Linear,
    attn_out: Linear,
    attn_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    out_norm: LayerNorm,
    act: Activation,
    heads: usize,
    head_dim: usize,
}

impl Layer {
    fn load(vb: VarBuilder, cfg: &TransformerConfig) -> Result<Self> {
        let h = cfg.hidden_size;
        let attn = vb.pp("attention");
        let sa = attn.pp("self");
        let (qw, qb) = linear_parts(sa.pp("query"), h, h)?;
        let (kw, kb) = linear_parts(sa.pp("key"), h, h)?;
        let (vw, vb_) = linear_parts(sa.pp("value"), h, h)?;
        let qkv = Linear::new(Tensor::cat(&[qw, kw, vw], 0)?, Some(Tensor::cat(&[qb, kb, vb_], 0)?));
        Ok(Self {
            qkv,
            attn_out: linear(attn.pp("output").pp("dense"), h, h)?,
            attn_norm: layer_norm(attn.pp("output").pp("LayerNorm"), h, cfg.layer_norm_eps)?,
            intermediate: linear(vb.pp("intermediate").pp("dense"), h, cfg.intermediate_size)?,
            output: linear(vb.pp("output").pp("dense"), cfg.intermediate_size, h)?,
            out_norm: layer_norm(vb.pp("output").pp("LayerNorm"), h, cfg.layer_norm_eps)?,
            act: cfg.activation(),
            heads: cfg.num_attention_heads,
            head_dim: h / cfg.num_attention_heads,
        })
    }

    /// `bias`: (batch, 1, 1, seq), 0 for real tokens and a large negative
    /// number for padding; `None` when nothing is padded.
    fn forward(&self, x: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
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
        let inner = self.act.apply(&self.intermediate.forward(&attended)?)?;
        self.out_norm.forward(&self.output.forward(&inner)?.add(&attended)?)
    }
}

pub(crate) struct Bert {
    embeddings: Embeddings,
    layers: Vec<Layer>,
}

impl Bert {
    pub fn load(vb: VarBuilder, cfg: &TransformerConfig) -> Result<Self> {
        // Checkpoints saved from BertModel have no prefix; those saved from
        // a task head (BertForMaskedLM, ...) nest the encoder under `bert.`.
        let vb = if vb.contains_tensor("embeddings.word_embeddings.weight") { vb } else { vb.pp("bert") };
        let encoder = vb.pp("encoder").pp("layer");
        Ok(Self {
            embeddings: Embeddings::load(vb.pp("embeddings"), cfg)?,
            layers: (0..cfg.num_hidden_layers)
                .map(|i| Layer::load(encoder.pp(i), cfg))
                .collect::<Result<_>>()?,
        })
    }

    pub fn forward(&self, input_ids: &Tensor, type_ids: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
        let bias = mask.map(attention_bias).transpose()?;
        let mut x = self.embeddings.forward(input_ids, type_ids)?;
        for layer in &self.layers {
            x = layer.forward(&x, bias.as_ref())?;
        }
        Ok(x)
    }
}

/// (batch, seq) 1/0 mask → (batch, 1, 1, seq) additive bias, the way
/// Hugging Face builds it: `(1 - mask) * f32::MIN`.
fn attention_bias(mask: &Tensor) -> Result<Tensor> {
    let (b, s) = mask.dims2()?;
    let inverted = mask.to_dtype(DType::F32)?.affine(-1.0, 1.0)?;
    (inverted * f32::MIN as f64)?.reshape((b, 1, 1, s))
}
