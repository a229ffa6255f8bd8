//! Qwen3 (`model_type: qwen3`, Qwen3-Embedding-0.6B / 4B / 8B): its
//! `config.json` fields, read into the shared decoder (`decoder.rs`), as
//! transformers 5's `Qwen3Model`: causal grouped-query attention
//! (`num_key_value_heads`, `head_dim`), per-head RMS norms of q and k,
//! rotary positions (`rope_parameters` / `rope_theta`, default type only),
//! RMS norms (scale `weight`), SwiGLU (`hidden_act: silu`), sliding-window
//! layers only when `use_sliding_window` says so (the window then reaches
//! `sliding_window − 1` tokens back, as transformers' mask). Texts up to
//! `max_position_embeddings` tokens; attention memory grows with the
//! text, not its square (`cpu/kernels.rs`'s `attend_head` works a block of
//! queries at a time).

use serde::Deserialize;

use super::decoder::{open_with, DecoderConfig, Gate, Heads, LayerAttention};
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
    #[serde(default)]
    head_dim: Option<usize>,
    intermediate_size: usize,
    vocab_size: usize,
    #[serde(default = "default_act")]
    hidden_act: String,
    #[serde(default = "default_eps")]
    rms_norm_eps: f64,
    #[serde(default)]
    attention_bias: bool,
    max_position_embeddings: usize,
    /// transformers 5: `{"rope_theta", "rope_type"}`.
    #[serde(default)]
    rope_parameters: Option<serde_json::Value>,
    /// transformers 4.
    #[serde(default)]
    rope_theta: Option<f64>,
    #[serde(default)]
    rope_scaling: Option<serde_json::Value>,
    #[serde(default)]
    use_sliding_window: bool,
    #[serde(default)]
    sliding_window: Option<usize>,
    #[serde(default)]
    max_window_layers: Option<usize>,
    #[serde(default)]
    layer_types: Option<Vec<String>>,
}

fn default_act() -> String {
    "silu".into()
}
fn default_eps() -> f64 {
    1e-6
}

/// The rotary base of a default-type `rope_parameters` / `rope_scaling`
/// object (`None`: absent), or the unsupported type it names.
pub(super) fn rope_theta(params: Option<&serde_json::Value>) -> std::result::Result<Option<f64>, String> {
    let Some(p) = params.filter(|p| !p.is_null()) else { return Ok(None) };
    let kind = p.get("rope_type").or_else(|| p.get("type")).and_then(|v| v.as_str()).unwrap_or("default");
    if kind != "default" {
        return Err(kind.to_string());
    }
    Ok(p.get("rope_theta").and_then(|v| v.as_f64()))
}

fn read(file: &ConfigFile) -> Result<(DecoderConfig, usize)> {
    let path = file.path;
    let raw: RawConfig = file.parse()?;
    let unsupported = |what: &'static str, value: String, supported: &'static str| Error::Unsupported { path: path.to_path_buf(), what, value, supported };
    if raw.hidden_act != "silu" {
        return Err(unsupported("hidden_act", raw.hidden_act, "silu"));
    }
    let heads = raw.num_attention_heads;
    let kv_heads = raw.num_key_value_heads.unwrap_or(heads);
    if heads == 0 || kv_heads == 0 || heads % kv_heads != 0 {
        return Err(Error::model(path, "num_attention_heads must be a positive multiple of num_key_value_heads"));
    }
    let head_dim = raw.head_dim.unwrap_or(if heads > 0 { raw.hidden_size / heads } else { 0 });
    if head_dim == 0 || head_dim % 2 != 0 {
        return Err(Error::model(path, "head_dim must be positive and even for rotary position embeddings"));
    }
    let theta = match rope_theta(raw.rope_parameters.as_ref()).and_then(|t| Ok(t.or(rope_theta(raw.rope_scaling.as_ref())?))) {
        Ok(t) => t.or(raw.rope_theta).unwrap_or(10_000.0),
        Err(kind) => return Err(unsupported("rope_type", kind, "default")),
    };
    // transformers: no sliding window unless use_sliding_window; then the
    // layers `layer_types` names, or those from max_window_layers on.
    let window = if raw.use_sliding_window { raw.sliding_window } else { None };
    let layers = (0..raw.num_hidden_layers)
        .map(|i| {
            let sliding = match (&raw.layer_types, window) {
                (_, None) => false,
                (Some(types), Some(_)) => match types.get(i).map(String::as_str) {
                    Some("full_attention") => false,
                    Some("sliding_attention") => true,
                    Some(other) => return Err(unsupported("layer_types entry", other.to_string(), "full_attention, sliding_attention")),
                    None => return Err(Error::model(path, format!("layer_types lists {} layers, num_hidden_layers is {}", types.len(), raw.num_hidden_layers))),
                },
                (None, Some(_)) => i >= raw.max_window_layers.unwrap_or(raw.num_hidden_layers),
            };
            // Key j seen from query i when i − window < j ≤ i.
            let window = if sliding { window.map(|w| w.saturating_sub(1)) } else { None };
            Ok(LayerAttention { causal: true, window, local_rope: false })
        })
        .collect::<Result<Vec<_>>>()?;
    let config = DecoderConfig {
        hidden: raw.hidden_size,
        vocab: raw.vocab_size,
        intermediate: raw.intermediate_size,
        heads: Heads { heads, kv_heads, head_dim },
        eps: raw.rms_norm_eps,
        attention_bias: raw.attention_bias,
        norm_offset: 0.0,
        embed_scale: None,
        sandwich: false,
        gate: Gate::Silu,
        scale: 1.0 / (head_dim as f32).sqrt(),
        layers,
        global_theta: theta,
        local_theta: theta,
    };
    Ok((config, raw.max_position_embeddings))
}

/// Qwen3's registry entry.
pub(super) fn open(src: Source) -> Result<(Built, usize)> {
    let (config, limit) = read(src.file)?;
    open_with(src, config, limit)
}
