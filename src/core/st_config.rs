//! Reading a sentence-transformers model directory: `modules.json`,
//! `sentence_bert_config.json` and `1_Pooling/config.json`, i.e. everything
//! that says *how* the transformer output becomes a sentence vector.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::error::{Error, Result};
use super::pooling::PoolingMode;

/// What a sentence-transformers directory asks for, module by module.
#[derive(Debug, Clone)]
pub(crate) struct SentenceTransformerConfig {
    /// Folder holding `config.json`, `tokenizer.json` and the weights.
    pub transformer_dir: PathBuf,
    /// Pooling modes, concatenated in sentence-transformers' order.
    pub pooling: Vec<PoolingMode>,
    /// Whether `modules.json` lists a Normalize module.
    pub normalize: bool,
    /// `max_seq_length` from `sentence_bert_config.json`, if given.
    pub max_seq_length: Option<usize>,
    /// `do_lower_case` from `sentence_bert_config.json`.
    pub do_lower_case: bool,
}

#[derive(Deserialize)]
struct ModuleEntry {
    #[serde(default)]
    path: String,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize, Default)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
    #[serde(default)]
    do_lower_case: bool,
}

/// `1_Pooling/config.json`, in either of sentence-transformers' formats:
/// one boolean per mode (`pooling_mode_mean_tokens`: true, ...; every
/// version writes or reads it) or, since sentence-transformers 6, a
/// `pooling_mode` name or list of names (`"mean"`, `["cls", "max"]`).
#[derive(Deserialize)]
struct PoolingConfig {
    pooling_mode: Option<OneOrMany>,
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
    #[serde(default)]
    pooling_mode_mean_sqrt_len_tokens: bool,
    #[serde(default)]
    pooling_mode_weightedmean_tokens: bool,
    #[serde(default)]
    pooling_mode_lasttoken: bool,
    #[serde(default = "default_true")]
    include_prompt: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

fn default_true() -> bool {
    true
}

const SUPPORTED_MODULES: &str = "Transformer, Pooling, Normalize";
const SUPPORTED_POOLING: &str = "cls, mean, max, mean_sqrt_len_tokens (or the pooling_mode_*_tokens flags of older files)";

/// Reads and parses a JSON file, naming the file in every error.
pub(crate) fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| Error::model(path, format!("cannot read: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::model(path, format!("invalid JSON: {e}")))
}

impl SentenceTransformerConfig {
    /// Reads the module list of `root`. A directory without `modules.json`
    /// is a plain Hugging Face model: sentence-transformers then uses mean
    /// pooling and no normalization, and so do we.
    pub fn read(root: &Path) -> Result<Self> {
        if !root.is_dir() {
            return Err(Error::model(root, "model directory does not exist"));
        }
        let modules_path = root.join("modules.json");
        let modules: Vec<ModuleEntry> = if modules_path.exists() {
            read_json(&modules_path)?
        } else {
            vec![
                ModuleEntry { path: String::new(), kind: "Transformer".into() },
                ModuleEntry { path: String::new(), kind: "Pooling".into() },
            ]
        };

        let mut transformer_dir = None;
        let mut pooling = None;
        let mut normalize = false;
        for module in &modules {
            let dir = root.join(&module.path);
            match module.kind.rsplit('.').next().unwrap_or_default() {
                "Transformer" => transformer_dir = Some(dir),
                "Pooling" if module.path.is_empty() => pooling = Some(vec![PoolingMode::Mean]),
                "Pooling" => pooling = Some(read_pooling(&dir.join("config.json"))?),
                "Normalize" => normalize = true,
                other => {
                    return Err(Error::Unsupported {
                        path: modules_path,
                        what: "module",
                        value: other.to_string(),
                        supported: SUPPORTED_MODULES,
                    })
                }
            }
        }
        let transformer_dir = transformer_dir
            .ok_or_else(|| Error::model(&modules_path, "no Transformer module is listed"))?;
        let pooling =
            pooling.ok_or_else(|| Error::model(&modules_path, "no Pooling module is listed"))?;

        let sbert_path = transformer_dir.join("sentence_bert_config.json");
        let sbert: SentenceBertConfig = if sbert_path.exists() {
            read_json(&sbert_path)?
        } else {
            SentenceBertConfig::default()
        };
        if sbert.max_seq_length == Some(0) {
            return Err(Error::model(&sbert_path, "max_seq_length must be at least 1"));
        }

        Ok(Self {
            transformer_dir,
            pooling,
            normalize,
            max_seq_length: sbert.max_seq_length,
            do_lower_case: sbert.do_lower_case,
        })
    }
}

fn read_pooling(path: &Path) -> Result<Vec<PoolingMode>> {
    let cfg: PoolingConfig = read_json(path)?;
    let unsupported = |value: &str| Error::Unsupported {
        path: path.to_path_buf(),
        what: "pooling mode",
        value: value.to_string(),
        supported: SUPPORTED_POOLING,
    };
    if !cfg.include_prompt {
        return Err(unsupported("include_prompt=false"));
    }
    // Names in the order they are concatenated: the list's order in the new
    // format; cls, max, mean, mean_sqrt_len in the old one (the order
    // sentence-transformers converts the flags in).
    let names: Vec<String> = match cfg.pooling_mode {
        Some(OneOrMany::One(name)) => vec![name],
        Some(OneOrMany::Many(names)) => names,
        None => [
            (cfg.pooling_mode_cls_token, "cls"),
            (cfg.pooling_mode_max_tokens, "max"),
            (cfg.pooling_mode_mean_tokens, "mean"),
            (cfg.pooling_mode_mean_sqrt_len_tokens, "mean_sqrt_len_tokens"),
            (cfg.pooling_mode_weightedmean_tokens, "weightedmean_tokens"),
            (cfg.pooling_mode_lasttoken, "lasttoken"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then(|| name.to_string()))
        .collect(),
    };
    if names.is_empty() {
        return Err(Error::model(path, "no pooling mode is enabled"));
    }
    names
        .iter()
        .map(|name| match name.as_str() {
            "cls" | "cls_token" => Ok(PoolingMode::Cls),
            "max" | "max_tokens" => Ok(PoolingMode::Max),
            "mean" | "mean_tokens" => Ok(PoolingMode::Mean),
            "mean_sqrt_len_tokens" => Ok(PoolingMode::MeanSqrtLen),
            other => Err(unsupported(other)),
        })
        .collect()
}
