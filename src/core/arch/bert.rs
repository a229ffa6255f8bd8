//! BERT (all-MiniLM-L6-v2, paraphrase-multilingual-MiniLM-L12-v2) and
//! XLM-RoBERTa / RoBERTa (multilingual-e5, paraphrase-xlm-r): the post-norm
//! encoder (`post_norm.rs`) under BERT's weight names. XLM-RoBERTa numbers
//! positions from `padding_idx + 1`, as Hugging Face's
//! `create_position_ids_from_input_ids` does. The reference engine runs
//! candle-transformers' `bert` / `xlm_roberta`.

use candle_core::Result;
use candle_nn::VarBuilder;

use super::post_norm::{embedding, layers, norm, open_with, LayerNames, TransformerWeights};
use super::{Built, Source};
use crate::core::model::{library_reference, model_root, TransformerConfig};

const NAMES: LayerNames = LayerNames {
    query: "attention.self.query",
    key: "attention.self.key",
    value: "attention.self.value",
    attn_out: "attention.output.dense",
    attn_norm: "attention.output.LayerNorm",
    ffn_in: "intermediate.dense",
    ffn_out: "output.dense",
    out_norm: "output.LayerNorm",
};

/// How positions are numbered and where task checkpoints nest the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    /// Positions 0, 1, 2, ...; weights under `bert.` in task checkpoints.
    Bert,
    /// Positions `pad + 1`, `pad + 2`, ...; weights under `roberta.`.
    XlmRoberta,
}

pub(super) fn open_bert(src: Source) -> crate::core::Result<(Built, usize)> {
    open_with(src, |vb, cfg| load(vb, cfg, Flavor::Bert), Some(library_reference::bert))
}

/// XLM-RoBERTa and RoBERTa.
pub(super) fn open_xlm_roberta(src: Source) -> crate::core::Result<(Built, usize)> {
    open_with(src, |vb, cfg| load(vb, cfg, Flavor::XlmRoberta), Some(library_reference::xlm_roberta))
}

fn load(vb: VarBuilder, cfg: &TransformerConfig, flavor: Flavor) -> Result<TransformerWeights> {
    let (prefix, position_offset) = match flavor {
        Flavor::Bert => ("bert", 0),
        Flavor::XlmRoberta => ("roberta", cfg.pad_token_id as usize + 1),
    };
    let vb = model_root(vb, "embeddings.word_embeddings.weight", prefix);
    let emb = vb.pp("embeddings");
    let h = cfg.hidden_size;
    Ok(TransformerWeights {
        word: embedding(emb.pp("word_embeddings"), cfg.vocab_size, h)?,
        position: embedding(emb.pp("position_embeddings"), cfg.max_position_embeddings, h)?,
        token_type: Some(embedding(emb.pp("token_type_embeddings"), cfg.type_vocab_size, h)?),
        emb_norm: norm(emb.pp("LayerNorm"), h, cfg.layer_norm_eps)?,
        layers: layers(vb.pp("encoder").pp("layer"), &NAMES, cfg)?,
        relative_bias: None,
        position_offset,
        heads: cfg.num_attention_heads,
        act: cfg.activation(),
    })
}
