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
pub(crate) mod library_reference;
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
    /// candle-transformers' own implementation (`library_reference.rs`):
    /// BERT, XLM-RoBERTa / RoBERTa, ModernBERT within what it covers.
    Library(library_reference::LibraryModel),
    /// Ours, where candle-transformers has none or deviates from
    /// transformers: DistilBERT, MPNet (`reference.rs`).
    PostNorm(TransformerWeights),
    /// Ours for the ModernBERT configurations candle-transformers does not
    /// cover (`modernbert_reference.rs`).
    ModernBert(modernbert::ModernBertWeights),
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
