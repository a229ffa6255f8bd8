//! The post-norm encoder shared by BERT, XLM-RoBERTa / RoBERTa, DistilBERT
//! and MPNet, a building block of their architecture files (as
//! `cpu/blocks.rs` is of all): embeddings (word + token type + absolute
//! position, layer norm), then layers of self-attention (MPNet: plus its
//! relative position bias), residual + layer norm, feed-forward, residual
//! + layer norm. The four differ only in weight names, position numbering,
//! token types and MPNet's bias: each file says where its checkpoints keep
//! the weights ([`Checkpoint`]); [`load`] reads them as
//! [`TransformerWeights`], which the reference engine (`reference/post_norm.rs`)
//! runs as they are and [`PostNormEncoder`] packs for the fast engine;
//! [`open_with`] is their shared opener.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use crate::core::cpu::blocks::{self, attention, AttentionOptions, LayerNorm, Linear, Packing};
use crate::core::cpu::{scratch, FastArchitecture, Pass};
use super::reference::{library::LibraryModel, ReferenceModel};
use crate::core::engine::Engine;
use crate::core::model::{model_root, Activation, EmbeddingTable, TableSource, TransformerConfig};
use crate::core::tokenize::Tokens;

// The weights, as the architecture files load them.

/// A linear layer: `weight` (out, in) as PyTorch stores it, `bias` (out).
pub(crate) struct Dense {
    pub weight: Tensor,
    pub bias: Tensor,
}

pub(crate) struct Norm {
    pub gamma: Tensor,
    pub beta: Tensor,
    pub eps: f64,
}

pub(crate) struct LayerWeights {
    /// Query, key and value stacked: (3h, h).
    pub qkv: Dense,
    pub attn_out: Dense,
    pub attn_norm: Norm,
    pub ffn_in: Dense,
    pub ffn_out: Dense,
    pub out_norm: Norm,
}

pub(crate) struct TransformerWeights {
    /// In memory, or read where it lies in the file (the fast engine).
    pub word: EmbeddingTable,
    pub position: Tensor,
    /// `None` for DistilBERT, which has no token types.
    pub token_type: Option<Tensor>,
    pub emb_norm: Norm,
    pub layers: Vec<LayerWeights>,
    /// MPNet's relative position bias. `None` for the other architectures.
    pub relative_bias: Option<RelativeBias>,
    /// Position id of a sequence's first token (XLM-RoBERTa: `pad + 1`).
    pub position_offset: usize,
    pub heads: usize,
    pub act: Activation,
}

/// A relative position bias shared by every layer: each adds row
/// `bucket(key position − query position)` of `table` (buckets × heads),
/// column `head`, to its attention scores.
pub(crate) struct RelativeBias {
    pub table: Tensor,
    pub bucket: fn(i64) -> usize,
}

impl TransformerWeights {
    pub fn hidden_size(&self) -> usize {
        self.word.dim()
    }

    /// The longest input, in tokens, the position embeddings can take.
    pub fn position_limit(&self) -> usize {
        self.position.dims()[0].saturating_sub(self.position_offset)
    }
}

/// Where one layer's weights live, relative to the layer's prefix.
pub(crate) struct LayerNames {
    pub query: &'static str,
    pub key: &'static str,
    pub value: &'static str,
    pub attn_out: &'static str,
    pub attn_norm: &'static str,
    pub ffn_in: &'static str,
    pub ffn_out: &'static str,
    pub out_norm: &'static str,
}

/// Where a checkpoint keeps the post-norm encoder's weights.
pub(crate) struct Checkpoint {
    /// The encoder's name in task checkpoints (`bert` in BertForMaskedLM).
    pub nested_under: &'static str,
    /// The layers' prefix below the encoder (`encoder.layer`).
    pub layers: &'static str,
    pub names: LayerNames,
    /// Whether it has token type embeddings.
    pub token_types: bool,
}

/// Loads the embeddings (position ids from `position_offset`; the word
/// table read in place where `tables` allows) and the layers where
/// `checkpoint` says, with no relative position bias; returns the
/// encoder's root too, for what else an architecture keeps there.
pub(crate) fn load<'a>(
    vb: VarBuilder<'a>,
    cfg: &TransformerConfig,
    tables: TableSource,
    checkpoint: &Checkpoint,
    position_offset: usize,
) -> Result<(TransformerWeights, VarBuilder<'a>)> {
    let vb = model_root(vb, "embeddings.word_embeddings.weight", checkpoint.nested_under);
    let emb = vb.pp("embeddings");
    let h = cfg.hidden_size;
    let weights = TransformerWeights {
        word: EmbeddingTable::load(emb.pp("word_embeddings"), cfg.vocab_size, h, tables)?,
        position: embedding(emb.pp("position_embeddings"), cfg.max_position_embeddings, h)?,
        token_type: if checkpoint.token_types { Some(embedding(emb.pp("token_type_embeddings"), cfg.type_vocab_size, h)?) } else { None },
        emb_norm: norm(emb.pp("LayerNorm"), h, cfg.layer_norm_eps)?,
        layers: layers(vb.pp(checkpoint.layers), &checkpoint.names, cfg)?,
        relative_bias: None,
        position_offset,
        heads: cfg.num_attention_heads,
        act: cfg.activation(),
    };
    Ok((weights, vb))
}

/// Loads a layer norm stored as `weight`/`bias` or, in older checkpoints,
/// `gamma`/`beta`.
fn norm(vb: VarBuilder, size: usize, eps: f64) -> Result<Norm> {
    let (g, b) = if vb.contains_tensor("weight") { ("weight", "bias") } else { ("gamma", "beta") };
    Ok(Norm { gamma: vb.get(size, g)?, beta: vb.get(size, b)?, eps })
}

fn dense(vb: VarBuilder, in_dim: usize, out_dim: usize) -> Result<Dense> {
    Ok(Dense { weight: vb.get((out_dim, in_dim), "weight")?, bias: vb.get(out_dim, "bias")? })
}

pub(crate) fn embedding(vb: VarBuilder, rows: usize, dim: usize) -> Result<Tensor> {
    vb.get((rows, dim), "weight")
}

fn layers(vb: VarBuilder, names: &LayerNames, cfg: &TransformerConfig) -> Result<Vec<LayerWeights>> {
    let (h, i, eps) = (cfg.hidden_size, cfg.intermediate_size, cfg.layer_norm_eps);
    (0..cfg.num_hidden_layers)
        .map(|n| {
            let vb = vb.pp(n);
            let (q, k, v) = (dense(vb.pp(names.query), h, h)?, dense(vb.pp(names.key), h, h)?, dense(vb.pp(names.value), h, h)?);
            Ok(LayerWeights {
                qkv: Dense {
                    weight: Tensor::cat(&[q.weight, k.weight, v.weight], 0)?,
                    bias: Tensor::cat(&[q.bias, k.bias, v.bias], 0)?,
                },
                attn_out: dense(vb.pp(names.attn_out), h, h)?,
                attn_norm: norm(vb.pp(names.attn_norm), h, eps)?,
                ffn_in: dense(vb.pp(names.ffn_in), h, i)?,
                ffn_out: dense(vb.pp(names.ffn_out), i, h)?,
                out_norm: norm(vb.pp(names.out_norm), h, eps)?,
            })
        })
        .collect()
}

// The fast engine's encoder: the same weights, packed.

fn pack_linear(d: &Dense, packing: Packing) -> Result<Linear> {
    Linear::new(packing, &d.weight, Some(&d.bias))
}

fn pack_norm(n: &Norm) -> Result<LayerNorm> {
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
    fn new(l: &LayerWeights, packing: Packing) -> Result<Self> {
        Ok(Self {
            qkv: pack_linear(&l.qkv, packing)?,
            attn_out: pack_linear(&l.attn_out, packing)?,
            attn_norm: pack_norm(&l.attn_norm)?,
            ffn_in: pack_linear(&l.ffn_in, packing)?,
            ffn_out: pack_linear(&l.ffn_out, packing)?,
            out_norm: pack_norm(&l.out_norm)?,
        })
    }
}

struct PostNormEncoder {
    word: EmbeddingTable,
    position: Vec<f32>,
    token_type: Option<Vec<f32>>,
    emb_norm: LayerNorm,
    layers: Vec<Layer>,
    /// MPNet's relative position bias table, buckets × heads, and its
    /// bucket function.
    relative_bias: Option<(Vec<f32>, fn(i64) -> usize)>,
    hidden: usize,
    heads: usize,
    position_offset: usize,
    act: Activation,
}

impl PostNormEncoder {
    /// Takes the weights over (the candle tensors are dropped, so the
    /// weights are held once), packed as `packing` says.
    pub fn pack(w: TransformerWeights, packing: Packing) -> Result<Self> {
        let hidden = w.hidden_size();
        Ok(Self {
            word: w.word,
            position: blocks::to_vec(&w.position)?,
            token_type: w.token_type.as_ref().map(blocks::to_vec).transpose()?,
            emb_norm: pack_norm(&w.emb_norm)?,
            layers: w.layers.iter().map(|l| Layer::new(l, packing)).collect::<Result<_>>()?,
            relative_bias: w.relative_bias.as_ref().map(|r| blocks::to_vec(&r.table).map(|table| (table, r.bucket))).transpose()?,
            hidden,
            heads: w.heads,
            position_offset: w.position_offset,
            act: w.act,
        })
    }

    fn embed(&self, texts: &[&Tokens], total: usize, pass: &Pass) -> crate::core::Result<Vec<f32>> {
        let h = self.hidden;
        // Each row starts as its word embedding.
        let mut x = vec![0f32; total * h];
        self.word.gather(texts.iter().flat_map(|t| t.ids.iter().copied()), &mut x)?;
        let rows = texts.iter().flat_map(|t| position_ids(&t.ids, self.position_offset).zip(&t.type_ids));
        for (row, (position_id, &ty)) in x.chunks_exact_mut(h).zip(rows) {
            let position = &self.position[position_id * h..][..h];
            match &self.token_type {
                // Hugging Face's order: (word + token type) + position.
                Some(tt) => {
                    let tt = &tt[ty as usize * h..][..h];
                    for i in 0..h {
                        row[i] = (row[i] + tt[i]) + position[i];
                    }
                }
                None => {
                    for i in 0..h {
                        row[i] += position[i];
                    }
                }
            }
        }
        self.emb_norm.apply(&mut x, pass);
        Ok(x)
    }

    fn layer(&self, l: &Layer, x: &[f32], lens: &[usize], relative: Option<&[f32]>, pass: &Pass) -> Vec<f32> {
        // (Each buffer handed back to the scratch pool once used.)
        let mut qkv = l.qkv.forward(x, None, None, pass);
        let options = AttentionOptions { relative, ..Default::default() };
        let context = attention(&mut qkv, lens, self.hidden, self.heads, options, pass);
        scratch::give(qkv);
        let mut attended = l.attn_out.forward(&context, Some(x), None, pass);
        scratch::give(context);
        l.attn_norm.apply(&mut attended, pass);
        let inner = l.ffn_in.forward(&attended, None, Some(blocks::activation(self.act)), pass);
        let mut out = l.ffn_out.forward(&inner, Some(&attended), None, pass);
        scratch::give(inner);
        scratch::give(attended);
        l.out_norm.apply(&mut out, pass);
        out
    }
}

impl FastArchitecture for PostNormEncoder {
    fn forward(&self, texts: &[&Tokens], pass: &Pass) -> crate::core::Result<Vec<f32>> {
        let lens: Vec<usize> = texts.iter().map(|t| t.len()).collect();
        let total: usize = lens.iter().sum();
        let mut x = self.embed(texts, total, pass)?;
        let longest = lens.iter().copied().max().unwrap_or(0);
        let relative = self
            .relative_bias
            .as_ref()
            .map(|(table, bucket)| blocks::relative_bias_by_offset(table, self.heads, longest, bucket));
        for layer in &self.layers {
            let next = self.layer(layer, &x, &lens, relative.as_deref(), pass);
            scratch::give(std::mem::replace(&mut x, next));
        }
        Ok(x)
    }
}

/// A text's position ids as transformers numbers them: 0, 1, 2, ... where
/// `offset` is 0 (BERT, DistilBERT); else (XLM-RoBERTa, RoBERTa, MPNet:
/// `offset` = padding_idx + 1) as `create_position_ids_from_input_ids`
/// does: padding_idx + the count of non-padding tokens so far, and
/// padding_idx itself at a padding token (a literal `<pad>` in a text).
/// At most `offset - 1 + len`, within the table for a text within the
/// position limit.
pub(crate) fn position_ids(ids: &[u32], offset: usize) -> impl Iterator<Item = usize> + '_ {
    let pad = offset.checked_sub(1);
    let mut seen = 0;
    ids.iter().enumerate().map(move |(i, &id)| match pad {
        None => i,
        Some(pad) if id as usize == pad => pad,
        Some(pad) => {
            seen += 1;
            pad + seen
        }
    })
}

/// An architecture's weight loader: `config.json`'s shared fields → the
/// post-norm weights under its names.
/// The word table is read in place where the `TableSource` allows.
pub(super) type Load = fn(VarBuilder, &TransformerConfig, TableSource) -> Result<TransformerWeights>;
/// candle-transformers' model of the architecture, for the reference
/// engine (`reference/library.rs`); `None` where this build lacks it.
pub(super) type LoadLibrary = fn(VarBuilder<'static>, &TransformerConfig) -> Result<Option<LibraryModel>>;

/// Loads (and checks) the weights with `load`; the reference engine then
/// runs candle-transformers' model built by `library`, if any (and if
/// this build has it), else ours.
pub(super) fn open_with(src: super::Source, load: Load, library: Option<LoadLibrary>) -> crate::core::Result<(super::Built, usize)> {
    let weights = load(src.vb.clone(), src.config, src.tables()).map_err(|e| src.weights_error(e))?;
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

#[cfg(test)]
mod tests {
    use super::position_ids;

    #[test]
    fn position_ids_skip_padding_tokens_as_transformers_does() {
        let ids = [0, 5, 1, 6, 2];
        assert_eq!(position_ids(&ids, 0).collect::<Vec<_>>(), [0, 1, 2, 3, 4], "BERT: 0, 1, 2, ...");
        // transformers' create_position_ids_from_input_ids(ids, padding_idx=1) on [0, 5, 1, 6, 2]:
        assert_eq!(position_ids(&ids, 2).collect::<Vec<_>>(), [2, 3, 1, 4, 5]);
    }
}
