//! DistilBERT: BERT's encoder layer under other weight names, with no
//! token type embeddings.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Embedding, LayerNorm, VarBuilder};

use super::config::TransformerConfig;
use super::layer::{layer_norm, model_root, run_layers, EncoderLayer, LayerNames};

const NAMES: LayerNames = LayerNames {
    query: "attention.q_lin",
    key: "attention.k_lin",
    value: "attention.v_lin",
    attn_out: "attention.out_lin",
    attn_norm: "sa_layer_norm",
    ffn_in: "ffn.lin1",
    ffn_out: "ffn.lin2",
    out_norm: "output_layer_norm",
};

pub(crate) struct DistilBert {
    word: Embedding,
    position: Embedding,
    norm: LayerNorm,
    layers: Vec<EncoderLayer>,
}

impl DistilBert {
    pub fn load(vb: VarBuilder, cfg: &TransformerConfig) -> Result<Self> {
        let vb = model_root(vb, "embeddings.word_embeddings.weight", "distilbert");
        let emb = vb.pp("embeddings");
        let h = cfg.hidden_size;
        let layers = vb.pp("transformer").pp("layer");
        Ok(Self {
            word: Embedding::new(emb.pp("word_embeddings").get((cfg.vocab_size, h), "weight")?, h),
            position: Embedding::new(emb.pp("position_embeddings").get((cfg.max_position_embeddings, h), "weight")?, h),
            norm: layer_norm(emb.pp("LayerNorm"), h, cfg.layer_norm_eps)?,
            layers: (0..cfg.num_hidden_layers)
                .map(|i| EncoderLayer::load(layers.pp(i), &NAMES, cfg))
                .collect::<Result<_>>()?,
        })
    }

    pub fn forward(&self, input_ids: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
        let positions = Tensor::arange(0u32, input_ids.dim(1)? as u32, input_ids.device())?;
        let x = self.word.forward(input_ids)?.broadcast_add(&self.position.forward(&positions)?)?;
        run_layers(&self.layers, self.norm.forward(&x)?, mask)
    }
}
