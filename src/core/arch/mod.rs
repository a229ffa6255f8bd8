//! The architectures, one registry line each: `config.json`'s model type
//! → the function that opens the model for the engine asked for. Each
//! fast-engine architecture is one file here, built from the shared blocks
//! of `crate::core::cpu::blocks`; the weights are read by `crate::core::model`
//! (shared with the reference engine, the tests' oracle).

mod bert;
mod modernbert;

use std::path::{Path, PathBuf};

use candle_core::Device;
use candle_nn::VarBuilder;

use super::cpu::{packing, PackedModel};
use super::error::{Error, Result};
use super::precision::Precision;
use super::model::{self, ConfigFile, ReferenceModel, TransformerConfig};
use super::registry::Engine;

/// A model's transformer, ready for one engine.
pub(crate) enum Built {
    Fast(PackedModel),
    Reference(ReferenceModel),
}

pub(crate) struct Opened {
    pub config: TransformerConfig,
    /// The longest input, in tokens, the model's positions can take.
    pub position_limit: usize,
    pub built: Built,
}

/// What an architecture's opener reads from.
struct Source<'a> {
    file: &'a ConfigFile<'a>,
    config: &'a TransformerConfig,
    vb: VarBuilder<'static>,
    weights_path: PathBuf,
    engine: Engine,
    /// The fast engine's number format (the reference engine runs fp32).
    precision: Precision,
}

impl Source<'_> {
    /// A weights error names the weights file.
    fn weights_error(&self, e: candle_core::Error) -> Error {
        Error::model(&self.weights_path, e.to_string())
    }
}

type Open = fn(Source) -> Result<(Built, usize)>;

/// model_type → opener. `architectures: ["…Model"]` is mapped to these
/// names by `model::config` when `model_type` is absent.
const ARCHITECTURES: [(&str, Open); 6] = [
    ("bert", bert::open_bert),
    ("xlm-roberta", bert::open_xlm_roberta),
    ("roberta", bert::open_xlm_roberta),
    ("distilbert", bert::open_distilbert),
    ("mpnet", bert::open_mpnet),
    ("modernbert", modernbert::open),
];

/// The table above, as error messages list it.
const SUPPORTED: &str = "BertModel ('bert'), XLMRobertaModel ('xlm-roberta'), RobertaModel ('roberta'), \
DistilBertModel ('distilbert'), MPNetModel ('mpnet'), ModernBertModel ('modernbert')";

/// Opens the transformer stored in `dir` (`config.json` plus
/// `model.safetensors` or `pytorch_model.bin`) for `engine`, the fast
/// engine's linear layers in `precision`.
pub(crate) fn open(dir: &Path, engine: Engine, precision: Precision) -> Result<Opened> {
    let config_path = dir.join("config.json");
    let file = ConfigFile::read(&config_path)?;
    let arch = file.architecture()?;
    let Some((_, open)) = ARCHITECTURES.iter().find(|(name, _)| *name == arch) else {
        return Err(Error::Unsupported { path: config_path, what: "architecture", value: arch, supported: SUPPORTED });
    };
    let config = TransformerConfig::read(&file)?;
    let (vb, weights_path) = model::open_weights(dir, &Device::Cpu)?;
    let (built, position_limit) = open(Source { file: &file, config: &config, vb, weights_path, engine, precision })?;
    Ok(Opened { config, position_limit, built })
}

/// The fast engine's packing for this process.
fn pack<T: super::cpu::FastArchitecture + 'static>(src: &Source, make: impl FnOnce(super::cpu::blocks::Packing) -> candle_core::Result<T>) -> Result<Built> {
    let packing = packing(src.precision)?;
    Ok(Built::Fast(PackedModel(Box::new(make(packing).map_err(|e| src.weights_error(e))?))))
}

#[cfg(test)]
mod tests {
    use super::{open, Built, Engine, Precision, ReferenceModel};

    /// Which reference runs each fixture: candle-transformers' where it
    /// reproduces sentence-transformers (when this build has it), ours
    /// elsewhere.
    #[test]
    fn the_reference_engine_runs_candle_transformers_where_it_matches() {
        let dir = |name: &str| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models").join(name);
        let library = |name: &str| matches!(open(&dir(name), Engine::Reference, Precision::Fp32).unwrap().built, Built::Reference(ReferenceModel::Library(_)));
        let built_with = cfg!(feature = "candle-transformers-oracle");
        eprintln!("candle-transformers in this build: {built_with}");
        for name in ["seed-standin", "bert-pytorch-bin", "xlm-roberta-cls", "roberta-bpe-st6", "modernbert-mean-st6"] {
            assert_eq!(library(name), built_with, "{name}");
        }
        for name in ["distilbert-max", "mpnet-mean-st6", "modernbert-cls-bias-st6"] {
            assert!(!library(name), "{name}");
        }
    }

    #[test]
    fn the_supported_list_names_every_registry_line() {
        for (name, _) in super::ARCHITECTURES {
            assert!(super::SUPPORTED.contains(&format!("('{name}')")), "{name}");
        }
        assert_eq!(super::SUPPORTED.matches("('").count(), super::ARCHITECTURES.len());
    }
}
