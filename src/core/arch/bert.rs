//! BERT (all-MiniLM-L6-v2, paraphrase-multilingual-MiniLM-L12-v2) and
//! XLM-RoBERTa / RoBERTa (multilingual-e5, paraphrase-xlm-r): the post-norm
//! encoder (`post_norm.rs`) under BERT's weight names. XLM-RoBERTa numbers
//! positions from `padding_idx + 1`, as Hugging Face's
//! `create_position_ids_from_input_ids` does. The reference engine runs
//! candle-transformers' `bert` / `xlm_roberta`.

use super::post_norm::{load, open_with, Checkpoint, LayerNames};
use super::{Built, Source};
use super::reference::library as library_reference;

/// Positions 0, 1, 2, ...; weights under `bert.` in task checkpoints.
const BERT: Checkpoint = Checkpoint {
    nested_under: "bert",
    layers: "encoder.layer",
    names: LayerNames {
        query: "attention.self.query",
        key: "attention.self.key",
        value: "attention.self.value",
        attn_out: "attention.output.dense",
        attn_norm: "attention.output.LayerNorm",
        ffn_in: "intermediate.dense",
        ffn_out: "output.dense",
        out_norm: "output.LayerNorm",
    },
    token_types: true,
};

/// Positions `pad + 1`, `pad + 2`, ...; weights under `roberta.`.
const XLM_ROBERTA: Checkpoint = Checkpoint { nested_under: "roberta", ..BERT };

pub(super) fn open_bert(src: Source) -> crate::core::Result<(Built, usize)> {
    open_with(src, |vb, cfg, tables| Ok(load(vb, cfg, tables, &BERT, 0)?.0), Some(library_reference::bert))
}

/// XLM-RoBERTa and RoBERTa.
pub(super) fn open_xlm_roberta(src: Source) -> crate::core::Result<(Built, usize)> {
    open_with(src, |vb, cfg, tables| Ok(load(vb, cfg, tables, &XLM_ROBERTA, cfg.pad_token_id as usize + 1)?.0), Some(library_reference::xlm_roberta))
}
