//! Transformer architectures. Each file holds one architecture in candle's
//! style (`load(vb, cfg)` + `forward`); this module reads `config.json`,
//! picks the architecture and loads the weights.

mod bert;
mod config;
mod distilbert;
mod layer;
mod weights;

use std::path::Path;

use candle_core::{Device, Tensor};

use super::error::{Error, Result};
pub(crate) use config::TransformerConfig;

const SUPPORTED_ARCHITECTURES: &str =
    "BertModel ('bert'), XLMRobertaModel ('xlm-roberta'), RobertaModel ('roberta'), DistilBertModel ('distilbert')";

/// A loaded transformer: token ids in, one hidden vector per token out.
pub(crate) enum Transformer {
    Bert { model: bert::Bert, position_offset: usize },
    DistilBert(distilbert::DistilBert),
}

impl Transformer {
    /// Loads the transformer stored in `dir` (`config.json` plus
    /// `model.safetensors` or `pytorch_model.bin`).
    pub fn load(dir: &Path, device: &Device) -> Result<(Self, TransformerConfig)> {
        let config_path = dir.join("config.json");
        let cfg = TransformerConfig::read(&config_path)?;
        let arch = cfg.architecture();
        let (vb, weights_path) = weights::open(dir, device)?;
        let weights_err = |e: candle_core::Error| Error::model(&weights_path, e.to_string());
        let bert = |flavor: bert::Flavor| -> Result<Self> {
            Ok(Transformer::Bert {
                model: bert::Bert::load(vb.clone(), &cfg, flavor).map_err(weights_err)?,
                position_offset: flavor.position_offset(&cfg),
            })
        };
        let model = match arch.as_str() {
            "bert" => bert(bert::Flavor::Bert)?,
            "xlm-roberta" | "roberta" => bert(bert::Flavor::XlmRoberta)?,
            "distilbert" => Transformer::DistilBert(distilbert::DistilBert::load(vb.clone(), &cfg).map_err(weights_err)?),
            other => {
                return Err(Error::Unsupported {
                    path: config_path,
                    what: "architecture",
                    value: other.to_string(),
                    supported: SUPPORTED_ARCHITECTURES,
                })
            }
        };
        Ok((model, cfg))
    }

    /// `input_ids`, `type_ids`: (batch, seq) u32. `mask`: (batch, seq) f32
    /// with 1 for real tokens and 0 for padding, or `None` when no row is
    /// padded. Returns (batch, seq, hidden) f32.
    pub fn forward(&self, input_ids: &Tensor, type_ids: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
        Ok(match self {
            Transformer::Bert { model, .. } => model.forward(input_ids, type_ids, mask)?,
            Transformer::DistilBert(model) => model.forward(input_ids, mask)?,
        })
    }

    /// The longest input, in tokens, that the position embeddings can take.
    pub fn position_limit(&self, cfg: &TransformerConfig) -> usize {
        match self {
            Transformer::Bert { position_offset, .. } => cfg.max_position_embeddings.saturating_sub(*position_offset),
            Transformer::DistilBert(_) => cfg.max_position_embeddings,
        }
    }
}
