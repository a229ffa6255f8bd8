//! Gemma3's text model (`model_type: gemma3_text`, EmbeddingGemma-300m):
//! its `config.json` fields, read into the shared decoder (`decoder.rs`),
//! as transformers 5's `Gemma3TextModel`: embeddings times √hidden, Gemma's
//! RMS norms (scale `1 + weight`) before and after both the attention and
//! the feed-forward, grouped-query attention with per-head q/k norms and
//! scale `query_pre_attn_scalar^-0.5`, GeGLU with the tanh GeLU
//! (`hidden_activation`), sliding-window and global layers as
//! `layer_types` (or `sliding_window_pattern`) says, each kind with its
//! rotary base (`rope_parameters`, or `rope_theta` / `rope_local_base_freq`).
//!
//! With `use_bidirectional_attention` (EmbeddingGemma) nothing is causal and
//! the window is two-sided: transformers turns the file's `sliding_window`
//! S into S / 2 + 1 and lets query i see key j when |i − j| < S / 2 + 1,
//! i.e. |i − j| ≤ S / 2 (`Gemma3TextConfig.__post_init__`,
//! `_bidirectional_window_overlay`). Without it, causal as Gemma3 is: the
//! sliding layers see the S − 1 keys before the query and the query.

use serde::Deserialize;

use super::decoder::{open_with, DecoderConfig, Gate, Heads, LayerAttention};
use super::qwen3::rope_theta;
use super::{Built, Source};
use crate::core::error::{Error, Result};
use crate::core::model::ConfigFile;

#[derive(Debug, Clone, Deserialize)]
struct RawConfig {
    hidden_size: usize,
    num_hidden_layers: usize,
    num_attention_heads: usize,
    #[serde(default)]
    num_key_value_heads: Option<usize>,
    #[serde(default = "default_head_dim")]
    head_dim: usize,
    intermediate_size: usize,
    vocab_size: usize,
    #[serde(default = "default_act")]
    hidden_activation: String,
    #[serde(default = "default_eps")]
    rms_norm_eps: f64,
    #[serde(default)]
    attention_bias: bool,
    #[serde(default = "default_positions")]
    max_position_embeddings: usize,
    /// transformers 5: `{"full_attention": {...}, "sliding_attention": {...}}`.
    #[serde(default)]
    rope_parameters: Option<serde_json::Map<String, serde_json::Value>>,
    /// transformers 4.
    #[serde(default)]
    rope_theta: Option<f64>,
    #[serde(default)]
    rope_local_base_freq: Option<f64>,
    #[serde(default)]
    rope_scaling: Option<serde_json::Value>,
    #[serde(default = "default_scalar")]
    query_pre_attn_scalar: f64,
    #[serde(default = "default_window")]
    sliding_window: usize,
    #[serde(default)]
    layer_types: Option<Vec<String>>,
    #[serde(default = "default_pattern")]
    sliding_window_pattern: usize,
    #[serde(default)]
    use_bidirectional_attention: Option<bool>,
    #[serde(default)]
    attn_logit_softcapping: Option<f64>,
}

fn default_head_dim() -> usize {
    256
}
fn default_act() -> String {
    "gelu_pytorch_tanh".into()
}
fn default_eps() -> f64 {
    1e-6
}
fn default_positions() -> usize {
    131_072
}
fn default_scalar() -> f64 {
    256.0
}
fn default_window() -> usize {
    4096
}
fn default_pattern() -> usize {
    6
}

fn read(file: &ConfigFile) -> Result<(DecoderConfig, usize)> {
    let path = file.path;
    let raw: RawConfig = file.parse()?;
    let unsupported = |what: &'static str, value: String, supported: &'static str| Error::Unsupported { path: path.to_path_buf(), what, value, supported };
    if !matches!(raw.hidden_activation.as_str(), "gelu_pytorch_tanh" | "gelu_new") {
        return Err(unsupported("hidden_activation", raw.hidden_activation, "gelu_pytorch_tanh"));
    }
    if let Some(cap) = raw.attn_logit_softcapping {
        return Err(unsupported("attn_logit_softcapping", cap.to_string(), "null"));
    }
    let heads = raw.num_attention_heads;
    let kv_heads = raw.num_key_value_heads.unwrap_or(heads);
    if heads == 0 || kv_heads == 0 || heads % kv_heads != 0 {
        return Err(Error::model(path, "num_attention_heads must be a positive multiple of num_key_value_heads"));
    }
    if raw.head_dim == 0 || raw.head_dim % 2 != 0 {
        return Err(Error::model(path, "head_dim must be positive and even for rotary position embeddings"));
    }
    if raw.query_pre_attn_scalar <= 0.0 {
        return Err(Error::model(path, "query_pre_attn_scalar must be positive"));
    }
    let params = |kind: &str| raw.rope_parameters.as_ref().and_then(|p| p.get(kind));
    let theta = |kind: &str, extra: Option<&serde_json::Value>, legacy: Option<f64>, default: f64| -> Result<f64> {
        let from_params = rope_theta(params(kind)).map_err(|k| unsupported("rope_type", k, "default"))?;
        rope_theta(extra).map_err(|k| unsupported("rope_type", k, "default"))?;
        Ok(from_params.or(legacy).unwrap_or(default))
    };
    let global_theta = theta("full_attention", raw.rope_scaling.as_ref(), raw.rope_theta, 1_000_000.0)?;
    let local_theta = theta("sliding_attention", None, raw.rope_local_base_freq, 10_000.0)?;
    let bidirectional = raw.use_bidirectional_attention.unwrap_or(false);
    let sliding: Vec<bool> = match &raw.layer_types {
        Some(types) => {
            if types.len() != raw.num_hidden_layers {
                return Err(Error::model(path, format!("layer_types lists {} layers, num_hidden_layers is {}", types.len(), raw.num_hidden_layers)));
            }
            types
                .iter()
                .map(|t| match t.as_str() {
                    "full_attention" => Ok(false),
                    "sliding_attention" => Ok(true),
                    other => Err(unsupported("layer_types entry", other.to_string(), "full_attention, sliding_attention")),
                })
                .collect::<Result<_>>()?
        }
        None => {
            if raw.sliding_window_pattern == 0 {
                return Err(Error::model(path, "sliding_window_pattern must be positive"));
            }
            (0..raw.num_hidden_layers).map(|i| (i + 1) % raw.sliding_window_pattern != 0).collect()
        }
    };
    let layers = sliding
        .into_iter()
        .map(|sliding| match (sliding, bidirectional) {
            (false, b) => LayerAttention { causal: !b, window: None, local_rope: false },
            (true, true) => LayerAttention { causal: false, window: Some(raw.sliding_window / 2), local_rope: true },
            (true, false) => LayerAttention { causal: true, window: Some(raw.sliding_window.saturating_sub(1)), local_rope: true },
        })
        .collect();
    let config = DecoderConfig {
        hidden: raw.hidden_size,
        vocab: raw.vocab_size,
        intermediate: raw.intermediate_size,
        heads: Heads { heads, kv_heads, head_dim: raw.head_dim },
        eps: raw.rms_norm_eps,
        attention_bias: raw.attention_bias,
        norm_offset: 1.0,
        embed_scale: Some((raw.hidden_size as f64).sqrt() as f32),
        sandwich: true,
        gate: Gate::GeluTanh,
        scale: raw.query_pre_attn_scalar.powf(-0.5) as f32,
        layers,
        global_theta,
        local_theta,
    };
    Ok((config, raw.max_position_embeddings))
}

/// Gemma3's registry entry.
pub(super) fn open(src: Source) -> Result<(Built, usize)> {
    let (config, limit) = read(src.file)?;
    open_with(src, config, limit)
}
