//! MPNet weights (all-mpnet-base-v2): BERT's post-norm encoder layer under
//! other names, no token types, positions numbered from `padding_idx + 1`
//! (transformers fixes `padding_idx` at 1), and a relative position bias
//! table (`encoder.relative_attention_bias`, buckets × heads) shared by
//! every layer (see `relative_position.rs`).

use std::path::Path;

use candle_core::Result;
use candle_nn::VarBuilder;

use super::config::TransformerConfig;
use super::layer::{embedding, layers, model_root, norm, LayerNames, TransformerWeights};
use super::relative_position::BUCKETS;

const NAMES: LayerNames = LayerNames {
    query: "attention.attn.q",
    key: "attention.attn.k",
    value: "attention.attn.v",
    attn_out: "attention.attn.o",
    attn_norm: "attention.LayerNorm",
    ffn_in: "intermediate.dense",
    ffn_out: "output.dense",
    out_norm: "output.LayerNorm",
};

/// `MPNetEmbeddings.padding_idx`, a constant in transformers (not
/// `pad_token_id`).
const PADDING_IDX: usize = 1;

/// `config.json`'s MPNet fields: the bias table must have a row for every
/// bucket transformers computes.
pub(crate) fn check_config(cfg: &TransformerConfig, config_path: &Path) -> crate::core::Result<()> {
    let buckets = cfg.relative_attention_num_buckets;
    if buckets < BUCKETS {
        return Err(crate::core::Error::model(
            config_path,
            format!("relative_attention_num_buckets is {buckets}; transformers computes {BUCKETS} buckets, so the table needs at least {BUCKETS} rows"),
        ));
    }
    Ok(())
}

/// Call [`check_config`] first.
pub(crate) fn load(vb: VarBuilder, cfg: &TransformerConfig) -> Result<TransformerWeights> {
    let vb = model_root(vb, "embeddings.word_embeddings.weight", "mpnet");
    let emb = vb.pp("embeddings");
    let (h, heads) = (cfg.hidden_size, cfg.num_attention_heads);
    let buckets = cfg.relative_attention_num_buckets;
    Ok(TransformerWeights {
        word: embedding(emb.pp("word_embeddings"), cfg.vocab_size, h)?,
        position: embedding(emb.pp("position_embeddings"), cfg.max_position_embeddings, h)?,
        token_type: None,
        emb_norm: norm(emb.pp("LayerNorm"), h, cfg.layer_norm_eps)?,
        layers: layers(vb.pp("encoder").pp("layer"), &NAMES, cfg)?,
        relative_bias: Some(embedding(vb.pp("encoder").pp("relative_attention_bias"), buckets, heads)?),
        position_offset: PADDING_IDX + 1,
        heads,
        act: cfg.activation(),
    })
}
