//! sentence-transformers' `SparseEncoder` for SPLADE models: a masked-LM
//! Transformer (`transformer_task: "fill-mask"`, or the older
//! `MLMTransformer` module) whose vocabulary-wide logits `SpladePooling`
//! pools into one weight per vocabulary entry, then `max_active_dims`.
//! `mlm_head.rs` holds the heads, `splade.rs` the pooling (fused with the
//! head on the fast engine). The encoder body is the architecture's own
//! (`crate::core::arch`), on either engine.

mod mlm_head;
mod splade;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use serde::Deserialize;

use super::arch::{self, Built, ReferenceModel};
use super::cpu::{packing, parallel_map, PackedModel};
use super::engine::Engine;
use super::error::{Error, Result};
use super::model::{self, ConfigFile, TransformerConfig};
use super::precision::Precision;
use super::st_config::{read_json, read_json_or_default, TransformerInput};
use super::tokenize::{TextTokenizer, Tokens};
use mlm_head::MlmHead;
use splade::{sparsify, FastSplade, SpladePooling, Strategy};

/// At most this many token positions go through one forward pass.
const MAX_BATCH_TOKENS: usize = 8192;

/// Per-encoder choices; `None` means "as the model directory says".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SparseOptions {
    /// Truncate inputs at this many tokens instead of the model's `max_seq_length`.
    pub max_seq_length: Option<usize>,
    /// Keep only this many largest values per vector (sentence-transformers'
    /// `max_active_dims`); `None`: the model's (`config_sentence_transformers.json`), else all.
    pub max_active_dims: Option<usize>,
    /// Texts per forward pass.
    pub batch_size: usize,
    pub engine: Engine,
    /// The fast engine's linear layers' number format (the reference engine: fp32 only).
    pub precision: Precision,
    /// The most threads a pass keeps busy; `None`: the process's budget.
    pub threads: Option<usize>,
}

impl Default for SparseOptions {
    fn default() -> Self {
        Self { max_seq_length: None, max_active_dims: None, batch_size: 32, engine: Engine::Fast, precision: Precision::Fp32, threads: None }
    }
}

/// A sparse vector: the non-zero dimensions, ascending, and their values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SparseVector {
    pub indices: Vec<u32>,
    pub values: Vec<f32>,
}

enum Model {
    Fast(PackedModel),
    Reference(ReferenceModel, MlmHead),
}

/// `config_sentence_transformers.json`: what changes a SparseEncoder's vectors.
#[derive(Deserialize, Default)]
struct ModelConfig {
    #[serde(default)]
    prompts: BTreeMap<String, String>,
    default_prompt_name: Option<String>,
    max_active_dims: Option<usize>,
}

#[derive(Deserialize)]
struct ModuleEntry {
    #[serde(default)]
    path: String,
    #[serde(rename = "type")]
    kind: String,
}

const SUPPORTED_MODULES: &str = "Transformer (fill-mask), MLMTransformer, SpladePooling";

/// A SPLADE model ready to encode; `&self` everywhere, shareable between threads.
pub struct SparseEncoder {
    model: Model,
    config: TransformerConfig,
    pooling: SpladePooling,
    tokenizer: TextTokenizer,
    max_active_dims: Option<usize>,
    prompts: BTreeMap<String, String>,
    default_prompt: String,
    batch_size: usize,
    threads: Option<usize>,
}

impl SparseEncoder {
    pub fn open(dir: impl AsRef<Path>, options: SparseOptions) -> Result<Self> {
        let dir = dir.as_ref();
        if options.batch_size == 0 || options.threads == Some(0) || options.max_active_dims == Some(0) {
            return Err(Error::InvalidArgument("batch size, threads and max_active_dims must be at least 1".into()));
        }
        if options.engine == Engine::Reference && options.precision != Precision::Fp32 {
            return Err(Error::InvalidArgument(format!("the reference engine runs in fp32 only; {} was asked for", options.precision)));
        }
        if !dir.is_dir() {
            return Err(Error::model(dir, "model directory does not exist"));
        }
        let (transformer_dir, pooling_path) = read_modules(dir)?;
        let input = TransformerInput::read(&transformer_dir, "fill-mask")?;
        let st: ModelConfig = read_json_or_default(&dir.join("config_sentence_transformers.json"))?;

        let config_path = transformer_dir.join("config.json");
        let file = ConfigFile::read(&config_path)?;
        let pooling = SpladePooling::read(&pooling_path)?;
        let arch::Opened { architecture, config, position_limit, built } = arch::open(&transformer_dir, options.engine, options.precision)?;
        let (vb, _) = model::open_weights(&transformer_dir, &Device::Cpu)?;
        let head = MlmHead::load(&file, &config, architecture, &vb)?;
        let model = match built {
            Built::Fast(body) => {
                let packing = packing(options.precision)?;
                let fast = FastSplade::new(body.0, &head, pooling, packing).map_err(|e| Error::model(&config_path, e.to_string()))?;
                Model::Fast(PackedModel(Box::new(fast)))
            }
            Built::Reference(body) => Model::Reference(body, head),
        };
        super::heap::release_free_memory();

        let limit = input.max_length.resolve(Some(config.max_position_embeddings)).unwrap_or(position_limit).min(position_limit);
        let max_len = match options.max_seq_length {
            None => limit,
            Some(n) if (2..=position_limit).contains(&n) => n,
            Some(n) => return Err(Error::InvalidArgument(format!("max sequence length {n} is outside 2..={position_limit} for this model"))),
        };
        let tokenizer = TextTokenizer::load(&transformer_dir.join("tokenizer.json"), &input.tokenizer, input.do_lower_case, max_len)?;
        let default_prompt = st.default_prompt_name.as_ref().and_then(|n| st.prompts.get(n)).cloned().unwrap_or_default();
        Ok(Self {
            model,
            config,
            pooling,
            tokenizer,
            max_active_dims: options.max_active_dims.or(st.max_active_dims.filter(|&k| k > 0)),
            prompts: st.prompts,
            default_prompt,
            batch_size: options.batch_size,
            threads: options.threads,
        })
    }

    /// The vocabulary size: every vector's dimension.
    pub fn dimension(&self) -> usize {
        self.config.vocab_size
    }

    /// The vocabulary entry a dimension stands for.
    pub fn token(&self, index: usize) -> Option<String> {
        u32::try_from(index).ok().and_then(|id| self.tokenizer.id_to_token(id))
    }

    pub fn max_seq_length(&self) -> usize {
        self.tokenizer.max_len()
    }

    /// Values kept per vector (`None`: every non-zero one).
    pub fn max_active_dims(&self) -> Option<usize> {
        self.max_active_dims
    }

    /// The model's prompts by name (`config_sentence_transformers.json`).
    pub fn prompts(&self) -> &BTreeMap<String, String> {
        &self.prompts
    }

    pub fn encode(&self, text: &str) -> Result<SparseVector> {
        Ok(self.encode_batch(&[text], None)?.remove(0))
    }

    /// Encodes `texts` with `prompt` in front of each (`None`: the model's
    /// default prompt), all or nothing: a failing text fails the call,
    /// named by its index.
    pub fn encode_batch<S: AsRef<str> + Sync>(&self, texts: &[S], prompt: Option<&str>) -> Result<Vec<SparseVector>> {
        let prompt = prompt.unwrap_or(&self.default_prompt);
        let tokens = parallel_map(texts, self.threads, |t| self.tokenize(prompt, t.as_ref()))?
            .into_iter()
            .enumerate()
            .map(|(i, t)| t.map_err(Error::at(i)))
            .collect::<Result<Vec<Tokens>>>()?;
        let mut order: Vec<usize> = (0..tokens.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(tokens[i].len()));
        let mut out = vec![SparseVector::default(); texts.len()];
        let v = self.dimension();
        let mut rest = &order[..];
        while let Some(&first) = rest.first() {
            let take = self.batch_size.min((MAX_BATCH_TOKENS / tokens[first].len().max(1)).max(1)).min(rest.len());
            let (chunk, tail) = rest.split_at(take);
            rest = tail;
            let batch: Vec<&Tokens> = chunk.iter().map(|&i| &tokens[i]).collect();
            let pooled = self.forward(&batch).map_err(Error::at(chunk[0]))?;
            for (row, &i) in pooled.chunks_exact(v).zip(chunk) {
                let (indices, values) = sparsify(row, self.max_active_dims);
                out[i] = SparseVector { indices, values };
            }
        }
        Ok(out)
    }

    fn tokenize(&self, prompt: &str, text: &str) -> Result<Tokens> {
        let tokens = if prompt.is_empty() { self.tokenizer.encode(text)? } else { self.tokenizer.encode(&[prompt, text].concat())? };
        if tokens.ids.is_empty() {
            return Err(Error::Tokenization("the text has no tokens (an empty text, and a tokenizer that adds no special tokens)".into()));
        }
        if let Some(&id) = tokens.ids.iter().find(|&&id| id as usize >= self.config.vocab_size) {
            return Err(Error::Tokenization(format!(
                "the tokenizer gave token id {id}, but the model has embeddings for ids 0..{} only: the tokenizer does not belong to this model",
                self.config.vocab_size
            )));
        }
        if let Some(&ty) = tokens.type_ids.iter().find(|&&ty| ty as usize >= self.config.type_vocab_size.max(1)) {
            return Err(Error::Tokenization(format!("the tokenizer gave token type {ty}, but the model has {} token types", self.config.type_vocab_size.max(1))));
        }
        Ok(tokens)
    }

    /// The pooled vectors (vocabulary wide) of one batch, row after row.
    fn forward(&self, batch: &[&Tokens]) -> Result<Vec<f32>> {
        match &self.model {
            Model::Fast(model) => model.forward(batch, false, self.threads),
            Model::Reference(body, head) => self.reference_forward(body, head, batch),
        }
    }

    /// The reference: padded batch, the head's logits in candle ops, then
    /// sentence-transformers' padded SpladePooling (masked logits, relu,
    /// log1p, max or sum over the sequence).
    fn reference_forward(&self, body: &ReferenceModel, head: &MlmHead, batch: &[&Tokens]) -> Result<Vec<f32>> {
        let device = &Device::Cpu;
        let seq = batch.iter().map(|t| t.len()).max().unwrap_or(0);
        let pad = self.config.pad_token_id;
        let (mut ids, mut types, mut mask) = (Vec::new(), Vec::new(), Vec::new());
        for t in batch {
            let fill = seq - t.len();
            ids.extend(t.ids.iter().copied().chain(std::iter::repeat(pad).take(fill)));
            types.extend(t.type_ids.iter().copied().chain(std::iter::repeat(0).take(fill)));
            mask.extend(std::iter::repeat(1f32).take(t.len()).chain(std::iter::repeat(0f32).take(fill)));
        }
        let shape = (batch.len(), seq);
        let mask = Tensor::from_vec(mask, shape, device)?;
        let padded = batch.iter().any(|t| t.len() != seq);
        let hidden = body.forward(&Tensor::from_vec(ids, shape, device)?, &Tensor::from_vec(types, shape, device)?, padded.then_some(&mask))?;
        let logits = head.logits(&hidden)?.broadcast_mul(&mask.unsqueeze(2)?)?.to_vec3::<f32>()?;
        // sentence-transformers' padded path: masked logits (0 at padding), transformed, pooled over the sequence.
        let v = self.dimension();
        let max = self.pooling.strategy == Strategy::Max;
        let mut pooled = vec![if max { f32::NEG_INFINITY } else { 0.0 }; batch.len() * v];
        for (text, acc) in logits.iter().zip(pooled.chunks_exact_mut(v)) {
            for row in text {
                for (a, &l) in acc.iter_mut().zip(row) {
                    let y = self.pooling.transform(l);
                    *a = if max { a.max(y) } else { *a + y };
                }
            }
        }
        Ok(pooled)
    }
}

/// The input module's folder and the SpladePooling config's path.
fn read_modules(dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let path = dir.join("modules.json");
    if !path.is_file() {
        return Err(Error::model(&path, "a SparseEncoder directory needs modules.json (Transformer with fill-mask, SpladePooling)"));
    }
    let modules: Vec<ModuleEntry> = read_json(&path)?;
    let (mut input, mut pooling) = (None, None);
    for m in &modules {
        match m.kind.rsplit('.').next().unwrap_or_default() {
            "Transformer" | "MLMTransformer" if input.is_none() => input = Some(dir.join(&m.path)),
            "SpladePooling" if input.is_some() => pooling = Some(dir.join(&m.path).join("config.json")),
            other => {
                return Err(Error::Unsupported { path: path.clone(), what: "SparseEncoder module", value: other.to_string(), supported: SUPPORTED_MODULES })
            }
        }
    }
    match (input, pooling) {
        (Some(input), Some(pooling)) => Ok((input, pooling)),
        _ => Err(Error::model(&path, "a SPLADE SparseEncoder lists a fill-mask Transformer, then SpladePooling")),
    }
}
