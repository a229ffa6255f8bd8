//! The process-wide cache of loaded models. Opening the same directory
//! twice shares one copy of the weights; the weights are freed when the
//! last encoder using them is dropped (the cache only holds `Weak`s).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

use once_cell::sync::Lazy;
use parking_lot::Mutex;

use super::arch::{self, Built, ReferenceModel};
use super::cpu::PackedModel;
use super::error::{Error, Result};
use super::engine::Engine;
use super::model::TransformerConfig;
use super::precision::Precision;
use super::dense_module::DenseModule;
use super::st_config::{AfterPooling, SentenceTransformerConfig};
use super::static_embedding::StaticEmbedding;
use super::tokenize::TextTokenizer;

pub(crate) enum LoadedEngine {
    Fast(PackedModel),
    Reference(ReferenceModel),
    /// A StaticEmbedding module: no transformer (either engine).
    Static(StaticEmbedding),
}

/// Everything read from one model directory, immutable once loaded.
pub(crate) struct LoadedModel {
    /// The architecture's `model_type` (`bert`, `mpnet`, ...).
    pub architecture: &'static str,
    pub st: SentenceTransformerConfig,
    pub config: TransformerConfig,
    pub engine: LoadedEngine,
    /// Truncates at the model's own `max_seq_length`.
    pub tokenizer: Arc<TextTokenizer>,
    /// The longest input, in tokens, the position embeddings can take.
    pub position_limit: usize,
    /// The Dense modules, in the order `st.after_pooling` lists them.
    pub dense: Vec<DenseModule>,
    /// Length of the pooled vector (hidden size × pooling modes).
    pub pooled_dimension: usize,
    /// Length of the vector the modules output (the last Dense module's
    /// `out_features`, else the pooled length).
    pub output_dimension: usize,
}

impl LoadedModel {
    fn load(dir: &Path, engine: Engine, precision: Precision) -> Result<Self> {
        if engine == Engine::Reference && precision != Precision::Fp32 {
            return Err(Error::InvalidArgument(format!("the reference engine runs in fp32 only; {precision} was asked for")));
        }
        let st = SentenceTransformerConfig::read(dir)?;
        if st.static_embedding {
            return Self::load_static(st);
        }
        let arch::Opened { architecture, config, position_limit, built } = arch::open(&st.transformer_dir, engine, precision)?;
        // Where sentence-transformers would truncate later than the position
        // embeddings reach (it then fails on long texts), truncate there.
        let max_len = st.max_length.resolve(Some(config.max_position_embeddings)).unwrap_or(position_limit);
        let max_len = max_len.min(position_limit);
        let tokenizer = TextTokenizer::load(
            &st.transformer_dir.join("tokenizer.json"),
            &st.tokenizer,
            st.do_lower_case,
            max_len,
        )?;
        let pooled_dimension = config.hidden_size * st.pooling.len();
        let (dense, output_dimension) = load_dense(&st, pooled_dimension)?;
        let engine = match built {
            Built::Fast(model) => LoadedEngine::Fast(model),
            Built::Reference(model) => LoadedEngine::Reference(model),
        };
        Ok(Self { architecture, st, config, engine, tokenizer: Arc::new(tokenizer), position_limit, dense, pooled_dimension, output_dimension })
    }

    /// A StaticEmbedding directory: the module's table and tokenizer, then
    /// the modules after it. `config` describes the table (its rows are the
    /// vocabulary, its width the hidden size; no token types, no positions).
    fn load_static(st: SentenceTransformerConfig) -> Result<Self> {
        let table = StaticEmbedding::load(&st.transformer_dir)?;
        let tokenizer = TextTokenizer::load_static(&st.transformer_dir.join("tokenizer.json"))?;
        let config = TransformerConfig {
            vocab_size: table.rows(),
            hidden_size: table.dimension(),
            num_hidden_layers: 0,
            num_attention_heads: 0,
            intermediate_size: 0,
            hidden_act: String::new(),
            max_position_embeddings: usize::MAX,
            type_vocab_size: 1,
            layer_norm_eps: 0.0,
            pad_token_id: 0,
            position_embedding_type: String::new(),
            relative_attention_num_buckets: 0,
        };
        let pooled_dimension = table.dimension();
        let (dense, output_dimension) = load_dense(&st, pooled_dimension)?;
        let engine = LoadedEngine::Static(table);
        Ok(Self { architecture: "static", st, config, engine, tokenizer: Arc::new(tokenizer), position_limit: usize::MAX, dense, pooled_dimension, output_dimension })
    }
}

/// The Dense modules `st.after_pooling` lists, fed `input` floats, and the
/// length of what the last of them outputs.
fn load_dense(st: &SentenceTransformerConfig, input: usize) -> Result<(Vec<DenseModule>, usize)> {
    let mut dense = Vec::new();
    let mut output_dimension = input;
    for step in &st.after_pooling {
        if let AfterPooling::Dense(cfg) = step {
            let module = DenseModule::load(cfg, output_dimension)?;
            output_dimension = module.out_features();
            dense.push(module);
        }
    }
    Ok((dense, output_dimension))
}

/// A directory's models differ by engine and precision (different weights).
type Key = (PathBuf, Engine, Precision);

/// One model directory's place in the registry: a lock that serialises
/// loading it (so it is loaded once however many threads open it), and the
/// loaded model, held weakly (the encoders own it).
#[derive(Default)]
struct Slot {
    loading: Mutex<()>,
    model: Mutex<Weak<LoadedModel>>,
}

impl Slot {
    fn get(&self) -> Option<Arc<LoadedModel>> {
        self.model.lock().upgrade()
    }
}

/// The registry's own lock is held only to find or add a slot, never
/// during a load: opening one model never waits for another's load, nor
/// does [`loaded_model_count`].
static LOADED: Lazy<Mutex<HashMap<Key, Arc<Slot>>>> = Lazy::new(Default::default);

/// Returns the loaded model of `dir`, loading it unless some encoder
/// already holds it. Concurrent opens of one directory wait for a single
/// load; opens of different directories load in parallel.
pub(crate) fn get_or_load(dir: &Path, engine: Engine, precision: Precision) -> Result<Arc<LoadedModel>> {
    let path = dir
        .canonicalize()
        .map_err(|e| Error::model(dir, format!("model directory does not exist or cannot be read: {e}")))?;
    let slot = {
        let mut slots = LOADED.lock();
        // Forget directories nobody holds or is loading.
        slots.retain(|_, slot| Arc::strong_count(slot) > 1 || slot.get().is_some());
        slots.entry((path.clone(), engine, precision)).or_default().clone()
    };
    if let Some(model) = slot.get() {
        return Ok(model);
    }
    let _loading = slot.loading.lock();
    if let Some(model) = slot.get() {
        return Ok(model); // loaded by the thread this one waited for
    }
    let model = LoadedModel::load(&path, engine, precision);
    super::heap::release_free_memory(); // what the load freed, whether it succeeded or not
    let model = Arc::new(model?);
    *slot.model.lock() = Arc::downgrade(&model);
    Ok(model)
}

/// How many distinct models are in memory now.
pub fn loaded_model_count() -> usize {
    LOADED.lock().values().filter(|slot| slot.get().is_some()).count()
}
