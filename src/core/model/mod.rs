//! Transformer weights and the reference engine. `config.rs` reads
//! `config.json`; `bert.rs`, `distilbert.rs` and `mpnet.rs` map their
//! checkpoints' names onto the post-norm [`TransformerWeights`], which
//! `reference.rs` runs with candle ops; `modernbert.rs` reads ModernBERT's
//! config and weights, which `modernbert_reference.rs` runs. The fast
//! engine (`crate::core::arch`) packs the same weights; `arch/mod.rs` holds
//! the registry of architectures.

pub(crate) mod bert;
mod config;
pub(crate) mod distilbert;
mod layer;
pub(crate) mod modernbert;
mod modernbert_reference;
pub(crate) mod mpnet;
mod pickle_check;
mod reference;
pub(crate) mod relative_position;
mod weights;

use candle_core::Tensor;

pub(crate) use config::{Activation, ConfigFile, TransformerConfig};
pub(crate) use layer::{Dense, LayerWeights, Norm, TransformerWeights};
pub(crate) use weights::open as open_weights;

/// A model's weights for the reference engine.
pub(crate) enum ReferenceModel {
    /// BERT, XLM-RoBERTa / RoBERTa, DistilBERT, MPNet (`reference.rs`).
    PostNorm(TransformerWeights),
    ModernBert(modernbert::ModernBertWeights),
}

impl ReferenceModel {
    /// `input_ids`, `type_ids`: (batch, seq) u32; `mask`: (batch, seq) f32,
    /// 1 for real tokens, `None` when no row is padded. Returns (batch,
    /// seq, h): what sentence-transformers pools.
    pub fn forward(&self, input_ids: &Tensor, type_ids: &Tensor, mask: Option<&Tensor>) -> candle_core::Result<Tensor> {
        match self {
            Self::PostNorm(w) => reference::forward(w, input_ids, type_ids, mask),
            Self::ModernBert(w) => modernbert_reference::forward(w, input_ids, mask),
        }
    }
}
