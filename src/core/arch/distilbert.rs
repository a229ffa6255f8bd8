//! DistilBERT: the post-norm encoder (`post_norm.rs`) under other weight
//! names, no token types. The reference engine runs ours
//! (`model/reference.rs`): candle-transformers' DistilBERT computes `gelu`
//! with the tanh approximation (transformers: the erf form).

use candle_core::Result;
use candle_nn::VarBuilder;

use super::post_norm::{embedding, layers, norm, open_with, LayerNames, TransformerWeights};
use super::{Built, Source};
use crate::core::model::{model_root, TransformerConfig};

const NAMES: LayerNames = LayerNames {
    query: "attention.q_lin",
    key: "attention.k_lin",
    value: "attention.v_lin",
    attn_out: "attention.out_lin",
    attn_norm: "sa_layer_norm",
    ffn_in: "ffn.lin1",
    ffn_out: "ffn.lin2",
    out_norm: "output_layer_norm",
};

pub(super) fn open(src: Source) -> crate::core::Result<(Built, usize)> {
    open_with(src, load, None)
}

fn load(vb: VarBuilder, cfg: &TransformerConfig) -> Result<TransformerWeights> {
    let vb = model_root(vb, "embeddings.word_embeddings.weight", "distilbert");
    let emb = vb.pp("embeddings");
    let h = cfg.hidden_size;
    Ok(TransformerWeights {
        word: embedding(emb.pp("word_embeddings"), cfg.vocab_size, h)?,
        position: embedding(emb.pp("position_embeddings"), cfg.max_position_embeddings, h)?,
        token_type: None,
        emb_norm: norm(emb.pp("LayerNorm"), h, cfg.layer_norm_eps)?,
        layers: layers(vb.pp("transformer").pp("layer"), &NAMES, cfg)?,
        relative_bias: None,
        position_offset: 0,
        heads: cfg.num_attention_heads,
        act: cfg.activation(),
    })
}
