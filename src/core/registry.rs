//! The process-wide cache of loaded models. Opening the same directory
//! twice shares one copy of the weights; the weights are freed when the
//! last encoder using them is dropped (the cache only holds `Weak`s).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

use candle_core::Device;
use once_cell::sync::Lazy;
use parking_lot::Mutex;

use super::error::{Error, Result};
use super::model::{Transformer, TransformerConfig};
use super::st_config::SentenceTransformerConfig;
use super::tokenize::TextTokenizer;

/// Everything read from one model directory, immutable once loaded.
pub(crate) struct LoadedModel {
    pub st: SentenceTransformerConfig,
    pub config: TransformerConfig,
    pub transformer: Transformer,
    /// Truncates at the model's own `max_seq_length`.
    pub tokenizer: Arc<TextTokenizer>,
    pub device: Device,
}

impl LoadedModel {
    fn load(dir: &Path) -> Result<Self> {
        let st = SentenceTransformerConfig::read(dir)?;
        let device = Device::Cpu;
        let (transformer, config) = Transformer::load(&st.transformer_dir, &device)?;
        let limit = transformer.position_limit(&config);
        let max_len = st.max_seq_length.unwrap_or(limit).min(limit);
        let tokenizer = TextTokenizer::load(&st.transformer_dir.join("tokenizer.json"), max_len)?;
        Ok(Self { st, config, transformer, tokenizer: Arc::new(tokenizer), device })
    }

    /// The longest input (in tokens, special tokens included) the position
    /// embeddings can take.
    pub fn position_limit(&self) -> usize {
        self.transformer.position_limit(&self.config)
    }
}

static LOADED: Lazy<Mutex<HashMap<PathBuf, Weak<LoadedModel>>>> = Lazy::new(Default::default);

/// Returns the loaded model of `dir`, loading it unless some encoder
/// already holds it.
pub(crate) fn get_or_load(dir: &Path) -> Result<Arc<LoadedModel>> {
    let key = dir
        .canonicalize()
        .map_err(|e| Error::model(dir, format!("model directory does not exist or cannot be read: {e}")))?;
    // The lock is held while loading so two threads opening the same
    // directory load it once.
    let mut loaded = LOADED.lock();
    loaded.retain(|_, weak| weak.strong_count() > 0);
    if let Some(model) = loaded.get(&key).and_then(Weak::upgrade) {
        return Ok(model);
    }
    let model = Arc::new(LoadedModel::load(&key)?);
    loaded.insert(key, Arc::downgrade(&model));
    Ok(model)
}

/// How many distinct models are in memory now.
pub fn loaded_model_count() -> usize {
    LOADED.lock().values().filter(|weak| weak.strong_count() > 0).count()
}
