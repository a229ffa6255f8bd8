//! Transformer architectures. Each architecture file maps its checkpoint's
//! weight names onto the common [`TransformerWeights`]; `reference.rs` runs
//! them with candle ops (the readable definition), `crate::core::cpu` runs
//! them fast. This module reads `config.json`, picks the architecture and
//! loads the weights.

mod bert;
mod config;
mod distilbert;
mod layer;
mod mpnet;
mod pickle_check;
pub(crate) mod reference;
pub(crate) mod relative_position;
mod weights;

use std::path::Path;

use candle_core::Device;

use super::error::{Error, Result};
use config::ConfigFile;
pub(crate) use config::{Activation, TransformerConfig};
pub(crate) use layer::{Dense, LayerWeights, Norm, TransformerWeights};
pub(crate) use weights::open as open_weights;

const SUPPORTED_ARCHITECTURES: &str =
    "BertModel ('bert'), XLMRobertaModel ('xlm-roberta'), RobertaModel ('roberta'), DistilBertModel ('distilbert'), MPNetModel ('mpnet')";

/// Which architecture file maps the weights.
enum Family {
    Bert(bert::Flavor),
    DistilBert,
    MpNet,
}

/// Loads the transformer stored in `dir` (`config.json` plus
/// `model.safetensors` or `pytorch_model.bin`).
pub(crate) fn load(dir: &Path, device: &Device) -> Result<(TransformerWeights, TransformerConfig)> {
    let config_path = dir.join("config.json");
    let file = ConfigFile::read(&config_path)?;
    let arch = file.architecture()?;
    let family = match arch.as_str() {
        "bert" => Family::Bert(bert::Flavor::Bert),
        "xlm-roberta" | "roberta" => Family::Bert(bert::Flavor::XlmRoberta),
        "distilbert" => Family::DistilBert,
        "mpnet" => Family::MpNet,
        other => {
            return Err(Error::Unsupported {
                path: config_path,
                what: "architecture",
                value: other.to_string(),
                supported: SUPPORTED_ARCHITECTURES,
            })
        }
    };
    let cfg = TransformerConfig::read(&file)?;
    let (vb, weights_path) = weights::open(dir, device)?;
    let weights = match family {
        Family::Bert(flavor) => bert::load(vb, &cfg, flavor),
        Family::DistilBert => distilbert::load(vb, &cfg),
        Family::MpNet => mpnet::load(vb, &cfg),
    }
    .map_err(|e| Error::model(&weights_path, e.to_string()))?;
    Ok((weights, cfg))
}
