//! DistilBERT: the post-norm encoder (`post_norm.rs`) under other weight
//! names, no token types. The reference engine runs ours
//! (`reference/post_norm.rs`): candle-transformers' DistilBERT computes `gelu`
//! with the tanh approximation (transformers: the erf form).

use super::post_norm::{load, open_with, Checkpoint, LayerNames};
use super::{Built, Source};

const CHECKPOINT: Checkpoint = Checkpoint {
    nested_under: "distilbert",
    layers: "transformer.layer",
    names: LayerNames {
        query: "attention.q_lin",
        key: "attention.k_lin",
        value: "attention.v_lin",
        attn_out: "attention.out_lin",
        attn_norm: "sa_layer_norm",
        ffn_in: "ffn.lin1",
        ffn_out: "ffn.lin2",
        out_norm: "output_layer_norm",
    },
    token_types: false,
};

pub(super) fn open(src: Source) -> crate::core::Result<(Built, usize)> {
    open_with(src, |vb, cfg, tables| Ok(load(vb, cfg, tables, &CHECKPOINT, 0)?.0), None)
}
