//! `config.json` of a Hugging Face transformer, the fields sbert4j reads.

use std::path::Path;

use serde::Deserialize;

use crate::core::error::{Error, Result};
use crate::core::st_config::read_json;

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct TransformerConfig {
    pub vocab_size: usize,
    // The aliases are DistilBERT's names for the same quantities.
    #[serde(alias = "dim")]
    pub hidden_size: usize,
    #[serde(alias = "n_layers")]
    pub num_hidden_layers: usize,
    #[serde(alias = "n_heads")]
    pub num_attention_heads: usize,
    #[serde(alias = "hidden_dim")]
    pub intermediate_size: usize,
    #[serde(default = "default_act", alias = "activation")]
    pub hidden_act: String,
    pub max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    /// `null` in some decoders' files (Qwen3): 0 then, as absent.
    #[serde(default, deserialize_with = "null_as_default")]
    pub pad_token_id: u32,
    #[serde(default = "default_position_type")]
    pub position_embedding_type: String,
    /// MPNet: rows of the relative position bias table.
    #[serde(default = "default_buckets")]
    pub relative_attention_num_buckets: usize,
}

fn null_as_default<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<u32, D::Error> {
    Ok(Option::<u32>::deserialize(d)?.unwrap_or_default())
}

fn default_act() -> String {
    "gelu".into()
}
fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}
fn default_buckets() -> usize {
    32
}
fn default_position_type() -> String {
    "absolute".into()
}

/// `config.json`'s content, parsed once: first asked which architecture it
/// names, then read as that architecture's configuration.
pub(crate) struct ConfigFile<'a> {
    pub path: &'a Path,
    json: serde_json::Value,
}

impl<'a> ConfigFile<'a> {
    pub fn read(path: &'a Path) -> Result<Self> {
        Ok(Self { path, json: read_json(path)? })
    }

    pub fn parse<T: for<'de> Deserialize<'de>>(&self) -> Result<T> {
        T::deserialize(&self.json).map_err(|e| Error::model(self.path, format!("invalid JSON: {e}")))
    }

    /// What names the architecture, read before the rest so that an
    /// unsupported model is reported as such, not as a missing field (the
    /// registry, `crate::core::arch`, resolves it).
    pub fn identity(&self) -> Result<Identity> {
        self.parse()
    }
}

impl TransformerConfig {
    /// The shared fields; `hidden_act` is checked where the architecture
    /// uses it (`check_activation`; the decoders read their own).
    pub fn read(file: &ConfigFile, check_activation: bool) -> Result<Self> {
        let path = file.path;
        let cfg: Self = file.parse()?;
        let check = |ok: bool, what: &str| {
            if ok {
                Ok(())
            } else {
                Err(Error::model(path, what.to_string()))
            }
        };
        check(cfg.hidden_size > 0 && cfg.num_attention_heads > 0, "hidden_size and num_attention_heads must be positive")?;
        check(
            cfg.hidden_size % cfg.num_attention_heads == 0,
            "hidden_size must be a multiple of num_attention_heads",
        )?;
        check(cfg.max_position_embeddings > 0, "max_position_embeddings must be positive")?;
        if check_activation && Activation::parse(&cfg.hidden_act).is_none() {
            return Err(Error::Unsupported {
                path: path.to_path_buf(),
                what: "hidden_act",
                value: cfg.hidden_act.clone(),
                supported: ACTIVATIONS,
            });
        }
        if cfg.position_embedding_type != "absolute" {
            return Err(Error::Unsupported {
                path: path.to_path_buf(),
                what: "position_embedding_type",
                value: cfg.position_embedding_type.clone(),
                supported: "absolute",
            });
        }
        Ok(cfg)
    }

    pub fn activation(&self) -> Activation {
        Activation::parse(&self.hidden_act).unwrap_or(Activation::GeluErf)
    }
}

/// Just what names the architecture.
#[derive(Deserialize)]
pub(crate) struct Identity {
    #[serde(default)]
    pub architectures: Vec<String>,
    #[serde(default)]
    pub model_type: Option<String>,
}

/// The activation names [`Activation::parse`] knows.
pub(crate) const ACTIVATIONS: &str = "gelu, gelu_new, gelu_pytorch_tanh, relu";

/// The feed-forward activation named by `hidden_act`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Activation {
    /// `gelu`: the exact erf form, as PyTorch computes it.
    GeluErf,
    /// `gelu_new` / `gelu_pytorch_tanh`: the tanh approximation.
    GeluTanh,
    Relu,
}

impl Activation {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "gelu" => Some(Self::GeluErf),
            "gelu_new" | "gelu_pytorch_tanh" => Some(Self::GeluTanh),
            "relu" => Some(Self::Relu),
            _ => None,
        }
    }

    pub fn apply(self, xs: &candle_core::Tensor) -> candle_core::Result<candle_core::Tensor> {
        match self {
            Self::GeluErf => xs.gelu_erf(),
            Self::GeluTanh => xs.gelu(),
            Self::Relu => xs.relu(),
        }
    }
}
