//! ModernBERT (`model_type: modernbert`, gte-modernbert-base,
//! modernbert-embed-base): its `config.json` fields, its weights (shared
//! with the reference engine: `reference/modernbert.rs`, or
//! candle-transformers' where it covers the configuration), its fast-engine
//! forward pass and its opener. As transformers 5's `ModernBertModel`:
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

use super::{Built, Source};
use crate::core::cpu::blocks::{self, attention, AttentionOptions, LayerNorm, Packing, Rotary};
use crate::core::cpu::{FastArchitecture, Pass};
use crate::core::error::{Error, Result};
use super::reference::{library as library_reference, ReferenceModel};
use crate::core::engine::Engine;
use crate::core::model::{model_root, Activation, ConfigFile, EmbeddingTable, TableSource, ACTIVATIONS};
use crate::core::tokenize::Tokens;

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
    /// In memory, or read where it lies in the file (the fast engine).
    pub tok_embeddings: EmbeddingTable,
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
fn load(vb: VarBuilder, config: ModernBertConfig, tables: TableSource) -> CandleResult<ModernBertWeights> {
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
        tok_embeddings: EmbeddingTable::load(vb.pp("embeddings").pp("tok_embeddings"), cfg.vocab, h, tables)?,
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

// The fast engine: token embeddings + norm; per layer
// `x += Wo(attention(Wqkv(attn_norm(x))))` with rotary positions (the
// layer kind's theta) and, in sliding layers, keys within the window;
// `x += Wo(act(input) · gate)` of `Wi(mlp_norm(x))`; then the final norm.

fn pack_linear(l: &Linear, packing: Packing) -> CandleResult<blocks::Linear> {
    blocks::Linear::new(packing, &l.weight, l.bias.as_ref())
}

fn pack_norm(n: &Norm) -> CandleResult<LayerNorm> {
    LayerNorm::new(&n.gamma, n.beta.as_ref(), n.eps)
}

struct PackedLayer {
    kind: LayerKind,
    attn_norm: Option<LayerNorm>,
    wqkv: blocks::Linear,
    wo: blocks::Linear,
    mlp_norm: LayerNorm,
    wi: blocks::Linear,
    mlp_wo: blocks::Linear,
}

struct ModernBert {
    tok_embeddings: EmbeddingTable,
    emb_norm: LayerNorm,
    layers: Vec<PackedLayer>,
    final_norm: LayerNorm,
    hidden: usize,
    heads: usize,
    intermediate: usize,
    window: usize,
    act: Activation,
    global_rope: Rotary,
    local_rope: Rotary,
}

impl ModernBert {
    /// Takes the weights over, packed as `packing` says.
    pub fn pack(w: ModernBertWeights, packing: Packing) -> CandleResult<Self> {
        let cfg = &w.config;
        let layers = w
            .layers
            .iter()
            .map(|l| {
                Ok(PackedLayer {
                    kind: l.kind,
                    attn_norm: l.attn_norm.as_ref().map(pack_norm).transpose()?,
                    wqkv: pack_linear(&l.wqkv, packing)?,
                    wo: pack_linear(&l.wo, packing)?,
                    mlp_norm: pack_norm(&l.mlp_norm)?,
                    wi: pack_linear(&l.wi, packing)?,
                    mlp_wo: pack_linear(&l.mlp_wo, packing)?,
                })
            })
            .collect::<CandleResult<_>>()?;
        Ok(Self {
            tok_embeddings: w.tok_embeddings,
            emb_norm: pack_norm(&w.emb_norm)?,
            layers,
            final_norm: pack_norm(&w.final_norm)?,
            hidden: cfg.hidden,
            heads: cfg.heads,
            intermediate: cfg.intermediate,
            window: cfg.window,
            act: cfg.act,
            global_rope: Rotary::new(inverse_frequencies(cfg.global_theta, cfg.head_dim())),
            local_rope: Rotary::new(inverse_frequencies(cfg.local_theta, cfg.head_dim())),
        })
    }
}

impl FastArchitecture for ModernBert {
    fn forward(&self, texts: &[&Tokens], pass: &Pass) -> Result<Vec<f32>> {
        let h = self.hidden;
        let lens: Vec<usize> = texts.iter().map(|t| t.len()).collect();
        let longest = lens.iter().copied().max().unwrap_or(0);
        let mut x = vec![0f32; lens.iter().sum::<usize>() * h];
        self.tok_embeddings.gather(texts.iter().flat_map(|t| t.ids.iter().copied()), &mut x)?;
        self.emb_norm.apply(&mut x, pass);
        let (global, local) = (self.global_rope.table(longest), self.local_rope.table(longest));
        for l in &self.layers {
            let options = match l.kind {
                LayerKind::Global => AttentionOptions { rotary: Some(&global), ..Default::default() },
                LayerKind::Sliding => AttentionOptions { rotary: Some(&local), window: Some(self.window), ..Default::default() },
            };
            let mut qkv = match &l.attn_norm {
                Some(n) => {
                    let mut normed = x.clone();
                    n.apply(&mut normed, pass);
                    l.wqkv.forward(&normed, None, None, pass)
                }
                None => l.wqkv.forward(&x, None, None, pass),
            };
            let context = attention(&mut qkv, &lens, h, self.heads, options, pass);
            x = l.wo.forward(&context, Some(&x), None, pass);
            let mut normed = x.clone();
            l.mlp_norm.apply(&mut normed, pass);
            let inner = l.wi.forward(&normed, None, None, pass);
            let gated = blocks::gated(&inner, self.intermediate, self.act, pass);
            x = l.mlp_wo.forward(&gated, Some(&x), None, pass);
        }
        self.final_norm.apply(&mut x, pass);
        Ok(x)
    }
}

/// ModernBERT's registry entry: its own `config.json` fields, its weights,
/// packed or kept for the reference. Positions are rotary: any length up
/// to `max_position_embeddings` (the registry's `TransformerConfig`).
pub(super) fn open(src: Source) -> Result<(Built, usize)> {
    let config = ModernBertConfig::read(src.file)?;
    let w = load(src.vb.clone(), config, src.tables()).map_err(|e| src.weights_error(e))?;
    let limit = src.config.max_position_embeddings;
    let built = match src.engine {
        Engine::Fast => super::pack(&src, |packing| ModernBert::pack(w, packing))?,
        // candle-transformers' ModernBERT where it covers the
        // configuration, else ours (see `reference/library.rs`).
        Engine::Reference => match library_reference::modernbert(src.vb.clone(), src.config, &w.config).map_err(|e| src.weights_error(e))? {
            Some(model) => Built::Reference(ReferenceModel::Library(model)),
            None => Built::Reference(ReferenceModel::ModernBert(w)),
        },
    };
    Ok((built, limit))
}
