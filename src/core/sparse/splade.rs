//! sentence-transformers' `SpladePooling` (per vocabulary entry, over the
//! text's tokens: `max` or `sum` of `log1p(relu(logit))`, with
//! `log1p_relu` one more `log1p`), and `max_active_dims` (the k largest
//! values kept). On the fast engine the head and the pooling run as one
//! `FastArchitecture` after the encoder: the decoder's logits are computed
//! a block of tokens at a time and pooled at once, so at most one block of
//! vocabulary-wide rows exists; for `max`, the raw logits are pooled and
//! transformed once per entry (the transform is monotone, so that is the
//! same value).

use std::path::Path;

use serde::Deserialize;

use crate::core::cpu::blocks::{activation, LayerNorm, Linear, Packing};
use crate::core::cpu::{FastArchitecture, Pass};
use crate::core::error::{Error, Result};
use crate::core::tokenize::Tokens;

use super::mlm_head::MlmHead;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    Max,
    Sum,
}

/// `1_SpladePooling/config.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SpladePooling {
    pub strategy: Strategy,
    /// `log1p_relu`: log1p once more.
    pub double_log: bool,
}

#[derive(Deserialize)]
struct PoolingFile {
    #[serde(default = "max")]
    pooling_strategy: String,
    #[serde(default = "relu")]
    activation_function: String,
}

fn max() -> String {
    "max".into()
}
fn relu() -> String {
    "relu".into()
}

impl SpladePooling {
    pub fn read(path: &Path) -> Result<Self> {
        let file: PoolingFile = if path.is_file() { crate::core::st_config::read_json(path)? } else { PoolingFile { pooling_strategy: max(), activation_function: relu() } };
        let unsupported = |what, value: &str, supported| Error::Unsupported { path: path.to_path_buf(), what, value: value.to_string(), supported };
        let strategy = match file.pooling_strategy.as_str() {
            "max" => Strategy::Max,
            "sum" => Strategy::Sum,
            other => return Err(unsupported("SpladePooling pooling_strategy", other, "max, sum")),
        };
        let double_log = match file.activation_function.as_str() {
            "relu" => false,
            "log1p_relu" => true,
            other => return Err(unsupported("SpladePooling activation_function", other, "relu, log1p_relu")),
        };
        Ok(Self { strategy, double_log })
    }

    /// `log1p(relu(x))`, and once more `log1p` for `log1p_relu`.
    #[inline]
    pub fn transform(self, x: f32) -> f32 {
        let y = x.max(0.0).ln_1p();
        if self.double_log {
            y.ln_1p()
        } else {
            y
        }
    }
}

/// The k largest values of `dense` (all of them for `None`), as ascending
/// indices and their values; zeros are never listed. As
/// sentence-transformers' `select_max_active_dims`: the top k by absolute
/// value (SPLADE's values are never negative).
pub(crate) fn sparsify(dense: &[f32], k: Option<usize>) -> (Vec<u32>, Vec<f32>) {
    let mut active: Vec<(u32, f32)> = dense.iter().enumerate().filter(|(_, &v)| v != 0.0).map(|(i, &v)| (i as u32, v)).collect();
    if let Some(k) = k.filter(|&k| k < active.len()) {
        // Largest |value| first; among equal values the lower index (torch.topk's choice is unspecified).
        active.select_nth_unstable_by(k, |a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
        active.truncate(k);
        active.sort_unstable_by_key(|&(i, _)| i);
    }
    active.into_iter().unzip()
}

/// The fast engine's SPLADE model: the encoder, then the head and the
/// pooling fused. Its output per text is the pooled vector (vocabulary
/// wide), texts one after another.
pub(crate) struct FastSplade {
    pub body: Box<dyn FastArchitecture>,
    dense: Linear,
    act: crate::core::model::Activation,
    norm: LayerNorm,
    decoder: Linear,
    hidden: usize,
    vocab: usize,
    pooling: SpladePooling,
}

/// Rows of logits computed at once: about 8 MB of them.
const LOGIT_BLOCK_FLOATS: usize = 1 << 21;

impl FastSplade {
    pub fn new(body: Box<dyn FastArchitecture>, head: &MlmHead, pooling: SpladePooling, packing: Packing) -> candle_core::Result<Self> {
        let (vocab, hidden) = head.decoder_weight.dims2()?;
        Ok(Self {
            body,
            dense: Linear::new(packing, &head.dense_weight, Some(&head.dense_bias))?,
            act: head.activation,
            norm: LayerNorm::new(&head.norm_weight, Some(&head.norm_bias), head.norm_eps)?,
            decoder: Linear::new(packing, &head.decoder_weight, Some(&head.decoder_bias))?,
            hidden,
            vocab,
            pooling,
        })
    }
}

impl FastArchitecture for FastSplade {
    fn forward(&self, texts: &[&Tokens], pass: &Pass) -> Result<Vec<f32>> {
        let hidden = self.body.forward(texts, pass)?;
        let (h, v) = (self.hidden, self.vocab);
        let mut x = self.dense.forward(&hidden, None, Some(activation(self.act)), pass);
        drop(hidden);
        self.norm.apply(&mut x, pass);
        let max = self.pooling.strategy == Strategy::Max;
        let mut pooled = vec![if max { f32::NEG_INFINITY } else { 0.0 }; texts.len() * v];
        // Each token row's text.
        let owner: Vec<usize> = texts.iter().enumerate().flat_map(|(t, tokens)| std::iter::repeat(t).take(tokens.len())).collect();
        let block = (LOGIT_BLOCK_FLOATS / v).max(1);
        for first in (0..owner.len()).step_by(block) {
            let end = (first + block).min(owner.len());
            let logits = self.decoder.forward(&x[first * h..end * h], None, None, pass);
            for (row, &t) in logits.chunks_exact(v).zip(&owner[first..end]) {
                let acc = &mut pooled[t * v..(t + 1) * v];
                if max {
                    acc.iter_mut().zip(row).for_each(|(a, &l)| *a = a.max(l));
                } else {
                    acc.iter_mut().zip(row).for_each(|(a, &l)| *a += self.pooling.transform(l));
                }
            }
        }
        if max {
            pooled.iter_mut().for_each(|a| *a = self.pooling.transform(*a));
        }
        Ok(pooled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_k_largest_values_are_kept_in_index_order() {
        let dense = [0.0, 3.0, 1.0, 0.0, 2.0, 5.0];
        assert_eq!(sparsify(&dense, None), (vec![1, 2, 4, 5], vec![3.0, 1.0, 2.0, 5.0]));
        assert_eq!(sparsify(&dense, Some(2)), (vec![1, 5], vec![3.0, 5.0]));
        assert_eq!(sparsify(&dense, Some(10)), (vec![1, 2, 4, 5], vec![3.0, 1.0, 2.0, 5.0]));
        assert_eq!(sparsify(&[0.0; 3], Some(1)), (vec![], vec![]));
    }

    #[test]
    fn the_transform_is_log1p_relu_once_or_twice() {
        let once = SpladePooling { strategy: Strategy::Max, double_log: false };
        let twice = SpladePooling { double_log: true, ..once };
        assert_eq!(once.transform(-1.0), 0.0);
        assert_eq!(once.transform(1.0), 1f32.ln_1p());
        assert_eq!(twice.transform(1.0), 1f32.ln_1p().ln_1p());
    }
}
