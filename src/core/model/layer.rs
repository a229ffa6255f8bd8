//! The weights every supported architecture reduces to: embeddings, then a
//! stack of post-layer-norm encoder layers (self-attention, residual +
//! layer norm, feed-forward, residual + layer norm). BERT, XLM-RoBERTa,
//! DistilBERT and MPNet differ only in weight names, position numbering,
//! whether token types exist and MPNet's relative position bias; their
//! files map names onto these structs.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use super::config::{Activation, TransformerConfig};

/// A linear layer: `weight` (out, in) as PyTorch stores it, `bias` (out).
pub(crate) struct Dense {
    pub weight: Tensor,
    pub bias: Tensor,
}

pub(crate) struct Norm {
    pub gamma: Tensor,
    pub beta: Tensor,
    pub eps: f64,
}

pub(crate) struct LayerWeights {
    /// Query, key and value stacked: (3h, h).
    pub qkv: Dense,
    pub attn_out: Dense,
    pub attn_norm: Norm,
    pub ffn_in: Dense,
    pub ffn_out: Dense,
    pub out_norm: Norm,
}

pub(crate) struct TransformerWeights {
    pub word: Tensor,
    pub position: Tensor,
    /// `None` for DistilBERT, which has no token types.
    pub token_type: Option<Tensor>,
    pub emb_norm: Norm,
    pub layers: Vec<LayerWeights>,
    /// MPNet's relative position bias table (buckets × heads): every
    /// layer adds row `relative_position::bucket(key − query)`, column
    /// `head`, to its attention scores. `None` for the other architectures.
    pub relative_bias: Option<Tensor>,
    /// Position id of a sequence's first token (XLM-RoBERTa: `pad + 1`).
    pub position_offset: usize,
    pub heads: usize,
    pub act: Activation,
}

impl TransformerWeights {
    pub fn hidden_size(&self) -> usize {
        self.word.dims()[1]
    }

    /// The longest input, in tokens, the position embeddings can take.
    pub fn position_limit(&self) -> usize {
        self.position.dims()[0].saturating_sub(self.position_offset)
    }
}

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
pub(crate) fn norm(vb: VarBuilder, size: usize, eps: f64) -> Result<Norm> {
    let (g, b) = if vb.contains_tensor("weight") { ("weight", "bias") } else { ("gamma", "beta") };
    Ok(Norm { gamma: vb.get(size, g)?, beta: vb.get(size, b)?, eps })
}

pub(crate) fn dense(vb: VarBuilder, in_dim: usize, out_dim: usize) -> Result<Dense> {
    Ok(Dense { weight: vb.get((out_dim, in_dim), "weight")?, bias: vb.get(out_dim, "bias")? })
}

pub(crate) fn embedding(vb: VarBuilder, rows: usize, dim: usize) -> Result<Tensor> {
    vb.get((rows, dim), "weight")
}

pub(crate) fn layers(vb: VarBuilder, names: &LayerNames, cfg: &TransformerConfig) -> Result<Vec<LayerWeights>> {
    let (h, i, eps) = (cfg.hidden_size, cfg.intermediate_size, cfg.layer_norm_eps);
    (0..cfg.num_hidden_layers)
        .map(|n| {
            let vb = vb.pp(n);
            let (q, k, v) = (dense(vb.pp(names.query), h, h)?, dense(vb.pp(names.key), h, h)?, dense(vb.pp(names.value), h, h)?);
            Ok(LayerWeights {
                qkv: Dense {
                    weight: Tensor::cat(&[q.weight, k.weight, v.weight], 0)?,
                    bias: Tensor::cat(&[q.bias, k.bias, v.bias], 0)?,
                },
                attn_out: dense(vb.pp(names.attn_out), h, h)?,
                attn_norm: norm(vb.pp(names.attn_norm), h, eps)?,
                ffn_in: dense(vb.pp(names.ffn_in), h, i)?,
                ffn_out: dense(vb.pp(names.ffn_out), i, h)?,
                out_norm: norm(vb.pp(names.out_norm), h, eps)?,
            })
        })
        .collect()
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
