//! Reading a sentence-transformers model directory: `modules.json`, the
//! Transformer module's `sentence_bert_config.json`, `tokenizer_config.json`,
//! `1_Pooling/config.json`, the Dense modules' `config.json` and
//! `config_sentence_transformers.json`, i.e.
//! everything that says *how* text becomes tokens and the transformer
//! output becomes a sentence vector.
//!
//! Parity is defined against sentence-transformers 6.x, which reads both
//! its own format and the one older releases wrote; where they differ, 6.x
//! wins (see `MaxLength` for the truncation length, and `text` handling:
//! 6.x does not strip texts).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::dense_module::{DenseActivation, DenseConfig, SUPPORTED_ACTIVATIONS};
use super::error::{Error, Result};
use super::pooling::PoolingMode;

/// What a sentence-transformers directory asks for, module by module.
#[derive(Debug, Clone)]
pub(crate) struct SentenceTransformerConfig {
    /// Folder holding `config.json`, `tokenizer.json` and the weights (of
    /// the StaticEmbedding module, when `static_embedding`).
    pub transformer_dir: PathBuf,
    /// The input module is a `StaticEmbedding` (an embedding bag, see
    /// `static_embedding.rs`), not a Transformer: no Pooling follows it.
    pub static_embedding: bool,
    /// Pooling modes, concatenated in sentence-transformers' order.
    pub pooling: Vec<PoolingMode>,
    /// `include_prompt` of the Pooling module: whether prompt tokens count
    /// in pooling.
    pub include_prompt: bool,
    /// Whether `modules.json` lists a Normalize module.
    pub normalize: bool,
    /// The modules after Pooling (Dense, Normalize), in `modules.json`'s
    /// order, as sentence-transformers runs them.
    pub after_pooling: Vec<AfterPooling>,
    /// Where the truncation length comes from (resolved once the model's
    /// `max_position_embeddings` is known).
    pub max_length: MaxLength,
    /// `do_lower_case` of the Transformer module's config.
    pub do_lower_case: bool,
    /// `tokenizer_config.json`: the class transformers builds, and its options.
    pub tokenizer: TokenizerConfig,
    /// `config_sentence_transformers.json`'s `prompts`, by name.
    pub prompts: BTreeMap<String, String>,
    /// `config_sentence_transformers.json`'s `default_prompt_name`.
    pub default_prompt_name: Option<String>,
}

/// A module that follows Pooling.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AfterPooling {
    Dense(DenseConfig),
    Normalize,
}

impl SentenceTransformerConfig {
    /// Whether the last module is Normalize (the vectors leave the
    /// modules at unit length).
    pub fn normalize_is_last(&self) -> bool {
        self.after_pooling.last() == Some(&AfterPooling::Normalize)
    }
}

/// How sentence-transformers 6 resolves the truncation length
/// (`Transformer.__init__`, then `Transformer.max_seq_length`, which reads
/// the tokenizer's `model_max_length`):
/// 1. `model_max_length` in the module's `processor_kwargs` (or the older
///    `tokenizer_args`) wins, as given;
/// 2. else the legacy `max_seq_length` key of `sentence_bert_config.json`
///    (what releases before 6 wrote), as given;
/// 3. else the tokenizer's own `model_max_length` (`tokenizer_config.json`;
///    absent means transformers' "very large integer", i.e. unset), capped
///    at `config.json`'s `max_position_embeddings` unless that is -1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MaxLength {
    Explicit(usize),
    Tokenizer(Option<usize>),
}

impl MaxLength {
    /// The truncation length for a model with `max_position_embeddings`
    /// (`None` when the config has none, or -1).
    pub fn resolve(self, max_position_embeddings: Option<usize>) -> Option<usize> {
        match (self, max_position_embeddings) {
            (MaxLength::Explicit(n), _) => Some(n),
            (MaxLength::Tokenizer(t), Some(p)) => Some(t.map_or(p, |t| t.min(p))),
            (MaxLength::Tokenizer(t), None) => t,
        }
    }
}

/// `tokenizer_config.json`, beside `tokenizer.json`.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct TokenizerConfig {
    pub tokenizer_class: Option<String>,
    pub add_prefix_space: Option<bool>,
    /// A number, possibly transformers' `int(1e30)` sentinel (too large for
    /// any integer type), hence read as JSON.
    model_max_length: Option<serde_json::Value>,
}

impl TokenizerConfig {
    /// transformers writes `VERY_LARGE_INTEGER` (`int(1e30)`) when no limit
    /// is known; anything this large means "unset".
    const UNSET_FROM: f64 = 1e18;

    pub(crate) fn model_max_length(&self, path: &Path) -> Result<Option<usize>> {
        length_value(self.model_max_length.as_ref(), path, "model_max_length")
    }
}

/// A length read from JSON: `None` when absent, null or at least
/// [`TokenizerConfig::UNSET_FROM`]; an error unless a positive integer.
pub(crate) fn length_value(value: Option<&serde_json::Value>, path: &Path, key: &str) -> Result<Option<usize>> {
    let Some(value) = value.filter(|v| !v.is_null()) else { return Ok(None) };
    let number = value.as_f64().filter(|n| *n >= 1.0 && n.fract() == 0.0);
    match number {
        Some(n) if n >= TokenizerConfig::UNSET_FROM => Ok(None),
        Some(n) => Ok(Some(n as usize)),
        None => Err(Error::model(path, format!("{key} must be a positive integer, got {value}"))),
    }
}

#[derive(Deserialize)]
struct ModuleEntry {
    #[serde(default)]
    path: String,
    #[serde(rename = "type")]
    kind: String,
}

/// The Transformer module's own config, in any format sentence-transformers
/// reads: the legacy keys (`max_seq_length`, `do_lower_case`) and 6.x's
/// (`transformer_task`, `modality_config`, `processor_kwargs`, ...).
#[derive(Deserialize, Default)]
struct TransformerModuleConfig {
    max_seq_length: Option<serde_json::Value>,
    #[serde(default)]
    do_lower_case: bool,
    transformer_task: Option<String>,
    modality_config: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(alias = "tokenizer_args")]
    processor_kwargs: Option<serde_json::Map<String, serde_json::Value>>,
    processing_kwargs: Option<BTreeMap<String, serde_json::Value>>,
}

/// The file names sentence-transformers tries, in its order, for the
/// Transformer module's config (the later ones from its first releases).
pub(crate) const MODULE_CONFIG_NAMES: [&str; 7] = [
    "sentence_bert_config.json",
    "sentence_roberta_config.json",
    "sentence_distilbert_config.json",
    "sentence_camembert_config.json",
    "sentence_albert_config.json",
    "sentence_xlm-roberta_config.json",
    "sentence_xlnet_config.json",
];

/// `1_Pooling/config.json`, in either of sentence-transformers' formats:
/// one boolean per mode (`pooling_mode_mean_tokens`: true, ...; every
/// version reads it) or, since sentence-transformers 6, a `pooling_mode`
/// name or list of names (`"mean"`, `["cls", "max"]`).
#[derive(Deserialize)]
struct PoolingConfig {
    pooling_mode: Option<OneOrMany>,
    pooling_mode_cls_token: Option<bool>,
    pooling_mode_max_tokens: Option<bool>,
    pooling_mode_mean_tokens: Option<bool>,
    pooling_mode_mean_sqrt_len_tokens: Option<bool>,
    pooling_mode_weightedmean_tokens: Option<bool>,
    pooling_mode_lasttoken: Option<bool>,
    #[serde(default = "default_true")]
    include_prompt: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// `config_sentence_transformers.json`: the parts that change vectors.
#[derive(Deserialize, Default)]
struct ModelConfig {
    #[serde(default)]
    prompts: BTreeMap<String, String>,
    default_prompt_name: Option<String>,
}

fn default_true() -> bool {
    true
}

const SUPPORTED_MODULES: &str = "Transformer, StaticEmbedding, Pooling, Dense, Normalize";
const SUPPORTED_POOLING: &str = "cls, mean, max, mean_sqrt_len_tokens, weightedmean, lasttoken \
                                 (or the pooling_mode_* flags of older files)";

/// Reads and parses a JSON file, naming the file in every error.
pub(crate) fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| Error::model(path, format!("cannot read: {e}")))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::model(path, format!("invalid JSON: {e}")))
}

/// Like [`read_json`], or the default when the file does not exist.
pub(crate) fn read_json_or_default<T: for<'de> Deserialize<'de> + Default>(path: &Path) -> Result<T> {
    if path.is_file() {
        read_json(path)
    } else {
        Ok(T::default())
    }
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
        let mut static_embedding = false;
        let mut pooling = None;
        let mut after_pooling = Vec::new();
        for module in &modules {
            let dir = root.join(&module.path);
            match module.kind.rsplit('.').next().unwrap_or_default() {
                "Transformer" => transformer_dir = Some(dir),
                "StaticEmbedding" => {
                    transformer_dir = Some(dir);
                    static_embedding = true;
                }
                "Pooling" if static_embedding => {
                    return Err(Error::model(&modules_path, "a Pooling module after StaticEmbedding (which outputs sentence vectors, not token vectors)"))
                }
                "Pooling" if module.path.is_empty() => pooling = Some((vec![PoolingMode::Mean], true)),
                "Pooling" => pooling = Some(read_pooling(&dir.join("config.json"))?),
                "Dense" | "Normalize" if pooling.is_none() && !static_embedding => {
                    return Err(Error::model(&modules_path, format!("{} is listed before Pooling", module.kind)))
                }
                "Dense" => after_pooling.push(AfterPooling::Dense(read_dense(&dir.join("config.json"))?)),
                "Normalize" => after_pooling.push(AfterPooling::Normalize),
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
        let model: ModelConfig = read_json_or_default(&root.join("config_sentence_transformers.json"))?;
        if static_embedding {
            return Ok(Self {
                transformer_dir,
                static_embedding,
                pooling: Vec::new(),
                include_prompt: true,
                normalize: after_pooling.contains(&AfterPooling::Normalize),
                after_pooling,
                // The module has no max_seq_length: its tokenizer's own truncation rules.
                max_length: MaxLength::Tokenizer(None),
                do_lower_case: false,
                tokenizer: TokenizerConfig::default(),
                prompts: model.prompts,
                default_prompt_name: model.default_prompt_name,
            });
        }
        let (pooling, include_prompt) =
            pooling.ok_or_else(|| Error::model(&modules_path, "no Pooling module is listed"))?;

        let TransformerInput { max_length, do_lower_case, tokenizer } = TransformerInput::read(&transformer_dir, "feature-extraction")?;

        Ok(Self {
            transformer_dir,
            static_embedding,
            pooling,
            include_prompt,
            normalize: after_pooling.contains(&AfterPooling::Normalize),
            after_pooling,
            max_length,
            do_lower_case,
            tokenizer,
            prompts: model.prompts,
            default_prompt_name: model.default_prompt_name,
        })
    }
}

/// How a Transformer module's folder turns text into tokens.
pub(crate) struct TransformerInput {
    pub max_length: MaxLength,
    pub do_lower_case: bool,
    pub tokenizer: TokenizerConfig,
}

impl TransformerInput {
    /// Reads the Transformer module in `dir`, whose `transformer_task`
    /// (absent: as `task`) must be `task` (`feature-extraction` for a
    /// SentenceTransformer, `fill-mask` for a SPLADE SparseEncoder).
    pub fn read(dir: &Path, task: &'static str) -> Result<Self> {
        let (module_path, module) = read_transformer_module(dir, task)?;
        let tokenizer_path = dir.join("tokenizer_config.json");
        let tokenizer: TokenizerConfig = read_json_or_default(&tokenizer_path)?;
        let explicit = match module.processor_kwargs.as_ref().and_then(|k| k.get("model_max_length")) {
            Some(v) => length_value(Some(v), &module_path, "processor_kwargs.model_max_length")?,
            None => length_value(module.max_seq_length.as_ref(), &module_path, "max_seq_length")?,
        };
        let max_length = match explicit {
            Some(n) => MaxLength::Explicit(n),
            None => MaxLength::Tokenizer(tokenizer.model_max_length(&tokenizer_path)?),
        };
        Ok(Self { max_length, do_lower_case: module.do_lower_case, tokenizer })
    }
}

/// The Transformer module's config (the first of [`MODULE_CONFIG_NAMES`]
/// present), checked for what sbert4j implements: a text-only module of
/// `task` with the processor's default text handling.
fn read_transformer_module(dir: &Path, task: &'static str) -> Result<(PathBuf, TransformerModuleConfig)> {
    let Some(path) = MODULE_CONFIG_NAMES.iter().map(|name| dir.join(name)).find(|p| p.is_file()) else {
        return Ok((dir.join(MODULE_CONFIG_NAMES[0]), TransformerModuleConfig::default()));
    };
    let config: TransformerModuleConfig = read_json(&path)?;
    let unsupported = |what, value: String, supported| Error::Unsupported { path: path.clone(), what, value, supported };
    if let Some(other) = config.transformer_task.as_deref().filter(|t| *t != task) {
        return Err(unsupported("transformer_task", other.to_string(), task));
    }
    if let Some(other) = config.modality_config.iter().flat_map(BTreeMap::keys).find(|k| *k != "text") {
        return Err(unsupported("modality", other.clone(), "text"));
    }
    // Per-call processor options (`processing_kwargs`) that change the
    // tokens: refused rather than silently ignored.
    for (scope, value) in config.processing_kwargs.iter().flatten() {
        let keys = value.as_object().into_iter().flat_map(|o| o.keys());
        if let Some(key) = keys.filter(|_| matches!(scope.as_str(), "text" | "common")).next() {
            return Err(unsupported("processing_kwargs option", format!("{scope}.{key}"), "none"));
        }
    }
    Ok((path, config))
}

/// A Dense module's `config.json` (every sentence-transformers version's
/// keys), checked for what sbert4j implements.
#[derive(Deserialize)]
struct DenseFile {
    in_features: usize,
    out_features: usize,
    #[serde(default = "default_true")]
    bias: bool,
    /// Absent: the constructor's default, Tanh.
    activation_function: Option<String>,
    #[serde(default)]
    use_residual: bool,
    module_input_name: Option<String>,
    module_output_name: Option<String>,
}

fn read_dense(path: &Path) -> Result<DenseConfig> {
    let cfg: DenseFile = read_json(path)?;
    let unsupported = |what, value: String, supported| Error::Unsupported { path: path.to_path_buf(), what, value, supported };
    let name = cfg.activation_function.as_deref().unwrap_or("torch.nn.modules.activation.Tanh");
    let activation = DenseActivation::parse(name)
        .ok_or_else(|| unsupported("Dense activation_function", name.to_string(), SUPPORTED_ACTIVATIONS))?;
    if cfg.use_residual {
        return Err(unsupported("Dense use_residual", "true".into(), "false"));
    }
    for (what, value) in [("Dense module_input_name", &cfg.module_input_name), ("Dense module_output_name", &cfg.module_output_name)] {
        if let Some(v) = value.as_deref().filter(|v| *v != "sentence_embedding") {
            return Err(unsupported(what, v.to_string(), "sentence_embedding"));
        }
    }
    if cfg.in_features == 0 || cfg.out_features == 0 {
        return Err(Error::model(path, "in_features and out_features must be positive"));
    }
    Ok(DenseConfig {
        dir: path.parent().unwrap_or(Path::new(".")).to_path_buf(),
        in_features: cfg.in_features,
        out_features: cfg.out_features,
        bias: cfg.bias,
        activation,
    })
}

fn read_pooling(path: &Path) -> Result<(Vec<PoolingMode>, bool)> {
    let cfg: PoolingConfig = read_json(path)?;
    let unsupported = |value: &str| Error::Unsupported {
        path: path.to_path_buf(),
        what: "pooling mode",
        value: value.to_string(),
        supported: SUPPORTED_POOLING,
    };
    // Names in the order they are concatenated: the list's order in the new
    // format; in the old one, the order sentence-transformers converts the
    // flags in, and mean when none is on (as its conversion does).
    let flags = [
        (cfg.pooling_mode_cls_token, "cls"),
        (cfg.pooling_mode_max_tokens, "max"),
        (cfg.pooling_mode_mean_tokens, "mean"),
        (cfg.pooling_mode_mean_sqrt_len_tokens, "mean_sqrt_len_tokens"),
        (cfg.pooling_mode_weightedmean_tokens, "weightedmean"),
        (cfg.pooling_mode_lasttoken, "lasttoken"),
    ];
    let names: Vec<String> = match cfg.pooling_mode {
        Some(OneOrMany::One(name)) => vec![name],
        Some(OneOrMany::Many(names)) => names,
        None => {
            let on: Vec<String> =
                flags.iter().filter(|(on, _)| *on == Some(true)).map(|(_, name)| name.to_string()).collect();
            if on.is_empty() {
                vec!["mean".to_string()]
            } else {
                on
            }
        }
    };
    if names.is_empty() {
        return Err(Error::model(path, "pooling_mode names no mode"));
    }
    let modes = names
        .iter()
        .map(|name| match name.as_str() {
            "cls" | "cls_token" => Ok(PoolingMode::Cls),
            "max" | "max_tokens" => Ok(PoolingMode::Max),
            "mean" | "mean_tokens" => Ok(PoolingMode::Mean),
            "mean_sqrt_len_tokens" => Ok(PoolingMode::MeanSqrtLen),
            "weightedmean" | "weightedmean_tokens" => Ok(PoolingMode::WeightedMean),
            "lasttoken" => Ok(PoolingMode::LastToken),
            other => Err(unsupported(other)),
        })
        .collect::<Result<_>>()?;
    Ok((modes, cfg.include_prompt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_length_resolves_as_sentence_transformers_6() {
        assert_eq!(MaxLength::Explicit(256).resolve(Some(128)), Some(256), "an explicit length is not capped");
        assert_eq!(MaxLength::Tokenizer(Some(1024)).resolve(Some(512)), Some(512));
        assert_eq!(MaxLength::Tokenizer(Some(128)).resolve(Some(512)), Some(128));
        assert_eq!(MaxLength::Tokenizer(None).resolve(Some(514)), Some(514));
        assert_eq!(MaxLength::Tokenizer(None).resolve(None), None);
    }

    #[test]
    fn transformers_unset_sentinel_means_no_length() {
        let p = Path::new("tokenizer_config.json");
        let v: serde_json::Value = serde_json::from_str("1000000000000000019884624838656").unwrap();
        assert_eq!(length_value(Some(&v), p, "k").unwrap(), None);
        assert_eq!(length_value(Some(&serde_json::json!(512)), p, "k").unwrap(), Some(512));
        assert_eq!(length_value(Some(&serde_json::Value::Null), p, "k").unwrap(), None);
        assert!(length_value(Some(&serde_json::json!(0)), p, "k").is_err());
        assert!(length_value(Some(&serde_json::json!("512")), p, "k").is_err());
    }
}
