//! ModernBERT (`model_type: modernbert`, gte-modernbert-base,
//! modernbert-embed-base): its `config.json` fields and its weights, shared
//! by the fast engine (`arch/modernbert.rs`) and the reference
//! (`modernbert_reference.rs`). As transformers 5's `ModernBertModel`:
//! token embeddings + layer norm (no positions: rotary embeddings in each
//! attention, with one theta for global layers and one for sliding-window
//! layers); pre-norm layers (layer 0 has no attention norm); fused `Wqkv`;
//! GeGLU feed-forward (`Wi` → input | gate, `act(input) · gate`, `Wo`);
//! biases only where `attention_bias` / `mlp_bias` / `norm_bias` say;
//! global attention every `global_attn_every_n_layers` layers (or as
//! `layer_types` lists), the others seeing keys at most `local_attention /
//! 2` positions away; a final layer norm, whose output is what
//! sentence-transformers pools.

use candle_core::{Result as CandleResult, Tensor};
use candle_nn::VarBuilder;
use serde::Deserialize;

use super::config::{Activation, ConfigFile, ACTIVATIONS};
use super::layer::model_root;
use crate::core::error::{Error, Result};

#[derive(Debug, Clone, Deserialize)]
struct RawConfig {
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    intermediate_size: usize,
    vocab_size: usize,
    #[serde(default = "default_activation")]
    hidden_activation: String,
    #[serde(default = "default_eps")]
    norm_eps: f64,
    #[serde(default)]
    norm_bias: bool,
    #[serde(default)]
    attention_bias: bool,
    #[serde(default)]
    mlp_bias: bool,
    #[serde(default = "default_local")]
    local_attention: usize,
    #[serde(default = "default_every")]
    global_attn_every_n_layers: usize,
    #[serde(default)]
    layer_types: Option<Vec<String>>,
    /// transformers 5: `{"full_attention": {"rope_theta", "rope_type"}, "sliding_attention": {...}}`.
    #[serde(default)]
    rope_parameters: Option<serde_json::Map<String, serde_json::Value>>,
    /// transformers 4 (most configs on the Hub).
    #[serde(default)]
    global_rope_theta: Option<f64>,
    #[serde(default)]
    local_rope_theta: Option<f64>,
}

fn default_activation() -> String {
    "gelu".into()
}
fn default_eps() -> f64 {
    1e-5
}
fn default_local() -> usize {
    128
}
fn default_every() -> usize {
    3
}

/// One layer's kind of attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LayerKind {
    Global,
    /// Keys at most `window` positions from the query.
    Sliding,
}

#[derive(Debug, Clone)]
pub(crate) struct ModernBertConfig {
    pub hidden: usize,
    pub heads: usize,
    pub intermediate: usize,
    pub vocab: usize,
    pub act: Activation,
    pub eps: f64,
    pub norm_bias: bool,
    pub attention_bias: bool,
    pub mlp_bias: bool,
    pub layers: Vec<LayerKind>,
    /// |query − key| ≤ window in sliding layers (`local_attention / 2`).
    pub window: usize,
    pub global_theta: f64,
    pub local_theta: f64,
    /// `global_attn_every_n_layers` as the file gives it (default 3).
    #[cfg_attr(not(feature = "candle-transformers-oracle"), allow(dead_code))]
    every: usize,
}

impl ModernBertConfig {
    pub fn read(file: &ConfigFile) -> Result<Self> {
        let path = file.path;
        let raw: RawConfig = file.parse()?;
        let unsupported = |what: &'static str, value: String, supported: &'static str| Error::Unsupported {
            path: path.to_path_buf(),
            what,
            value,
            supported,
        };
        let act = Activation::parse(&raw.hidden_activation)
            .ok_or_else(|| unsupported("hidden_activation", raw.hidden_activation.clone(), ACTIVATIONS))?;
        if raw.hidden_size == 0 || raw.num_attention_heads == 0 || raw.hidden_size % raw.num_attention_heads != 0 {
            return Err(Error::model(path, "hidden_size must be a positive multiple of num_attention_heads"));
        }
        if (raw.hidden_size / raw.num_attention_heads) % 2 != 0 {
            return Err(Error::model(path, "hidden_size / num_attention_heads must be even for rotary position embeddings"));
        }
        let layers = match &raw.layer_types {
            Some(types) => {
                if types.len() != raw.num_hidden_layers {
                    return Err(Error::model(path, format!("layer_types lists {} layers, num_hidden_layers is {}", types.len(), raw.num_hidden_layers)));
                }
                types
                    .iter()
                    .map(|t| match t.as_str() {
                        "full_attention" => Ok(LayerKind::Global),
                        "sliding_attention" => Ok(LayerKind::Sliding),
                        other => Err(unsupported("layer_types entry", other.to_string(), "full_attention, sliding_attention")),
                    })
                    .collect::<Result<Vec<_>>>()?
            }
            None => {
                if raw.global_attn_every_n_layers == 0 {
                    return Err(Error::model(path, "global_attn_every_n_layers must be positive"));
                }
                (0..raw.num_hidden_layers)
                    .map(|i| if i % raw.global_attn_every_n_layers == 0 { LayerKind::Global } else { LayerKind::Sliding })
                    .collect()
            }
        };
        let theta = |kind: &str, legacy: Option<f64>, default: f64| -> Result<f64> {
            let Some(params) = raw.rope_parameters.as_ref().and_then(|p| p.get(kind)).filter(|p| !p.is_null()) else {
                return Ok(legacy.unwrap_or(default));
            };
            let rope_type = params.get("rope_type").and_then(|v| v.as_str()).unwrap_or("default");
            if rope_type != "default" {
                return Err(unsupported("rope_parameters rope_type", rope_type.to_string(), "default"));
            }
            Ok(params.get("rope_theta").and_then(|v| v.as_f64()).or(legacy).unwrap_or(default))
        };
        Ok(Self {
            hidden: raw.hidden_size,
            heads: raw.num_attention_heads,
            intermediate: raw.intermediate_size,
            vocab: raw.vocab_size,
            act,
            eps: raw.norm_eps,
            norm_bias: raw.norm_bias,
            attention_bias: raw.attention_bias,
            mlp_bias: raw.mlp_bias,
            layers,
            window: raw.local_attention / 2,
            global_theta: theta("full_attention", raw.global_rope_theta, 160_000.0)?,
            local_theta: theta("sliding_attention", raw.local_rope_theta, 10_000.0)?,
            every: raw.global_attn_every_n_layers,
        })
    }

    /// n, when the layers are global every n layers (from layer 0) and
    /// sliding otherwise; `None` for any other `layer_types`.
    #[cfg_attr(not(feature = "candle-transformers-oracle"), allow(dead_code))]
    pub fn global_every(&self) -> Option<usize> {
        let n = self.every;
        let pattern = (0..self.layers.len()).all(|i| (self.layers[i] == LayerKind::Global) == (n > 0 && i % n == 0));
        pattern.then_some(n)
    }

    pub fn head_dim(&self) -> usize {
        self.hidden / self.heads
    }
}

/// A linear layer: `weight` (out, in), `bias` (out) where the model has one.
pub(crate) struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
}

pub(crate) struct Norm {
    pub gamma: Tensor,
    pub beta: Option<Tensor>,
    pub eps: f64,
}

pub(crate) struct Layer {
    pub kind: LayerKind,
    /// `None` in layer 0 (transformers' `nn.Identity`).
    pub attn_norm: Option<Norm>,
    /// (3h, h): q | k | v.
    pub wqkv: Linear,
    pub wo: Linear,
    pub mlp_norm: Norm,
    /// (2i, h): input | gate.
    pub wi: Linear,
    pub mlp_wo: Linear,
}

pub(crate) struct ModernBertWeights {
    pub config: ModernBertConfig,
    pub tok_embeddings: Tensor,
    pub emb_norm: Norm,
    pub layers: Vec<Layer>,
    pub final_norm: Norm,
}

fn linear(vb: VarBuilder, inputs: usize, outputs: usize, bias: bool) -> CandleResult<Linear> {
    Ok(Linear { weight: vb.get((outputs, inputs), "weight")?, bias: if bias { Some(vb.get(outputs, "bias")?) } else { None } })
}

fn norm(vb: VarBuilder, cfg: &ModernBertConfig) -> CandleResult<Norm> {
    let h = cfg.hidden;
    Ok(Norm { gamma: vb.get(h, "weight")?, beta: if cfg.norm_bias { Some(vb.get(h, "bias")?) } else { None }, eps: cfg.eps })
}

/// Loads the weights, at the root or under `model.` (ModernBertForMaskedLM
/// and the other task heads).
pub(crate) fn load(vb: VarBuilder, config: ModernBertConfig) -> CandleResult<ModernBertWeights> {
    let vb = model_root(vb, "embeddings.tok_embeddings.weight", "model");
    let cfg = &config;
    let (h, i) = (cfg.hidden, cfg.intermediate);
    let layers = cfg
        .layers
        .iter()
        .enumerate()
        .map(|(n, &kind)| {
            let vb = vb.pp("layers").pp(n);
            Ok(Layer {
                kind,
                attn_norm: if n == 0 { None } else { Some(norm(vb.pp("attn_norm"), cfg)?) },
                wqkv: linear(vb.pp("attn").pp("Wqkv"), h, 3 * h, cfg.attention_bias)?,
                wo: linear(vb.pp("attn").pp("Wo"), h, h, cfg.attention_bias)?,
                mlp_norm: norm(vb.pp("mlp_norm"), cfg)?,
                wi: linear(vb.pp("mlp").pp("Wi"), h, 2 * i, cfg.mlp_bias)?,
                mlp_wo: linear(vb.pp("mlp").pp("Wo"), i, h, cfg.mlp_bias)?,
            })
        })
        .collect::<CandleResult<Vec<_>>>()?;
    Ok(ModernBertWeights {
        tok_embeddings: vb.pp("embeddings").pp("tok_embeddings").get((cfg.vocab, h), "weight")?,
        emb_norm: norm(vb.pp("embeddings").pp("norm"), cfg)?,
        layers,
        final_norm: norm(vb.pp("final_norm"), cfg)?,
        config,
    })
}

/// `1 / theta^(2i / head_dim)` for i < head_dim / 2, in f32 as
/// transformers computes it.
pub(crate) fn inverse_frequencies(theta: f64, head_dim: usize) -> Vec<f32> {
    (0..head_dim / 2).map(|i| 1.0 / (theta as f32).powf((2 * i) as f32 / head_dim as f32)).collect()
}
