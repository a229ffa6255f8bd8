//! The sequence-classification heads, as transformers' `*ForSequenceClassification`
//! computes them on the encoder's last hidden states (dropout is off at
//! inference):
//! - BERT: `pooler` (first token, dense, tanh), then `classifier`;
//! - RoBERTa / XLM-RoBERTa / MPNet: first token, `classifier.dense`, tanh,
//!   `classifier.out_proj`;
//! - DistilBERT: first token, `pre_classifier`, ReLU, `classifier`;
//! - ModernBERT: first token or the mean of all tokens (`classifier_pooling`),
//!   `head.dense` (bias per `classifier_bias`), `classifier_activation`,
//!   `head.norm` (bias per `norm_bias`), then `classifier`.
//!
//! Every head is "pool, optional dense + activation (+ layer norm), linear
//! to the labels": one [`Head`], its weights named per architecture in
//! [`Head::load`]. The head is a few hidden² multiply-adds per pair, done
//! here in plain f32 loops (f64 sums).

use std::path::Path;

use candle_core::Device;
use candle_nn::VarBuilder;
use serde::Deserialize;

use crate::core::error::{Error, Result};
use crate::core::model::{self, Activation, ConfigFile};

/// Architectures with a head here (`config.json`'s `model_type`).
const SUPPORTED: &str = "bert, xlm-roberta, roberta, distilbert, mpnet, modernbert";

/// `out = W x + b`, `W` (out × in) row-major as PyTorch stores it.
struct Affine {
    weight: Vec<f32>,
    bias: Vec<f32>,
    inputs: usize,
}

impl Affine {
    fn load(vb: VarBuilder, inputs: usize, outputs: usize, bias: bool) -> candle_core::Result<Self> {
        let weight = vb.get((outputs, inputs), "weight")?.flatten_all()?.to_vec1::<f32>()?;
        let bias = if bias { vb.get(outputs, "bias")?.to_vec1::<f32>()? } else { vec![0.0; outputs] };
        Ok(Self { weight, bias, inputs })
    }

    fn apply(&self, x: &[f32], out: &mut [f32]) {
        for ((o, row), b) in out.iter_mut().zip(self.weight.chunks_exact(self.inputs)).zip(&self.bias) {
            let dot: f64 = row.iter().zip(x).map(|(w, v)| f64::from(*w) * f64::from(*v)).sum();
            *o = (dot + f64::from(*b)) as f32;
        }
    }
}

#[derive(Clone, Copy)]
enum HeadActivation {
    Tanh,
    Relu,
    /// A transformers activation by name (`gelu`, ...).
    Named(Activation),
}

#[derive(Clone, Copy, PartialEq)]
enum Pooling {
    First,
    Mean,
}

struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
    eps: f64,
}

/// A sequence-classification head.
pub(crate) struct Head {
    pooling: Pooling,
    dense: Option<(Affine, HeadActivation)>,
    norm: Option<Norm>,
    classifier: Affine,
    hidden: usize,
    labels: usize,
}

/// ModernBERT's head fields of `config.json`, with transformers' defaults.
#[derive(Deserialize)]
struct ModernBertHead {
    #[serde(default = "default_cls")]
    classifier_pooling: String,
    #[serde(default)]
    classifier_bias: bool,
    #[serde(default = "default_gelu")]
    classifier_activation: String,
    #[serde(default = "default_true")]
    norm_bias: bool,
    #[serde(default = "default_norm_eps")]
    norm_eps: f64,
}

fn default_cls() -> String {
    "cls".into()
}
fn default_gelu() -> String {
    "gelu".into()
}
fn default_true() -> bool {
    true
}
fn default_norm_eps() -> f64 {
    1e-5
}

impl Head {
    /// The head of the checkpoint in `dir` (`config.json`, weights), for
    /// `labels` labels on `hidden`-wide hidden states.
    pub fn load(dir: &Path, hidden: usize, labels: usize) -> Result<Self> {
        let config_path = dir.join("config.json");
        let file = ConfigFile::read(&config_path)?;
        let id = file.identity()?;
        let model_type = crate::core::arch::model_type(id.model_type.as_deref(), &id.architectures);
        let (vb, weights_path) = model::open_weights(dir, &Device::Cpu)?;
        let weights_error = |e: candle_core::Error| {
            Error::model(&weights_path, format!("cannot read the {model_type} sequence-classification head: {e}"))
        };
        let affine = |vb: VarBuilder, outputs: usize, bias: bool| Affine::load(vb, hidden, outputs, bias).map_err(weights_error);
        let (pooling, dense, norm, classifier) = match model_type.as_str() {
            "bert" => {
                let pooler = if vb.contains_tensor("bert.pooler.dense.weight") { vb.pp("bert.pooler.dense") } else { vb.pp("pooler.dense") };
                (Pooling::First, Some((affine(pooler, hidden, true)?, HeadActivation::Tanh)), None, affine(vb.pp("classifier"), labels, true)?)
            }
            "xlm-roberta" | "roberta" | "mpnet" => (
                Pooling::First,
                Some((affine(vb.pp("classifier.dense"), hidden, true)?, HeadActivation::Tanh)),
                None,
                affine(vb.pp("classifier.out_proj"), labels, true)?,
            ),
            "distilbert" => (
                Pooling::First,
                Some((affine(vb.pp("pre_classifier"), hidden, true)?, HeadActivation::Relu)),
                None,
                affine(vb.pp("classifier"), labels, true)?,
            ),
            "modernbert" => {
                let cfg: ModernBertHead = file.parse()?;
                let pooling = match cfg.classifier_pooling.as_str() {
                    "cls" => Pooling::First,
                    "mean" => Pooling::Mean,
                    other => {
                        return Err(Error::Unsupported { path: config_path, what: "classifier_pooling", value: other.into(), supported: "cls, mean" })
                    }
                };
                let act = Activation::parse(&cfg.classifier_activation).ok_or_else(|| Error::Unsupported {
                    path: config_path.clone(),
                    what: "classifier_activation",
                    value: cfg.classifier_activation.clone(),
                    supported: model::ACTIVATIONS,
                })?;
                let norm_vb = vb.pp("head.norm");
                let gamma = norm_vb.get(hidden, "weight").and_then(|t| t.to_vec1::<f32>()).map_err(weights_error)?;
                let beta = if cfg.norm_bias { norm_vb.get(hidden, "bias").and_then(|t| t.to_vec1::<f32>()).map_err(weights_error)? } else { vec![0.0; hidden] };
                (
                    pooling,
                    Some((affine(vb.pp("head.dense"), hidden, cfg.classifier_bias)?, HeadActivation::Named(act))),
                    Some(Norm { gamma, beta, eps: cfg.norm_eps }),
                    affine(vb.pp("classifier"), labels, true)?,
                )
            }
            other => {
                return Err(Error::Unsupported { path: config_path, what: "CrossEncoder architecture", value: other.to_string(), supported: SUPPORTED })
            }
        };
        Ok(Self { pooling, dense, norm, classifier, hidden, labels })
    }

    pub fn labels(&self) -> usize {
        self.labels
    }

    /// The logits of one pair from its tokens' hidden states (len × hidden), into `out` (labels).
    pub fn logits(&self, tokens: &[f32], out: &mut [f32]) {
        let h = self.hidden;
        let mut x = match self.pooling {
            Pooling::First => tokens[..h].to_vec(),
            Pooling::Mean => {
                let rows = (tokens.len() / h).max(1);
                let mut sum = vec![0f64; h];
                for row in tokens.chunks_exact(h) {
                    sum.iter_mut().zip(row).for_each(|(s, v)| *s += f64::from(*v));
                }
                sum.iter().map(|s| (s / rows as f64) as f32).collect()
            }
        };
        if let Some((dense, act)) = &self.dense {
            let mut y = vec![0f32; h];
            dense.apply(&x, &mut y);
            match act {
                HeadActivation::Tanh => y.iter_mut().for_each(|v| *v = v.tanh()),
                HeadActivation::Relu => y.iter_mut().for_each(|v| *v = v.max(0.0)),
                HeadActivation::Named(a) => crate::core::cpu::blocks::activation(*a)(&mut y),
            }
            x = y;
        }
        if let Some(norm) = &self.norm {
            let n = h as f64;
            let mean = x.iter().map(|v| f64::from(*v)).sum::<f64>() / n;
            let var = x.iter().map(|v| (f64::from(*v) - mean).powi(2)).sum::<f64>() / n;
            let inv = 1.0 / (var + norm.eps).sqrt();
            for ((v, g), b) in x.iter_mut().zip(&norm.gamma).zip(&norm.beta) {
                *v = ((f64::from(*v) - mean) * inv) as f32 * g + b;
            }
        }
        self.classifier.apply(&x, out);
    }
}
