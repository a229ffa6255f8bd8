//! sentence-transformers' `StaticEmbedding` module: an embedding bag. A
//! text's vector is the mean of its tokens' rows (no transformer, no
//! special tokens); a text without tokens gives the zero vector, as
//! PyTorch's `EmbeddingBag(mode="mean")` gives an empty bag. Tokenization
//! is the module's `tokenizer.json` as it is (its own truncation, no
//! special tokens: see `TextTokenizer::load_static`).
//!
//! The weights, in the module's folder: `embedding.weight` (what
//! sentence-transformers saves), or model2vec's format, which
//! sentence-transformers 6's `StaticEmbedding.load` folds into one row per
//! token id: `embeddings`, an optional `mapping` (token id → row) and
//! optional per-token `weights` (row scaled by the token's weight).

use std::path::Path;

use candle_core::safetensors::MmapedSafetensors;
use candle_core::{DType, Device, Tensor};

use super::error::{Error, Result};
use super::model;

pub(crate) struct StaticEmbedding {
    /// rows × dimension, row-major.
    table: Vec<f32>,
    rows: usize,
    dimension: usize,
}

impl StaticEmbedding {
    /// Reads the module's weights from `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        let safetensors = dir.join("model.safetensors");
        let table = if safetensors.is_file() {
            // SAFETY: mapped read-only; sbert4j never writes the file (as
            // with every mmap, a file truncated by another process while it
            // is read is beyond what can be guarded against).
            let file = unsafe { MmapedSafetensors::new(&safetensors) }
                .map_err(|e| Error::model(&safetensors, format!("cannot read weights: {e}")))?;
            let get = |name: &str| file.get(name).ok().map(|_| file.load(name, &Device::Cpu)).transpose();
            let bad = |e: candle_core::Error| Error::model(&safetensors, e.to_string());
            match get("embedding.weight").map_err(bad)? {
                Some(weight) => weight,
                None => {
                    let embeddings = get("embeddings").map_err(bad)?.ok_or_else(|| {
                        Error::model(&safetensors, "no 'embedding.weight' (sentence-transformers) nor 'embeddings' (model2vec) tensor")
                    })?;
                    fold_model2vec(embeddings, get("mapping").map_err(bad)?, get("weights").map_err(bad)?)
                        .map_err(|e| Error::model(&safetensors, e))?
                }
            }
        } else {
            // pytorch_model.bin (`save(safe_serialization=False)`), read through the checked loader.
            let (vb, path) = model::open_weights(dir, &Device::Cpu)?;
            vb.get_unchecked_dtype("embedding.weight", DType::F32).map_err(|e| Error::model(&path, e.to_string()))?
        };
        let weights_file = dir.join("model.safetensors");
        let (rows, dimension) = table.dims2().map_err(|e| Error::model(&weights_file, format!("embedding table: {e}")))?;
        if rows == 0 || dimension == 0 {
            return Err(Error::model(&weights_file, "the embedding table is empty"));
        }
        let table = table
            .to_dtype(DType::F32)
            .and_then(|t| t.flatten_all())
            .and_then(|t| t.to_vec1::<f32>())
            .map_err(|e| Error::model(&weights_file, format!("embedding table: {e}")))?;
        Ok(Self { table, rows, dimension })
    }

    /// Rows in the table (token ids `0..rows`).
    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// The mean of the rows of `ids` into `out` (zeros for no ids). Every
    /// id must be below [`Self::rows`] (the encoder checks each text).
    pub fn mean(&self, ids: &[u32], out: &mut [f32]) {
        out.fill(0.0);
        if ids.is_empty() {
            return;
        }
        for &id in ids {
            let row = &self.table[id as usize * self.dimension..][..self.dimension];
            out.iter_mut().zip(row).for_each(|(o, r)| *o += r);
        }
        let n = ids.len() as f32;
        out.iter_mut().for_each(|o| *o /= n);
    }
}

/// `StaticEmbedding._fold_model2vec_weights`: `embeddings[mapping]`, each
/// row times its token's weight.
fn fold_model2vec(embeddings: Tensor, mapping: Option<Tensor>, weights: Option<Tensor>) -> std::result::Result<Tensor, String> {
    let e = |e: candle_core::Error| format!("model2vec weights: {e}");
    let mut table = embeddings.to_dtype(DType::F32).map_err(e)?;
    let (rows, _) = table.dims2().map_err(e)?;
    if let Some(mapping) = mapping {
        let ids = mapping.to_dtype(DType::I64).and_then(|m| m.flatten_all()).and_then(|m| m.to_vec1::<i64>()).map_err(e)?;
        if let Some(bad) = ids.iter().find(|&&i| i < 0 || i as usize >= rows) {
            return Err(format!("model2vec weights: 'mapping' names row {bad}, but 'embeddings' has {rows} rows"));
        }
        let ids: Vec<u32> = ids.iter().map(|&i| i as u32).collect();
        let n = ids.len();
        table = table.index_select(&Tensor::from_vec(ids, n, &Device::Cpu).map_err(e)?, 0).map_err(e)?;
    }
    if let Some(weights) = weights {
        let weights = weights.to_dtype(DType::F32).and_then(|w| w.flatten_all()).map_err(e)?;
        if weights.dims1().map_err(e)? != table.dims2().map_err(e)?.0 {
            return Err(format!("model2vec weights: {} 'weights' for {} token rows", weights.dims1().map_err(e)?, table.dims2().map_err(e)?.0));
        }
        table = table.broadcast_mul(&weights.unsqueeze(1).map_err(e)?).map_err(e)?;
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mean_of_no_tokens_is_zero_and_ids_are_averaged() {
        let s = StaticEmbedding { table: vec![1., 2., 3., 4., 5., 6.], rows: 3, dimension: 2 };
        let mut out = [9f32; 2];
        s.mean(&[], &mut out);
        assert_eq!(out, [0., 0.]);
        s.mean(&[0, 2, 2], &mut out);
        assert_eq!(out, [11. / 3., 14. / 3.]);
    }

    #[test]
    fn model2vec_mapping_and_weights_fold_into_one_row_per_token() {
        let emb = Tensor::new(&[[1f32, 2.], [3., 4.]], &Device::Cpu).unwrap();
        let mapping = Tensor::new(&[1i64, 0, 1], &Device::Cpu).unwrap();
        let weights = Tensor::new(&[2f32, 1., 0.5], &Device::Cpu).unwrap();
        let t = fold_model2vec(emb.clone(), Some(mapping), Some(weights)).unwrap();
        assert_eq!(t.to_vec2::<f32>().unwrap(), vec![vec![6., 8.], vec![1., 2.], vec![1.5, 2.]]);
        let bad = Tensor::new(&[2i64], &Device::Cpu).unwrap();
        assert!(fold_model2vec(emb, Some(bad), None).unwrap_err().contains("row 2"));
    }
}
