//! Reading a CrossEncoder directory in either format sentence-transformers
//! 6 loads (`CrossEncoder.__init__`, `_load_default_modules`,
//! `get_default_activation_fn`):
//! - 6.x: `modules.json` listing one Transformer module (its
//!   `sentence_bert_config.json` says `transformer_task:
//!   "sequence-classification"`), `config_sentence_transformers.json` with
//!   `activation_fn`, `prompts`, `default_prompt_name`;
//! - older releases (cross-encoder/ms-marco-*, BAAI/bge-reranker-*): no
//!   `modules.json`, the transformers checkpoint alone, the activation in
//!   `config.json`'s `sentence_transformers.activation_fn` (releases 4 and 5)
//!   or `sbert_ce_default_activation_function` (before 4), or nowhere.
//!
//! The truncation length resolves as for a SentenceTransformer
//! (`st_config::MaxLength`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::activation::ScoreActivation;
use crate::core::error::{Error, Result};
use crate::core::st_config::{length_value, read_json, read_json_or_default, MaxLength, TokenizerConfig, MODULE_CONFIG_NAMES};

/// What a CrossEncoder directory asks for, besides the transformer itself.
#[derive(Debug, Clone)]
pub(crate) struct CrossConfig {
    /// Folder holding `config.json`, `tokenizer.json` and the weights.
    pub transformer_dir: PathBuf,
    pub max_length: MaxLength,
    pub do_lower_case: bool,
    pub tokenizer: TokenizerConfig,
    pub prompts: BTreeMap<String, String>,
    pub default_prompt_name: Option<String>,
    /// The saved activation, if any says one (see [`ScoreActivation::resolve`]).
    pub activation: Option<ScoreActivation>,
    /// `config.json`'s label count (`id2label`'s size, else `num_labels`, else 2, as transformers reads it).
    pub num_labels: usize,
}

#[derive(Deserialize)]
struct ModuleEntry {
    #[serde(default)]
    path: String,
    #[serde(rename = "type")]
    kind: String,
}

/// The Transformer module's own config (any of sentence-transformers' names for it).
#[derive(Deserialize, Default)]
struct ModuleConfig {
    max_seq_length: Option<serde_json::Value>,
    #[serde(default)]
    do_lower_case: bool,
    transformer_task: Option<String>,
    modality_config: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(alias = "tokenizer_args")]
    processor_kwargs: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `config_sentence_transformers.json`'s CrossEncoder fields.
#[derive(Deserialize, Default)]
struct ModelConfig {
    #[serde(default)]
    prompts: BTreeMap<String, String>,
    default_prompt_name: Option<String>,
    activation_fn: Option<String>,
}

/// `config.json`'s fields sentence-transformers' CrossEncoder reads.
#[derive(Deserialize)]
struct HubConfig {
    id2label: Option<serde_json::Map<String, serde_json::Value>>,
    num_labels: Option<usize>,
    sentence_transformers: Option<HubSentenceTransformers>,
    sbert_ce_default_activation_function: Option<String>,
}

#[derive(Deserialize)]
struct HubSentenceTransformers {
    activation_fn: Option<String>,
}

impl CrossConfig {
    pub fn read(root: &Path) -> Result<Self> {
        if !root.is_dir() {
            return Err(Error::model(root, "model directory does not exist"));
        }
        let modules_path = root.join("modules.json");
        let transformer_dir = if modules_path.exists() {
            let modules: Vec<ModuleEntry> = read_json(&modules_path)?;
            let mut dir = None;
            for m in &modules {
                match m.kind.rsplit('.').next().unwrap_or_default() {
                    "Transformer" if dir.is_none() => dir = Some(root.join(&m.path)),
                    other => {
                        return Err(Error::Unsupported {
                            path: modules_path,
                            what: "CrossEncoder module",
                            value: other.to_string(),
                            supported: "one Transformer (sequence-classification)",
                        })
                    }
                }
            }
            dir.ok_or_else(|| Error::model(&modules_path, "no Transformer module is listed"))?
        } else {
            root.to_path_buf()
        };

        let (module_path, module) = read_module(&transformer_dir)?;
        let tokenizer_path = transformer_dir.join("tokenizer_config.json");
        let tokenizer: TokenizerConfig = read_json_or_default(&tokenizer_path)?;
        let explicit = match module.processor_kwargs.as_ref().and_then(|k| k.get("model_max_length")) {
            Some(v) => length_value(Some(v), &module_path, "processor_kwargs.model_max_length")?,
            None => length_value(module.max_seq_length.as_ref(), &module_path, "max_seq_length")?,
        };
        let max_length = match explicit {
            Some(n) => MaxLength::Explicit(n),
            None => MaxLength::Tokenizer(tokenizer.model_max_length(&tokenizer_path)?),
        };

        let st_path = root.join("config_sentence_transformers.json");
        let st: ModelConfig = read_json_or_default(&st_path)?;
        let hub_path = transformer_dir.join("config.json");
        let hub: HubConfig = read_json(&hub_path)?;
        let num_labels = match (&hub.id2label, hub.num_labels) {
            (Some(map), _) if !map.is_empty() => map.len(),
            (_, Some(n)) => n,
            _ => 2,
        };
        if num_labels == 0 {
            return Err(Error::model(&hub_path, "the model has no labels (num_labels 0)"));
        }
        // sentence-transformers' order: config_sentence_transformers.json,
        // then config.json's `sentence_transformers`, then the pre-4 key.
        let saved = [
            (st_path.as_path(), st.activation_fn.as_deref()),
            (hub_path.as_path(), hub.sentence_transformers.as_ref().and_then(|s| s.activation_fn.as_deref())),
            (hub_path.as_path(), hub.sbert_ce_default_activation_function.as_deref()),
        ];
        let activation = ScoreActivation::resolve(&saved)?;
        Ok(Self {
            transformer_dir,
            max_length,
            do_lower_case: module.do_lower_case,
            tokenizer,
            prompts: st.prompts,
            default_prompt_name: st.default_prompt_name,
            activation,
            num_labels,
        })
    }
}

/// The Transformer module's config, checked: a text-only sequence
/// classifier (no file: a plain checkpoint, as older releases saved).
fn read_module(dir: &Path) -> Result<(PathBuf, ModuleConfig)> {
    let Some(path) = MODULE_CONFIG_NAMES.iter().map(|name| dir.join(name)).find(|p| p.is_file()) else {
        return Ok((dir.join(MODULE_CONFIG_NAMES[0]), ModuleConfig::default()));
    };
    let config: ModuleConfig = read_json(&path)?;
    let unsupported = |what, value: String, supported| Error::Unsupported { path: path.clone(), what, value, supported };
    if let Some(task) = config.transformer_task.as_deref().filter(|t| *t != "sequence-classification") {
        return Err(unsupported("CrossEncoder transformer_task", task.to_string(), "sequence-classification"));
    }
    if let Some(other) = config.modality_config.iter().flat_map(BTreeMap::keys).find(|k| *k != "text") {
        return Err(unsupported("modality", other.clone(), "text"));
    }
    Ok((path, config))
}
