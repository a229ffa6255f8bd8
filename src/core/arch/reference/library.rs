//! The reference engine on candle-transformers' own model implementations
//! (an oracle independent of ours), for the architectures where they
//! reproduce sentence-transformers: BERT (`models::bert`), XLM-RoBERTa /
//! RoBERTa (`models::xlm_roberta`) and ModernBERT (`models::modernbert`,
//! within what it covers). Only glue is here: their configs built from
//! ours, the names of our checkpoints mapped onto theirs, the masks they
//! expect. Where candle-transformers deviates from transformers, our own
//! candle-ops reference stays (see `ReferenceModel` in `mod.rs`):
//! - DistilBERT: `models::distilbert` computes `gelu` with the tanh
//!   approximation; transformers' DistilBERT uses the exact erf form.
//! - MPNet: candle-transformers has no MPNet.
//! - ModernBERT with any bias (`attention_bias`, `mlp_bias`, `norm_bias`),
//!   a `hidden_activation` other than `gelu`, or `layer_types` that are not
//!   "global every n layers": `models::modernbert` hard-codes none of these.
//!
//! Only with the feature `candle-transformers-oracle` (on in `cargo test`,
//! off in the shipped library): without it every constructor returns
//! `None` and the reference engine runs ours.

#[cfg(feature = "candle-transformers-oracle")]
mod library {
    use candle_core::{DType, Result, Tensor};
    use candle_nn::VarBuilder;
    use candle_transformers::models::{bert, modernbert, xlm_roberta};

    use crate::core::model::{Activation, TransformerConfig};
    use crate::core::model::model_root;
    use super::super::super::modernbert::ModernBertConfig;

    pub enum LibraryModel {
        Bert(bert::BertModel),
        XlmRoberta(xlm_roberta::XLMRobertaModel),
        ModernBert(modernbert::ModernBert),
    }

    /// Older checkpoints store layer norms as `gamma` / `beta`; the library
    /// asks for `weight` / `bias`.
    fn with_gamma_beta_names(vb: VarBuilder<'static>) -> VarBuilder<'static> {
        let probe = vb.clone();
        vb.rename_f(move |name| {
            let old = name.strip_suffix(".weight").map(|n| format!("{n}.gamma")).or_else(|| name.strip_suffix(".bias").map(|n| format!("{n}.beta")));
            match old {
                Some(old) if !probe.contains_tensor(name) && probe.contains_tensor(&old) => old,
                _ => name.to_string(),
            }
        })
    }

    fn activation(act: Activation) -> candle_nn::Activation {
        match act {
            Activation::GeluErf => candle_nn::Activation::Gelu,
            Activation::GeluTanh => candle_nn::Activation::GeluPytorchTanh,
            Activation::Relu => candle_nn::Activation::Relu,
        }
    }

    pub fn bert(vb: VarBuilder<'static>, cfg: &TransformerConfig) -> Result<Option<LibraryModel>> {
        let hidden_act = match cfg.activation() {
            Activation::GeluErf => bert::HiddenAct::Gelu,
            Activation::GeluTanh => bert::HiddenAct::GeluApproximate,
            Activation::Relu => bert::HiddenAct::Relu,
        };
        let config = bert::Config {
            vocab_size: cfg.vocab_size,
            hidden_size: cfg.hidden_size,
            num_hidden_layers: cfg.num_hidden_layers,
            num_attention_heads: cfg.num_attention_heads,
            intermediate_size: cfg.intermediate_size,
            hidden_act,
            hidden_dropout_prob: 0.0,
            max_position_embeddings: cfg.max_position_embeddings,
            type_vocab_size: cfg.type_vocab_size,
            initializer_range: 0.02,
            layer_norm_eps: cfg.layer_norm_eps,
            pad_token_id: cfg.pad_token_id as usize,
            position_embedding_type: bert::PositionEmbeddingType::Absolute,
            use_cache: false,
            classifier_dropout: None,
            // Task checkpoints nest the encoder under `bert.`.
            model_type: Some("bert".into()),
        };
        Ok(Some(LibraryModel::Bert(bert::BertModel::load(with_gamma_beta_names(vb), &config)?)))
    }

    pub fn xlm_roberta(vb: VarBuilder<'static>, cfg: &TransformerConfig) -> Result<Option<LibraryModel>> {
        let config = xlm_roberta::Config {
            hidden_size: cfg.hidden_size,
            layer_norm_eps: cfg.layer_norm_eps,
            attention_probs_dropout_prob: 0.0,
            hidden_dropout_prob: 0.0,
            num_attention_heads: cfg.num_attention_heads,
            position_embedding_type: "absolute".into(),
            intermediate_size: cfg.intermediate_size,
            hidden_act: activation(cfg.activation()),
            num_hidden_layers: cfg.num_hidden_layers,
            vocab_size: cfg.vocab_size,
            max_position_embeddings: cfg.max_position_embeddings,
            type_vocab_size: cfg.type_vocab_size,
            pad_token_id: cfg.pad_token_id,
        };
        // The library does not look under `roberta.` itself.
        let vb = model_root(with_gamma_beta_names(vb), "embeddings.word_embeddings.weight", "roberta");
        Ok(Some(LibraryModel::XlmRoberta(xlm_roberta::XLMRobertaModel::new(&config, vb)?)))
    }

    /// `None` where `models::modernbert` cannot reproduce the model (see the
    /// module's comment).
    pub fn modernbert(vb: VarBuilder<'static>, cfg: &TransformerConfig, mb: &ModernBertConfig) -> Result<Option<LibraryModel>> {
        let Some(every) = mb.global_every() else { return Ok(None) };
        if mb.attention_bias || mb.mlp_bias || mb.norm_bias || mb.act != Activation::GeluErf {
            return Ok(None);
        }
        let config = modernbert::Config {
            vocab_size: mb.vocab,
            hidden_size: mb.hidden,
            num_hidden_layers: mb.layers.len(),
            num_attention_heads: mb.heads,
            intermediate_size: mb.intermediate,
            max_position_embeddings: cfg.max_position_embeddings,
            // transformers' name is norm_eps.
            layer_norm_eps: mb.eps,
            pad_token_id: cfg.pad_token_id,
            global_attn_every_n_layers: every,
            global_rope_theta: mb.global_theta,
            local_attention: mb.window * 2,
            local_rope_theta: mb.local_theta,
            classifier_config: None,
        };
        // The library reads ModernBertForMaskedLM's names (`model.` first);
        // sentence-transformers saves ModernBertModel's (none).
        let vb = if vb.contains_tensor("embeddings.tok_embeddings.weight") {
            vb.rename_f(|name| name.strip_prefix("model.").unwrap_or(name).to_string())
        } else {
            vb
        };
        Ok(Some(LibraryModel::ModernBert(modernbert::ModernBert::load(vb, &config)?)))
    }

    impl LibraryModel {
        /// `mask`: (batch, seq) f32, 1 for real tokens. Returns (batch, seq, h).
        pub fn forward(&self, input_ids: &Tensor, type_ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
            match self {
                Self::Bert(m) => m.forward(input_ids, type_ids, Some(mask)),
                Self::XlmRoberta(m) => m.forward(input_ids, mask, type_ids, None, None, None),
                Self::ModernBert(m) => m.forward(input_ids, &mask.to_dtype(DType::F32)?),
            }
        }
    }
}

#[cfg(not(feature = "candle-transformers-oracle"))]
mod library {
    use candle_core::{Result, Tensor};
    use candle_nn::VarBuilder;

    use crate::core::model::TransformerConfig;
    use super::super::super::modernbert::ModernBertConfig;

    /// No candle-transformers in this build: never constructed.
    pub enum LibraryModel {}

    pub fn bert(_: VarBuilder<'static>, _: &TransformerConfig) -> Result<Option<LibraryModel>> {
        Ok(None)
    }

    pub fn xlm_roberta(_: VarBuilder<'static>, _: &TransformerConfig) -> Result<Option<LibraryModel>> {
        Ok(None)
    }

    pub fn modernbert(_: VarBuilder<'static>, _: &TransformerConfig, _: &ModernBertConfig) -> Result<Option<LibraryModel>> {
        Ok(None)
    }

    impl LibraryModel {
        pub fn forward(&self, _: &Tensor, _: &Tensor, _: &Tensor) -> Result<Tensor> {
            match *self {}
        }
    }
}

pub(crate) use library::{bert, modernbert, xlm_roberta, LibraryModel};
