//! What the architectures share, and the reference engine (the tests'
//! oracle). `config.rs` reads `config.json`'s shared fields; `weights.rs`
//! opens the weights file, checked. The architectures themselves, their
//! weights and the fast engine, are `crate::core::arch`, one file each;
//! the reference engine runs their weights: candle-transformers' models
//! where they reproduce sentence-transformers (`library_reference.rs`),
//! else ours in candle ops: `reference.rs` for the post-norm encoder
//! (`arch/post_norm.rs`'s weights), `modernbert_reference.rs` for
//! ModernBERT (`arch/modernbert.rs`'s).

mod config;
mod embedding_table;
pub(crate) mod library_reference;
mod modernbert_reference;
mod pickle_check;
mod reference;
mod weights;

use candle_core::Tensor;

use crate::core::arch::modernbert::ModernBertWeights;
use crate::core::arch::post_norm::TransformerWeights;

pub(crate) use config::{Activation, ConfigFile, TransformerConfig, ACTIVATIONS};
pub(crate) use embedding_table::{EmbeddingTable, TableSource};
pub(crate) use weights::{model_root, open as open_weights};

/// A model's weights for the reference engine.
pub(crate) enum ReferenceModel {
    /// candle-transformers' own implementation (`library_reference.rs`):
    /// BERT, XLM-RoBERTa / RoBERTa, ModernBERT within what it covers.
    Library(library_reference::LibraryModel),
    /// Ours, where candle-transformers has none or deviates from
    /// transformers: DistilBERT, MPNet (`reference.rs`).
    PostNorm(TransformerWeights),
    /// Ours for the ModernBERT configurations candle-transformers does not
    /// cover (`modernbert_reference.rs`).
    ModernBert(ModernBertWeights),
}

impl ReferenceModel {
    /// `input_ids`, `type_ids`: (batch, seq) u32; `mask`: (batch, seq) f32,
    /// 1 for real tokens, `None` when no row is padded. Returns (batch,
    /// seq, h): what sentence-transformers pools.
    pub fn forward(&self, input_ids: &Tensor, type_ids: &Tensor, mask: Option<&Tensor>) -> candle_core::Result<Tensor> {
        match self {
            Self::Library(m) => match mask {
                Some(mask) => m.forward(input_ids, type_ids, mask),
                None => m.forward(input_ids, type_ids, &input_ids.ones_like()?.to_dtype(candle_core::DType::F32)?),
            },
            Self::PostNorm(w) => reference::forward(w, input_ids, type_ids, mask),
            Self::ModernBert(w) => modernbert_reference::forward(w, input_ids, mask),
        }
    }
}
