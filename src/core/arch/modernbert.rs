//! ModernBERT on the fast engine (see `model/modernbert.rs` for the
//! architecture and its weights): token embeddings + norm; per layer
//! `x += Wo(attention(Wqkv(attn_norm(x))))` with rotary positions (the
//! layer kind's theta) and, in sliding layers, keys within the window;
//! `x += Wo(act(input) · gate)` of `Wi(mlp_norm(x))`; then the final norm.

use crate::core::cpu::blocks::{self, attention, AttentionOptions, LayerNorm, Linear, Packing, Rotary};
use crate::core::cpu::{FastArchitecture, Pass};
use crate::core::model::modernbert::{self as weights, inverse_frequencies, LayerKind, ModernBertWeights};
use crate::core::model::library_reference;
use crate::core::model::{Activation, ReferenceModel};
use crate::core::registry::Engine;
use crate::core::tokenize::Tokens;

fn linear(l: &weights::Linear, packing: Packing) -> candle_core::Result<Linear> {
    Linear::new(packing, &l.weight, l.bias.as_ref())
}

fn norm(n: &weights::Norm) -> candle_core::Result<LayerNorm> {
    LayerNorm::new(&n.gamma, n.beta.as_ref(), n.eps)
}

struct Layer {
    kind: LayerKind,
    attn_norm: Option<LayerNorm>,
    wqkv: Linear,
    wo: Linear,
    mlp_norm: LayerNorm,
    wi: Linear,
    mlp_wo: Linear,
}

pub(crate) struct ModernBert {
    tok_embeddings: Vec<f32>,
    emb_norm: LayerNorm,
    layers: Vec<Layer>,
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
    pub fn pack(w: ModernBertWeights, packing: Packing) -> candle_core::Result<Self> {
        let cfg = &w.config;
        let layers = w
            .layers
            .iter()
            .map(|l| {
                Ok(Layer {
                    kind: l.kind,
                    attn_norm: l.attn_norm.as_ref().map(norm).transpose()?,
                    wqkv: linear(&l.wqkv, packing)?,
                    wo: linear(&l.wo, packing)?,
                    mlp_norm: norm(&l.mlp_norm)?,
                    wi: linear(&l.wi, packing)?,
                    mlp_wo: linear(&l.mlp_wo, packing)?,
                })
            })
            .collect::<candle_core::Result<_>>()?;
        Ok(Self {
            tok_embeddings: blocks::to_vec(&w.tok_embeddings)?,
            emb_norm: norm(&w.emb_norm)?,
            layers,
            final_norm: norm(&w.final_norm)?,
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
    fn forward(&self, texts: &[&Tokens], pass: &Pass) -> Vec<f32> {
        let h = self.hidden;
        let lens: Vec<usize> = texts.iter().map(|t| t.len()).collect();
        let longest = lens.iter().copied().max().unwrap_or(0);
        let mut x: Vec<f32> = texts.iter().flat_map(|t| &t.ids).flat_map(|&id| &self.tok_embeddings[id as usize * h..][..h]).copied().collect();
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
        x
    }
}

/// ModernBERT's registry entry: its own `config.json` fields, its weights,
/// packed or kept for the reference. Positions are rotary: any length up
/// to `max_position_embeddings` (the registry's `TransformerConfig`).
pub(super) fn open(src: super::Source) -> crate::core::Result<(super::Built, usize)> {
    let config = weights::ModernBertConfig::read(src.file)?;
    let w = weights::load(src.vb.clone(), config).map_err(|e| src.weights_error(e))?;
    let limit = src.config.max_position_embeddings;
    let built = match src.engine {
        Engine::Fast => super::pack(&src, |packing| ModernBert::pack(w, packing))?,
        // candle-transformers' ModernBERT where it covers the
        // configuration, else ours (see `library_reference.rs`).
        Engine::Reference => match library_reference::modernbert(src.vb.clone(), src.config, &w.config).map_err(|e| src.weights_error(e))? {
            Some(model) => super::Built::Reference(ReferenceModel::Library(model)),
            None => super::Built::Reference(ReferenceModel::ModernBert(w)),
        },
    };
    Ok((built, limit))
}
