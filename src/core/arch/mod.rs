//! The architectures: the registry, ONE table with a line per architecture
//! (`config.json`'s `model_type`, the class-name prefix that stands for it
//! in `architectures` when `model_type` is absent, and its opener), and one
//! file per architecture. Each file holds all of its architecture: its
//! `config.json` fields beyond the shared [`TransformerConfig`] (if any),
//! its weight names and their loading from the `VarBuilder`, its
//! fast-engine forward pass built from the shared blocks of
//! `crate::core::cpu::blocks`, and its `open`, which packs the weights for
//! the fast engine or hands them to the reference engine.
//!
//! - `bert.rs` (BERT, XLM-RoBERTa / RoBERTa), `distilbert.rs`, `mpnet.rs`:
//!   names and loading on the shared post-norm encoder, `post_norm.rs` (a
//!   building block like `cpu/blocks.rs`: its weights, its fast forward,
//!   its opener).
//! - `modernbert.rs`: config, weights, fast forward and opener.
//! - `qwen3.rs`, `gemma3.rs`: their `config.json` read into the shared
//!   pre-norm decoder, `decoder.rs` (a building block like `post_norm.rs`).
//!
//! Adding an architecture takes one file here (its `open`, built from
//! `cpu/blocks.rs` and, for a post-norm encoder, `post_norm.rs`) and one
//! line in [`ARCHITECTURES`]; the "unsupported architecture" error lists
//! the table by itself. Its reference (the tests' oracle, in
//! `reference/`) is candle-transformers' model where that
//! reproduces sentence-transformers (glue in `reference/library.rs`:
//! a `LibraryModel` variant, its constructor and that constructor's stub
//! for builds without candle-transformers); otherwise one file there, a
//! forward pass in candle ops over this file's weights (as
//! `reference/post_norm.rs`, `reference/modernbert.rs`), and a
//! `ReferenceModel` variant.
//!
//! Dependencies run one way: the registry opens architectures; they build
//! on `crate::core::model` (reading a directory's files) and
//! `crate::core::cpu` (the fast engine's blocks and kernels), never back.

mod bert;
mod decoder;
mod distilbert;
mod gemma3;
pub(crate) mod modernbert;
mod mpnet;
pub(crate) mod post_norm;
mod qwen3;
mod reference;

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use candle_core::Device;
use candle_nn::VarBuilder;

use super::cpu::{packing, PackedModel};
use super::error::{Error, Result};
use super::precision::Precision;
use super::engine::Engine;
use super::model::{self, ConfigFile, TransformerConfig};
pub(crate) use reference::ReferenceModel;

/// A model's transformer, ready for one engine.
pub(crate) enum Built {
    Fast(PackedModel),
    Reference(ReferenceModel),
}

pub(crate) struct Opened {
    /// The architecture's `model_type` in the registry table.
    pub architecture: &'static str,
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
    /// Where embedding tables may be read in place: the fast engine's
    /// `model.safetensors` (see `model/embedding_table.rs`).
    fn tables(&self) -> model::TableSource<'_> {
        let safetensors = self.weights_path.extension().is_some_and(|e| e == "safetensors");
        model::TableSource((self.engine == Engine::Fast && safetensors).then_some(self.weights_path.as_path()))
    }

    /// A weights error names the weights file.
    fn weights_error(&self, e: candle_core::Error) -> Error {
        Error::model(&self.weights_path, e.to_string())
    }
}

type Open = fn(Source) -> Result<(Built, usize)>;

/// One line of the registry.
struct Architecture {
    /// `config.json`'s `model_type`.
    model_type: &'static str,
    /// The prefix of the class names in `architectures` (`…Model`,
    /// `…ForMaskedLM`, …) that stand for this model type when
    /// `model_type` is absent.
    class: &'static str,
    open: Open,
    /// Whether its layers use `config.json`'s `hidden_act` as the shared
    /// [`TransformerConfig`] reads it (checked at open); the decoders read
    /// their own activation field.
    hidden_act: bool,
}

/// The registry.
const ARCHITECTURES: [Architecture; 8] = [
    Architecture { model_type: "bert", class: "Bert", open: bert::open_bert, hidden_act: true },
    Architecture { model_type: "xlm-roberta", class: "XLMRoberta", open: bert::open_xlm_roberta, hidden_act: true },
    Architecture { model_type: "roberta", class: "Roberta", open: bert::open_xlm_roberta, hidden_act: true },
    Architecture { model_type: "distilbert", class: "DistilBert", open: distilbert::open, hidden_act: true },
    Architecture { model_type: "mpnet", class: "MPNet", open: mpnet::open, hidden_act: true },
    Architecture { model_type: "modernbert", class: "ModernBert", open: modernbert::open, hidden_act: true },
    Architecture { model_type: "qwen3", class: "Qwen3", open: qwen3::open, hidden_act: false },
    Architecture { model_type: "gemma3_text", class: "Gemma3Text", open: gemma3::open, hidden_act: false },
];

/// The table, as error messages list it: `BertModel ('bert'), …`.
static SUPPORTED: LazyLock<String> =
    LazyLock::new(|| ARCHITECTURES.iter().map(|a| format!("{}Model ('{}')", a.class, a.model_type)).collect::<Vec<_>>().join(", "));

/// The model type `config.json` names: `model_type`, or else the one whose
/// class prefix the first entry of `architectures` starts with (the
/// longest such), or else that entry itself.
pub(crate) fn model_type(model_type: Option<&str>, architectures: &[String]) -> String {
    match (model_type, architectures.first()) {
        (Some(t), _) => t.to_string(),
        (None, Some(class)) => ARCHITECTURES
            .iter()
            .filter(|a| class.starts_with(a.class))
            .max_by_key(|a| a.class.len())
            .map_or_else(|| class.clone(), |a| a.model_type.to_string()),
        (None, None) => "(none given)".into(),
    }
}

/// Opens the transformer stored in `dir` (`config.json` plus
/// `model.safetensors` or `pytorch_model.bin`) for `engine`, the fast
/// engine's linear layers in `precision`.
pub(crate) fn open(dir: &Path, engine: Engine, precision: Precision) -> Result<Opened> {
    let config_path = dir.join("config.json");
    let file = ConfigFile::read(&config_path)?;
    let id = file.identity()?;
    let arch = model_type(id.model_type.as_deref(), &id.architectures);
    let Some(line) = ARCHITECTURES.iter().find(|a| a.model_type == arch) else {
        return Err(Error::Unsupported { path: config_path, what: "architecture", value: arch, supported: SUPPORTED.as_str() });
    };
    let config = TransformerConfig::read(&file, line.hidden_act)?;
    let (vb, weights_path) = model::open_weights(dir, &Device::Cpu)?;
    let (built, position_limit) = (line.open)(Source { file: &file, config: &config, vb, weights_path, engine, precision })?;
    Ok(Opened { architecture: line.model_type, config, position_limit, built })
}

/// The fast engine's packing for this process.
fn pack<T: super::cpu::FastArchitecture + 'static>(src: &Source, make: impl FnOnce(super::cpu::blocks::Packing) -> candle_core::Result<T>) -> Result<Built> {
    let packing = packing(src.precision)?;
    let arch = Box::new(make(packing).map_err(|e| src.weights_error(e))?);
    Ok(Built::Fast(PackedModel::new(arch, src.config.hidden_size, src.config.intermediate_size)))
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
    fn the_supported_list_is_the_table() {
        assert_eq!(
            super::SUPPORTED.as_str(),
            "BertModel ('bert'), XLMRobertaModel ('xlm-roberta'), RobertaModel ('roberta'), \
DistilBertModel ('distilbert'), MPNetModel ('mpnet'), ModernBertModel ('modernbert'), \
Qwen3Model ('qwen3'), Gemma3TextModel ('gemma3_text')"
        );
    }

    #[test]
    fn a_class_name_without_model_type_resolves_through_the_table() {
        let resolve = |class: &str| super::model_type(None, &[class.to_string()]);
        for (class, want) in [
            ("BertModel", "bert"),
            ("BertForMaskedLM", "bert"),
            ("XLMRobertaModel", "xlm-roberta"),
            ("RobertaModel", "roberta"),
            ("DistilBertModel", "distilbert"),
            ("MPNetForMaskedLM", "mpnet"),
            ("ModernBertModel", "modernbert"),
            ("Qwen3Model", "qwen3"),
            ("Qwen3ForCausalLM", "qwen3"),
            ("Gemma3TextModel", "gemma3_text"),
            ("T5EncoderModel", "T5EncoderModel"),
        ] {
            assert_eq!(resolve(class), want, "{class}");
        }
        assert_eq!(super::model_type(Some("xlm-roberta"), &["BertModel".into()]), "xlm-roberta", "model_type first");
        assert_eq!(super::model_type(None, &[]), "(none given)");
    }

    /// Through `open`: an XLM-R `config.json` without `model_type` opens
    /// as XLM-RoBERTa (positions from `padding_idx + 1`: 512 of its 514
    /// position embeddings usable; as BERT it would be 514).
    #[test]
    fn a_config_with_only_architectures_opens_through_the_table() {
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models/xlm-roberta-cls");
        let tmp = tempfile::tempdir().unwrap();
        std::fs::copy(fixture.join("model.safetensors"), tmp.path().join("model.safetensors")).unwrap();
        let mut config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture.join("config.json")).unwrap()).unwrap();
        assert_eq!(config.as_object_mut().unwrap().remove("model_type"), Some("xlm-roberta".into()));
        std::fs::write(tmp.path().join("config.json"), config.to_string()).unwrap();
        for engine in [Engine::Fast, Engine::Reference] {
            let opened = open(tmp.path(), engine, Precision::Fp32).unwrap();
            assert_eq!(opened.position_limit, 512, "{engine:?}");
        }
    }
}
