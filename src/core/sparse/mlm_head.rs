//! The masked-language-model heads SPLADE models put on their encoders, as
//! transformers defines them: `dense (hidden → hidden) → activation →
//! LayerNorm → decoder (hidden → vocabulary) + bias`, the decoder tied to
//! the word embeddings unless `config.json` says `tie_word_embeddings:
//! false`; the decoder's bias is its own when saved (untied), else the
//! head's `bias` (tied to it).
//!
//! - BERT (`BertOnlyMLMHead`): `cls.predictions.transform.{dense,LayerNorm}`,
//!   `hidden_act`, `layer_norm_eps`; `cls.predictions.decoder` / `.bias`.
//! - DistilBERT: `vocab_transform`, `activation`, `vocab_layer_norm` (eps
//!   1e-12, fixed), `vocab_projector`.
//! - RoBERTa / XLM-RoBERTa (`RobertaLMHead`): `lm_head.{dense,layer_norm}`,
//!   exact GELU whatever `hidden_act` says, `lm_head.decoder` / `lm_head.bias`.

use candle_core::Tensor;
use candle_nn::VarBuilder;
use serde::Deserialize;

use crate::core::error::{Error, Result};
use crate::core::model::{Activation, ConfigFile, TransformerConfig};

/// Where one architecture keeps its head.
struct HeadNames {
    model_type: &'static str,
    dense: &'static str,
    norm: &'static str,
    /// `None`: the config's `layer_norm_eps`.
    norm_eps: Option<f64>,
    /// `None`: the config's `hidden_act`.
    activation: Option<Activation>,
    decoder: &'static str,
    /// The head's own bias, tied to the decoder's when that is not saved.
    bias: Option<&'static str>,
    /// The word embeddings a tied decoder shares.
    word_embeddings: &'static str,
}

const HEADS: [HeadNames; 4] = [
    HeadNames {
        model_type: "bert",
        dense: "cls.predictions.transform.dense",
        norm: "cls.predictions.transform.LayerNorm",
        norm_eps: None,
        activation: None,
        decoder: "cls.predictions.decoder",
        bias: Some("cls.predictions.bias"),
        word_embeddings: "bert.embeddings.word_embeddings.weight",
    },
    HeadNames {
        model_type: "distilbert",
        dense: "vocab_transform",
        norm: "vocab_layer_norm",
        norm_eps: Some(1e-12),
        activation: None,
        decoder: "vocab_projector",
        bias: None,
        word_embeddings: "distilbert.embeddings.word_embeddings.weight",
    },
    HeadNames {
        model_type: "roberta",
        dense: "lm_head.dense",
        norm: "lm_head.layer_norm",
        norm_eps: None,
        activation: Some(Activation::GeluErf),
        decoder: "lm_head.decoder",
        bias: Some("lm_head.bias"),
        word_embeddings: "roberta.embeddings.word_embeddings.weight",
    },
    HeadNames {
        model_type: "xlm-roberta",
        dense: "lm_head.dense",
        norm: "lm_head.layer_norm",
        norm_eps: None,
        activation: Some(Activation::GeluErf),
        decoder: "lm_head.decoder",
        bias: Some("lm_head.bias"),
        word_embeddings: "roberta.embeddings.word_embeddings.weight",
    },
];

/// The architectures with a head here, as error messages list them.
pub(crate) const SUPPORTED_HEADS: &str = "BertForMaskedLM, DistilBertForMaskedLM, RobertaForMaskedLM, XLMRobertaForMaskedLM";

#[derive(Deserialize)]
struct Tying {
    #[serde(default = "yes")]
    tie_word_embeddings: bool,
}

fn yes() -> bool {
    true
}

/// A head's weights, as PyTorch stores them (f32).
pub(crate) struct MlmHead {
    pub dense_weight: Tensor,
    pub dense_bias: Tensor,
    pub activation: Activation,
    pub norm_weight: Tensor,
    pub norm_bias: Tensor,
    pub norm_eps: f64,
    /// vocabulary × hidden.
    pub decoder_weight: Tensor,
    pub decoder_bias: Tensor,
}

impl MlmHead {
    /// Loads the head of the architecture `config.json` names.
    pub fn load(file: &ConfigFile, config: &TransformerConfig, model_type: &str, vb: &VarBuilder) -> Result<Self> {
        let Some(names) = HEADS.iter().find(|h| h.model_type == model_type) else {
            return Err(Error::Unsupported {
                path: file.path.to_path_buf(),
                what: "masked-language-model head",
                value: model_type.to_string(),
                supported: SUPPORTED_HEADS,
            });
        };
        let tied = file.parse::<Tying>()?.tie_word_embeddings;
        let (h, v) = (config.hidden_size, config.vocab_size);
        let get = |shape: &[usize], name: &str| -> candle_core::Result<Tensor> { vb.get(shape, name) };
        let load = || -> candle_core::Result<Self> {
            let decoder_weight = if tied { get(&[v, h], names.word_embeddings)? } else { get(&[v, h], &format!("{}.weight", names.decoder))? };
            let own_bias = format!("{}.bias", names.decoder);
            let decoder_bias = match names.bias {
                Some(head_bias) if !vb.contains_tensor(&own_bias) => get(&[v], head_bias)?,
                _ => get(&[v], &own_bias)?,
            };
            Ok(Self {
                dense_weight: get(&[h, h], &format!("{}.weight", names.dense))?,
                dense_bias: get(&[h], &format!("{}.bias", names.dense))?,
                activation: names.activation.unwrap_or_else(|| config.activation()),
                norm_weight: get(&[h], &format!("{}.weight", names.norm))?,
                norm_bias: get(&[h], &format!("{}.bias", names.norm))?,
                norm_eps: names.norm_eps.unwrap_or(config.layer_norm_eps),
                decoder_weight,
                decoder_bias,
            })
        };
        load().map_err(|e| Error::model(file.path.with_file_name("model.safetensors"), format!("masked-language-model head: {e}")))
    }

    /// The reference: logits (… × vocabulary) of hidden states (… × hidden), in candle ops.
    pub fn logits(&self, hidden: &Tensor) -> candle_core::Result<Tensor> {
        let x = hidden.broadcast_matmul(&self.dense_weight.t()?)?.broadcast_add(&self.dense_bias)?;
        let x = self.activation.apply(&x)?;
        let mean = x.mean_keepdim(candle_core::D::Minus1)?;
        let centered = x.broadcast_sub(&mean)?;
        let var = centered.sqr()?.mean_keepdim(candle_core::D::Minus1)?;
        let x = centered.broadcast_div(&(var + self.norm_eps)?.sqrt()?)?;
        let x = x.broadcast_mul(&self.norm_weight)?.broadcast_add(&self.norm_bias)?;
        x.broadcast_matmul(&self.decoder_weight.t()?)?.broadcast_add(&self.decoder_bias)
    }
}
