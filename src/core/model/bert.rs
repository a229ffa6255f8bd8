//! BERT (all-MiniLM-L6-v2, paraphrase-multilingual-MiniLM-L12-v2) and
//! XLM-RoBERTa (multilingual-e5, paraphrase-xlm-r): the same encoder, but
//! XLM-RoBERTa numbers positions from `padding_idx + 1`, as Hugging Face's
//! `create_position_ids_from_input_ids` does.

use candle_core::{Module, Result, Tensor};
use candle_nn::{Embedding, LayerNorm, VarBuilder};

use super::config::TransformerConfig;
use super::layer::{layer_norm, model_root, run_layers, EncoderLayer, LayerNames};

const NAMES: LayerNames = LayerNames {
    query: "attention.self.query",
    key: "attention.self.key",
    value: "attention.self.value",
    attn_out: "attention.output.dense",
    attn_norm: "attention.output.LayerNorm",
    ffn_in: "intermediate.dense",
    ffn_out: "output.dense",
    out_norm: "output.LayerNorm",
};

/// How positions are numbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// Positions 0, 1, 2, ...; weights under `bert.` in task checkpoints.
    Bert,
    /// Positions `pad + 1`, `pad + 2`, ...; weights under `roberta.`.
    XlmRoberta,
}

impl Flavor {
    /// The first position id of a sequence.
    pub fn position_offset(self, cfg: &TransformerConfig) -> usize {
        match self {
            Flavor::Bert => 0,
            Flavor::XlmRoberta => cfg.pad_token_id as usize + 1,
        }
    }

    fn checkpoint_prefix(self) -> &'static str {
        match self {
            Flavor::Bert => "bert",
            Flavor::XlmRoberta => "roberta",
        }
    }
}

struct Embeddings {
    word: Embedding,
    position: Embedding,
    token_type: Embedding,
    norm: LayerNorm,
    position_offset: u32,
}

impl Embeddings {
    fn load(vb: VarBuilder, cfg: &TransformerConfig, flavor: Flavor) -> Result<Self> {
        let h = cfg.hidden_size;
        let table = |name: &str, rows: usize| -> Result<Embedding> {
            Ok(Embedding::new(vb.pp(name).get((rows, h), "weight")?, h))
        };
        Ok(Self {
            word: table("word_embeddings", cfg.vocab_size)?,
            position: table("position_embeddings", cfg.max_position_embeddings)?,
            token_type: table("token_type_embeddings", cfg.type_vocab_size)?,
            norm: layer_norm(vb.pp("LayerNorm"), h, cfg.layer_norm_eps)?,
            position_offset: flavor.position_offset(cfg) as u32,
        })
    }

    /// Padding sits at the end of each row, so real tokens get positions
    /// `offset + i` whichever flavor; padded positions are masked anyway.
    fn forward(&self, input_ids: &Tensor, type_ids: &Tensor) -> Result<Tensor> {
        let seq_len = input_ids.dim(1)? as u32;
        let positions = Tensor::arange(self.position_offset, self.position_offset + seq_len, input_ids.device())?;
        let x = self
            .word
            .forward(input_ids)?
            .add(&self.token_type.forward(type_ids)?)?
            .broadcast_add(&self.position.forward(&positions)?)?;
        self.norm.forward(&x)
    }
}

pub(crate) struct Bert {
    embeddings: Embeddings,
    layers: Vec<EncoderLayer>,
}

impl Bert {
    pub fn load(vb: VarBuilder, cfg: &TransformerConfig, flavor: Flavor) -> Result<Self> {
        let vb = model_root(vb, "embeddings.word_embeddings.weight", flavor.checkpoint_prefix());
        let layers = vb.pp("encoder").pp("layer");
        Ok(Self {
            embeddings: Embeddings::load(vb.pp("embeddings"), cfg, flavor)?,
            layers: (0..cfg.num_hidden_layers)
                .map(|i| EncoderLayer::load(layers.pp(i), &NAMES, cfg))
                .collect::<Result<_>>()?,
        })
    }

    pub fn forward(&self, input_ids: &Tensor, type_ids: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
        run_layers(&self.layers, self.embeddings.forward(input_ids, type_ids)?, mask)
    }
}
