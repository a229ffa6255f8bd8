//! The post-norm encoder of BERT, XLM-RoBERTa / RoBERTa, DistilBERT and
//! MPNet on the fast engine: embeddings (word + token type + absolute
//! position, layer norm), then layers of self-attention (MPNet: plus its
//! relative position bias), residual + layer norm, feed-forward, residual
//! + layer norm. The four differ only in weight names, position numbering,
//! token types and MPNet's bias: `model/{bert,distilbert,mpnet}.rs` map
//! their checkpoints onto `TransformerWeights` (shared with the reference
//! engine), which this file packs.

use crate::core::cpu::blocks::{self, attention, AttentionOptions, LayerNorm, Linear, Packing};
use crate::core::cpu::{FastArchitecture, Pass};
use crate::core::model::{relative_position, Activation, Dense, LayerWeights, Norm, TransformerWeights};
use crate::core::model::library_reference::{self, LibraryModel};
use crate::core::model::{self, ReferenceModel};
use crate::core::registry::Engine;
use crate::core::tokenize::Tokens;

fn linear(d: &Dense, packing: Packing) -> candle_core::Result<Linear> {
    Linear::new(packing, &d.weight, Some(&d.bias))
}

fn norm(n: &Norm) -> candle_core::Result<LayerNorm> {
    LayerNorm::new(&n.gamma, Some(&n.beta), n.eps)
}

struct Layer {
    qkv: Linear,
    attn_out: Linear,
    attn_norm: LayerNorm,
    ffn_in: Linear,
    ffn_out: Linear,
    out_norm: LayerNorm,
}

impl Layer {
    fn new(l: &LayerWeights, packing: Packing) -> candle_core::Result<Self> {
        Ok(Self {
            qkv: linear(&l.qkv, packing)?,
            attn_out: linear(&l.attn_out, packing)?,
            attn_norm: norm(&l.attn_norm)?,
            ffn_in: linear(&l.ffn_in, packing)?,
            ffn_out: linear(&l.ffn_out, packing)?,
            out_norm: norm(&l.out_norm)?,
        })
    }
}

pub(crate) struct PostNormEncoder {
    word: Vec<f32>,
    position: Vec<f32>,
    token_type: Option<Vec<f32>>,
    emb_norm: LayerNorm,
    layers: Vec<Layer>,
    /// MPNet's relative position bias table, buckets × heads.
    relative_bias: Option<Vec<f32>>,
    hidden: usize,
    heads: usize,
    position_offset: usize,
    act: Activation,
}

impl PostNormEncoder {
    /// Takes the weights over (the candle tensors are dropped, so the
    /// weights are held once), packed as `packing` says.
    pub fn pack(w: TransformerWeights, packing: Packing) -> candle_core::Result<Self> {
        Ok(Self {
            word: blocks::to_vec(&w.word)?,
            position: blocks::to_vec(&w.position)?,
            token_type: w.token_type.as_ref().map(blocks::to_vec).transpose()?,
            emb_norm: norm(&w.emb_norm)?,
            layers: w.layers.iter().map(|l| Layer::new(l, packing)).collect::<candle_core::Result<_>>()?,
            relative_bias: w.relative_bias.as_ref().map(blocks::to_vec).transpose()?,
            hidden: w.hidden_size(),
            heads: w.heads,
            position_offset: w.position_offset,
            act: w.act,
        })
    }

    fn embed(&self, texts: &[&Tokens], total: usize, pass: &Pass) -> Vec<f32> {
        let h = self.hidden;
        let mut x = vec![0f32; total * h];
        let rows = texts.iter().flat_map(|t| t.ids.iter().zip(&t.type_ids).enumerate());
        for (row, (pos, (&id, &ty))) in x.chunks_exact_mut(h).zip(rows) {
            let word = &self.word[id as usize * h..][..h];
            let position = &self.position[(self.position_offset + pos) * h..][..h];
            match &self.token_type {
                // Hugging Face's order: (word + token type) + position.
                Some(tt) => {
                    let tt = &tt[ty as usize * h..][..h];
                    for i in 0..h {
                        row[i] = (word[i] + tt[i]) + position[i];
                    }
                }
                None => {
                    for i in 0..h {
                        row[i] = word[i] + position[i];
                    }
                }
            }
        }
        self.emb_norm.apply(&mut x, pass);
        x
    }

    fn layer(&self, l: &Layer, x: &[f32], lens: &[usize], relative: Option<&[f32]>, pass: &Pass) -> Vec<f32> {
        let mut qkv = l.qkv.forward(x, None, None, pass);
        let options = AttentionOptions { relative, ..Default::default() };
        let context = attention(&mut qkv, lens, self.hidden, self.heads, options, pass);
        let mut attended = l.attn_out.forward(&context, Some(x), None, pass);
        l.attn_norm.apply(&mut attended, pass);
        let inner = l.ffn_in.forward(&attended, None, Some(blocks::activation(self.act)), pass);
        let mut out = l.ffn_out.forward(&inner, Some(&attended), None, pass);
        l.out_norm.apply(&mut out, pass);
        out
    }
}

impl FastArchitecture for PostNormEncoder {
    fn forward(&self, texts: &[&Tokens], pass: &Pass) -> Vec<f32> {
        let lens: Vec<usize> = texts.iter().map(|t| t.len()).collect();
        let total: usize = lens.iter().sum();
        let mut x = self.embed(texts, total, pass);
        let longest = lens.iter().copied().max().unwrap_or(0);
        let relative = self
            .relative_bias
            .as_ref()
            .map(|table| blocks::relative_bias_by_offset(table, self.heads, longest, relative_position::bucket));
        for layer in &self.layers {
            x = self.layer(layer, &x, &lens, relative.as_deref(), pass);
        }
        x
    }
}

type Load = fn(candle_nn::VarBuilder, &crate::core::model::TransformerConfig) -> candle_core::Result<TransformerWeights>;
type LoadLibrary = fn(candle_nn::VarBuilder<'static>, &crate::core::model::TransformerConfig) -> candle_core::Result<Option<LibraryModel>>;

/// Loads (and checks) the weights with `load`; the reference engine then
/// runs candle-transformers' model built by `library`, if any (and if
/// this build has it), else ours.
fn open_with(src: super::Source, load: Load, library: Option<LoadLibrary>) -> crate::core::Result<(super::Built, usize)> {
    let weights = load(src.vb.clone(), src.config).map_err(|e| src.weights_error(e))?;
    let limit = weights.position_limit();
    let built = match (src.engine, library) {
        (Engine::Fast, _) => super::pack(&src, |packing| PostNormEncoder::pack(weights, packing))?,
        (Engine::Reference, None) => super::Built::Reference(ReferenceModel::PostNorm(weights)),
        (Engine::Reference, Some(library)) => match library(src.vb.clone(), src.config).map_err(|e| src.weights_error(e))? {
            Some(model) => super::Built::Reference(ReferenceModel::Library(model)),
            None => super::Built::Reference(ReferenceModel::PostNorm(weights)),
        },
    };
    Ok((built, limit))
}

pub(super) fn open_bert(src: super::Source) -> crate::core::Result<(super::Built, usize)> {
    open_with(src, model::bert::load_bert, Some(library_reference::bert))
}

pub(super) fn open_xlm_roberta(src: super::Source) -> crate::core::Result<(super::Built, usize)> {
    open_with(src, model::bert::load_xlm_roberta, Some(library_reference::xlm_roberta))
}

pub(super) fn open_distilbert(src: super::Source) -> crate::core::Result<(super::Built, usize)> {
    // candle-transformers' DistilBERT computes `gelu` with the tanh
    // approximation (transformers: the erf form): our reference.
    open_with(src, model::distilbert::load, None)
}

pub(super) fn open_mpnet(src: super::Source) -> crate::core::Result<(super::Built, usize)> {
    model::mpnet::check_config(src.config, src.file.path)?;
    // candle-transformers has no MPNet: our reference.
    open_with(src, model::mpnet::load, None)
}
