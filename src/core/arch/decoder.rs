//! The pre-norm decoder stack shared by Qwen3 (`qwen3.rs`) and Gemma3
//! (`gemma3.rs`), a building block like `post_norm.rs`: its weights (as
//! both architectures name them), its fast-engine forward pass built from
//! `cpu/blocks.rs`, and its opener. The architectures differ only in
//! what [`DecoderConfig`] says:
//! - token embeddings, times √hidden for Gemma (`embed_scale`);
//! - per layer `x += [out_norm](o(attention(in_norm(x))))` and
//!   `x += [mlp_out_norm](down(act(gate(y)) · up(y)))`, y = `mlp_norm(x)`
//!   (Gemma's sandwich norms are the optional ones);
//! - grouped-query attention with a per-head RMS norm of q and k, rotary
//!   positions (per layer kind: Gemma's local and global bases), causal
//!   (Qwen3) or bidirectional (EmbeddingGemma), sliding windows where the
//!   layer is a sliding one, and the attention scale;
//! - RMS norms with scale `weight` (Qwen3) or `1 + weight` (Gemma);
//! - a final RMS norm, whose output is what sentence-transformers pools.
//!
//! Texts are packed end to end as in every architecture of the fast
//! engine: no padding, so left padding (Qwen3-Embedding's tokenizer) does
//! not arise; each text's positions start at 0 (rotary attention depends
//! only on the distance between positions, so this is what
//! transformers computes for a left-padded batch too, up to rounding).

use candle_core::{Result as CandleResult, Tensor};
use candle_nn::VarBuilder;

use super::reference::ReferenceModel;
use super::{Built, Source};
pub(crate) use crate::core::cpu::blocks::{Gate, Heads};
use crate::core::cpu::blocks::{self, grouped_query_attention, AttentionOptions, Packing, RmsNorm, Rotary};
use crate::core::cpu::{FastArchitecture, Pass};
use crate::core::engine::Engine;
use crate::core::error::Result;
use crate::core::model::{model_root, EmbeddingTable, TableSource};
use crate::core::tokenize::Tokens;

/// One layer's attention pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LayerAttention {
    /// Keys after the query are masked.
    pub causal: bool,
    /// Keys further than this from the query are masked (with `causal`:
    /// further back than this).
    pub window: Option<usize>,
    /// Which rotary base: the global one (`false`) or the local one.
    pub local_rope: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct DecoderConfig {
    pub hidden: usize,
    pub vocab: usize,
    pub intermediate: usize,
    pub heads: Heads,
    pub eps: f64,
    pub attention_bias: bool,
    /// 0 (Qwen3: scale `weight`) or 1 (Gemma: scale `1 + weight`).
    pub norm_offset: f32,
    /// Gemma: embeddings times √hidden (as f32).
    pub embed_scale: Option<f32>,
    /// Gemma: `post_attention_layernorm` on the attention's output and
    /// `pre_` / `post_feedforward_layernorm` around the feed-forward; Qwen3:
    /// `post_attention_layernorm` is the feed-forward's input norm.
    pub sandwich: bool,
    pub gate: Gate,
    /// The attention scores' scale.
    pub scale: f32,
    pub layers: Vec<LayerAttention>,
    pub global_theta: f64,
    pub local_theta: f64,
}

pub(crate) struct Linear {
    pub weight: Tensor,
    pub bias: Option<Tensor>,
}

pub(crate) struct Layer {
    pub attention: LayerAttention,
    pub attn_norm: Tensor,
    pub q: Linear,
    pub k: Linear,
    pub v: Linear,
    pub o: Linear,
    pub q_norm: Tensor,
    pub k_norm: Tensor,
    /// Gemma's `post_attention_layernorm`.
    pub attn_out_norm: Option<Tensor>,
    pub mlp_norm: Tensor,
    /// Gemma's `post_feedforward_layernorm`.
    pub mlp_out_norm: Option<Tensor>,
    pub gate: Tensor,
    pub up: Tensor,
    pub down: Tensor,
}

pub(crate) struct DecoderWeights {
    pub config: DecoderConfig,
    /// In memory, or read where it lies in the file (the fast engine).
    pub embed_tokens: EmbeddingTable,
    pub layers: Vec<Layer>,
    pub norm: Tensor,
}

/// Loads the weights, at the root (`Qwen3Model`, `Gemma3TextModel`, as
/// sentence-transformers saves them) or under `model.` (the causal-LM
/// checkpoints).
fn load(vb: VarBuilder, config: DecoderConfig, tables: TableSource) -> CandleResult<DecoderWeights> {
    let vb = model_root(vb, "embed_tokens.weight", "model");
    let cfg = &config;
    let (h, i) = (cfg.hidden, cfg.intermediate);
    let Heads { heads, kv_heads, head_dim: d } = cfg.heads;
    let linear = |vb: VarBuilder, inputs: usize, outputs: usize, bias: bool| -> CandleResult<Linear> {
        Ok(Linear { weight: vb.get((outputs, inputs), "weight")?, bias: if bias { Some(vb.get(outputs, "bias")?) } else { None } })
    };
    let norm = |vb: VarBuilder, n: usize| vb.get(n, "weight");
    let layers = cfg
        .layers
        .iter()
        .enumerate()
        .map(|(n, &attention)| {
            let vb = vb.pp("layers").pp(n);
            let attn = vb.pp("self_attn");
            let mlp = vb.pp("mlp");
            let b = cfg.attention_bias;
            Ok(Layer {
                attention,
                attn_norm: norm(vb.pp("input_layernorm"), h)?,
                q: linear(attn.pp("q_proj"), h, heads * d, b)?,
                k: linear(attn.pp("k_proj"), h, kv_heads * d, b)?,
                v: linear(attn.pp("v_proj"), h, kv_heads * d, b)?,
                o: linear(attn.pp("o_proj"), heads * d, h, b)?,
                q_norm: norm(attn.pp("q_norm"), d)?,
                k_norm: norm(attn.pp("k_norm"), d)?,
                attn_out_norm: if cfg.sandwich { Some(norm(vb.pp("post_attention_layernorm"), h)?) } else { None },
                mlp_norm: norm(vb.pp(if cfg.sandwich { "pre_feedforward_layernorm" } else { "post_attention_layernorm" }), h)?,
                mlp_out_norm: if cfg.sandwich { Some(norm(vb.pp("post_feedforward_layernorm"), h)?) } else { None },
                gate: mlp.pp("gate_proj").get((i, h), "weight")?,
                up: mlp.pp("up_proj").get((i, h), "weight")?,
                down: mlp.pp("down_proj").get((h, i), "weight")?,
            })
        })
        .collect::<CandleResult<Vec<_>>>()?;
    Ok(DecoderWeights {
        embed_tokens: EmbeddingTable::load(vb.pp("embed_tokens"), cfg.vocab, h, tables)?,
        layers,
        norm: norm(vb.pp("norm"), h)?,
        config,
    })
}

// The fast engine.

struct PackedLayer {
    attention: LayerAttention,
    attn_norm: RmsNorm,
    /// q | k | v as one projection.
    qkv: blocks::Linear,
    o: blocks::Linear,
    q_norm: RmsNorm,
    k_norm: RmsNorm,
    attn_out_norm: Option<RmsNorm>,
    mlp_norm: RmsNorm,
    mlp_out_norm: Option<RmsNorm>,
    /// gate | up as one projection.
    gate_up: blocks::Linear,
    down: blocks::Linear,
}

struct Decoder {
    embed_tokens: EmbeddingTable,
    embed_scale: Option<f32>,
    layers: Vec<PackedLayer>,
    norm: RmsNorm,
    hidden: usize,
    intermediate: usize,
    heads: Heads,
    gate: Gate,
    scale: f32,
    global_rope: Rotary,
    local_rope: Rotary,
}

impl Decoder {
    fn pack(w: DecoderWeights, packing: Packing) -> CandleResult<Self> {
        let cfg = &w.config;
        let rms = |t: &Tensor| RmsNorm::new(t, cfg.norm_offset, cfg.eps);
        let layers = w
            .layers
            .iter()
            .map(|l| {
                let qkv_weight = Tensor::cat(&[&l.q.weight, &l.k.weight, &l.v.weight], 0)?;
                let qkv_bias = match (&l.q.bias, &l.k.bias, &l.v.bias) {
                    (Some(q), Some(k), Some(v)) => Some(Tensor::cat(&[q, k, v], 0)?),
                    _ => None,
                };
                Ok(PackedLayer {
                    attention: l.attention,
                    attn_norm: rms(&l.attn_norm)?,
                    qkv: blocks::Linear::new(packing, &qkv_weight, qkv_bias.as_ref())?,
                    o: blocks::Linear::new(packing, &l.o.weight, l.o.bias.as_ref())?,
                    q_norm: rms(&l.q_norm)?,
                    k_norm: rms(&l.k_norm)?,
                    attn_out_norm: l.attn_out_norm.as_ref().map(rms).transpose()?,
                    mlp_norm: rms(&l.mlp_norm)?,
                    mlp_out_norm: l.mlp_out_norm.as_ref().map(rms).transpose()?,
                    gate_up: blocks::Linear::new(packing, &Tensor::cat(&[&l.gate, &l.up], 0)?, None)?,
                    down: blocks::Linear::new(packing, &l.down, None)?,
                })
            })
            .collect::<CandleResult<_>>()?;
        let d = cfg.heads.head_dim;
        Ok(Self {
            embed_scale: cfg.embed_scale,
            norm: rms(&w.norm)?,
            layers,
            hidden: cfg.hidden,
            intermediate: cfg.intermediate,
            heads: cfg.heads,
            gate: cfg.gate,
            scale: cfg.scale,
            global_rope: Rotary::new(super::modernbert::inverse_frequencies(cfg.global_theta, d)),
            local_rope: Rotary::new(super::modernbert::inverse_frequencies(cfg.local_theta, d)),
            embed_tokens: w.embed_tokens,
        })
    }
}

/// `x += y`, element by element.
fn add_into(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

impl FastArchitecture for Decoder {
    fn forward(&self, texts: &[&Tokens], pass: &Pass) -> Result<Vec<f32>> {
        let h = self.hidden;
        let lens: Vec<usize> = texts.iter().map(|t| t.len()).collect();
        let longest = lens.iter().copied().max().unwrap_or(0);
        let mut x = vec![0f32; lens.iter().sum::<usize>() * h];
        self.embed_tokens.gather(texts.iter().flat_map(|t| t.ids.iter().copied()), &mut x)?;
        if let Some(s) = self.embed_scale {
            x.iter_mut().for_each(|v| *v *= s);
        }
        let global = self.global_rope.table(longest);
        let local = self.layers.iter().any(|l| l.attention.local_rope).then(|| self.local_rope.table(longest));
        for l in &self.layers {
            let rotary = if l.attention.local_rope { local.as_ref() } else { Some(&global) };
            let options = AttentionOptions { rotary, window: l.attention.window, causal: l.attention.causal, scale: Some(self.scale), ..Default::default() };
            let mut normed = x.clone();
            l.attn_norm.apply(&mut normed, pass);
            let qkv = l.qkv.forward(&normed, None, None, pass);
            let context = grouped_query_attention(&qkv, &lens, self.heads, Some(&l.q_norm), Some(&l.k_norm), options, pass);
            x = match &l.attn_out_norm {
                Some(n) => {
                    let mut out = l.o.forward(&context, None, None, pass);
                    n.apply(&mut out, pass);
                    add_into(&mut out, &x);
                    out
                }
                None => l.o.forward(&context, Some(&x), None, pass),
            };
            let mut normed = x.clone();
            l.mlp_norm.apply(&mut normed, pass);
            let inner = l.gate_up.forward(&normed, None, None, pass);
            let gated = blocks::gated_by(&inner, self.intermediate, self.gate, pass);
            x = match &l.mlp_out_norm {
                Some(n) => {
                    let mut out = l.down.forward(&gated, None, None, pass);
                    n.apply(&mut out, pass);
                    add_into(&mut out, &x);
                    out
                }
                None => l.down.forward(&gated, Some(&x), None, pass),
            };
        }
        self.norm.apply(&mut x, pass);
        Ok(x)
    }
}

/// The opener Qwen3 and Gemma3 share, from their `config.json` read into a
/// [`DecoderConfig`]; texts up to `position_limit` tokens.
pub(super) fn open_with(src: Source, config: DecoderConfig, position_limit: usize) -> Result<(Built, usize)> {
    let w = load(src.vb.clone(), config, src.tables()).map_err(|e| src.weights_error(e))?;
    let built = match src.engine {
        Engine::Fast => super::pack(&src, |packing| Decoder::pack(w, packing))?,
        Engine::Reference => Built::Reference(ReferenceModel::Decoder(w)),
    };
    Ok((built, position_limit))
}
