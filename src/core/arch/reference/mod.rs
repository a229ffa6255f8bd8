//! The reference engine, the tests' oracle: each architecture's weights
//! run padded and masked as PyTorch runs them, in candle.
//! candle-transformers' own models where they reproduce
//! sentence-transformers (`library.rs`: only the glue), else ours in candle
//! ops: `post_norm.rs` for the post-norm encoder (`../post_norm.rs`'s
//! weights: DistilBERT, MPNet), `modernbert.rs` for the ModernBERT
//! configurations candle-transformers does not cover, `decoder.rs` for
//! Qwen3 and Gemma3 (`../decoder.rs`'s weights).

mod decoder;
pub(crate) mod library;
mod modernbert;
mod post_norm;

use candle_core::Tensor;

use super::decoder::DecoderWeights;
use super::modernbert::ModernBertWeights;
use super::post_norm::TransformerWeights;

/// A model's weights for the reference engine.
pub(crate) enum ReferenceModel {
    /// candle-transformers' own implementation (`library.rs`):
    /// BERT, XLM-RoBERTa / RoBERTa, ModernBERT within what it covers.
    Library(library::LibraryModel),
    /// Ours, where candle-transformers has none or deviates from
    /// transformers: DistilBERT, MPNet (`post_norm.rs`).
    PostNorm(TransformerWeights),
    /// Ours for the ModernBERT configurations candle-transformers does not
    /// cover (`modernbert.rs`).
    ModernBert(ModernBertWeights),
    /// Ours for Qwen3 and Gemma3 (`decoder.rs`).
    Decoder(DecoderWeights),
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
            Self::PostNorm(w) => post_norm::forward(w, input_ids, type_ids, mask),
            Self::ModernBert(w) => modernbert::forward(w, input_ids, mask),
            Self::Decoder(w) => decoder::forward(w, input_ids, mask),
        }
    }
}
