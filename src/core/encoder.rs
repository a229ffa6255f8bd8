//! The encoder: texts in, sentence vectors out. Batches are sorted by
//! token count and padded to their longest member, as sentence-transformers
//! pads, so a text's vector does not depend on its neighbours.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use parking_lot::Mutex;

use candle_core::Tensor;

use super::batcher::{forward_each, Batcher};
use super::counters::{CounterSnapshot, Counters};
use super::cpu::parallel_map;
use super::error::{Error, Result};
use super::pooling::{normalize, pool, PoolingMode};
use super::precision::Precision;
use super::engine::Engine;
use super::registry::{get_or_load, LoadedEngine, LoadedModel};
use super::st_config::AfterPooling;
use super::tokenize::{TextTokenizer, Tokens};

/// At most this many token positions (batch × longest text) go through one
/// forward pass, whatever the batch size: bounds the working memory.
const MAX_BATCH_TOKENS: usize = 8192;

/// Per-encoder choices; `None` means "as the model directory says".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncoderOptions {
    /// Truncate inputs at this many tokens instead of the model's
    /// `max_seq_length`.
    pub max_seq_length: Option<usize>,
    /// Force normalization on or off instead of following `modules.json`.
    pub normalize: Option<bool>,
    /// Texts per forward pass.
    pub batch_size: usize,
    /// Which implementation runs the transformer.
    pub engine: Engine,
    /// The number format of the fast engine's linear layers (see
    /// `core::precision`); the reference engine runs `Fp32` only.
    pub precision: Precision,
    /// Coalesce single texts encoded concurrently by several threads into
    /// one forward pass (see `batcher.rs`); up to `batch_size` texts a pass.
    pub micro_batching: bool,
    /// Keep only the first this many components of every vector
    /// (sentence-transformers' `truncate_dim`, for Matryoshka models).
    pub truncate_dim: Option<usize>,
    /// The prompt for calls that name none, instead of the model's
    /// `default_prompt_name`.
    pub default_prompt: Option<Prompt>,
    /// The most threads this encoder's forward passes keep busy (at most
    /// the process's thread budget, `cpu::config`); `None`: the budget.
    pub threads: Option<usize>,
}

impl Default for EncoderOptions {
    fn default() -> Self {
        Self {
            max_seq_length: None,
            normalize: None,
            batch_size: 32,
            engine: Engine::Fast,
            precision: Precision::Fp32,
            micro_batching: true,
            truncate_dim: None,
            default_prompt: None,
            threads: None,
        }
    }
}

/// A prompt put in front of every text, as sentence-transformers'
/// `encode(prompt_name=...)` / `encode(prompt=...)` do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// One of the model's `prompts` (`config_sentence_transformers.json`).
    Named(String),
    /// This text itself; the empty text means no prompt.
    Literal(String),
}

/// What happened to one text of a call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextInfo {
    /// Tokens that went through the model, special tokens and prompt included.
    pub tokens: usize,
    /// Whether tokens beyond `max_seq_length` were dropped.
    pub truncated: bool,
}

/// A sentence-transformers model ready to encode. Cheap to share between
/// threads (`&self` everywhere); the weights are shared with every other
/// encoder opened on the same directory.
pub struct Encoder {
    model: Arc<LoadedModel>,
    tokenizer: Arc<TextTokenizer>,
    /// The model's Normalize module runs (before `truncate_dim`).
    module_normalize: bool,
    /// Vectors are normalized once more after `truncate_dim`
    /// (sentence-transformers' `normalize_embeddings=True`).
    final_normalize: bool,
    /// Vector length after `truncate_dim`.
    dimension: usize,
    batch_size: usize,
    batcher: Option<Batcher>,
    /// The prompt of calls that name none ("" for none).
    default_prompt: String,
    /// Pooling lengths of the prompts seen so far (only with
    /// `include_prompt: false`, where pooling needs them).
    prompt_lengths: Mutex<HashMap<String, usize>>,
    /// At most this many threads busy in a pass (see `cpu::config`).
    threads: Option<usize>,
    /// The linear layers' number format.
    precision: Precision,
    /// Texts, tokens, passes and time so far.
    counters: Counters,
}

impl Encoder {
    pub fn open(dir: impl AsRef<Path>, options: EncoderOptions) -> Result<Self> {
        if options.threads == Some(0) {
            return Err(Error::InvalidArgument("threads must be at least 1".into()));
        }
        if options.batch_size == 0 {
            return Err(Error::InvalidArgument("batch size must be at least 1".into()));
        }
        let model = get_or_load(dir.as_ref(), options.engine, options.precision)?;
        let tokenizer = match options.max_seq_length {
            None => model.tokenizer.clone(),
            Some(n) if n == model.tokenizer.max_len() => model.tokenizer.clone(),
            Some(n) if n < 2 || n > model.position_limit => {
                return Err(Error::InvalidArgument(format!(
                    "max sequence length {n} is outside 2..={} for this model",
                    model.position_limit
                )))
            }
            Some(n) => {
                let mut t = (*model.tokenizer).clone();
                t.set_max_len(n);
                Arc::new(t)
            }
        };
        let output = model.output_dimension;
        let dimension = match options.truncate_dim {
            None => output,
            Some(d) if (1..=output).contains(&d) => d,
            Some(d) => {
                return Err(Error::InvalidArgument(format!(
                    "truncate dimension {d} is outside 1..={output}, this model's dimension"
                )))
            }
        };
        let default_prompt = match &options.default_prompt {
            None => model.st.default_prompt_name.as_ref().and_then(|n| model.st.prompts.get(n)).cloned(),
            Some(Prompt::Named(name)) => Some(named_prompt(&model.st.prompts, name)?.to_string()),
            Some(Prompt::Literal(text)) => Some(text.clone()),
        };
        Ok(Self {
            module_normalize: model.st.normalize && options.normalize != Some(false),
            final_normalize: options.normalize == Some(true) && (dimension < output || !model.st.normalize_is_last()),
            dimension,
            batch_size: options.batch_size,
            threads: options.threads,
            precision: options.precision,
            batcher: options.micro_batching.then(|| Batcher::new(options.batch_size, MAX_BATCH_TOKENS)),
            default_prompt: default_prompt.unwrap_or_default(),
            prompt_lengths: Mutex::default(),
            counters: Counters::default(),
            model,
            tokenizer,
        })
    }

    /// The architecture, as `config.json`'s `model_type` names it (`bert`, `mpnet`, ...).
    pub fn architecture(&self) -> &'static str {
        self.model.architecture
    }

    /// The pooling modes of `1_Pooling/config.json`, in order.
    pub fn pooling_modes(&self) -> &[PoolingMode] {
        &self.model.st.pooling
    }

    /// What this encoder has done so far (texts, tokens, truncated texts, passes, time).
    pub fn counters(&self) -> CounterSnapshot {
        self.counters.snapshot()
    }

    /// The number format of the model's linear layers.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Length of every vector this encoder returns.
    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// The model's prompts by name (`config_sentence_transformers.json`).
    pub fn prompts(&self) -> &BTreeMap<String, String> {
        &self.model.st.prompts
    }

    /// The model's prompt of a name, or an error listing the names.
    pub fn prompt(&self, name: &str) -> Result<&str> {
        named_prompt(&self.model.st.prompts, name)
    }

    /// The prompt calls that name none get ("" for none).
    pub fn default_prompt(&self) -> &str {
        &self.default_prompt
    }

    /// How many tokens `text` makes with `prompt` (`None`: the default
    /// prompt) in front, special tokens included, before truncation.
    pub fn count_tokens(&self, text: &str, prompt: Option<&str>) -> Result<usize> {
        self.tokenizer.count(&with_prompt(prompt.unwrap_or(&self.default_prompt), text))
    }

    /// Inputs are truncated to this many tokens, special tokens included.
    pub fn max_seq_length(&self) -> usize {
        self.tokenizer.max_len()
    }

    /// With micro-batching on: how many forward passes single-text calls
    /// have shared so far, and how many texts those passes held.
    pub fn micro_batching_stats(&self) -> Option<(u64, u64)> {
        self.batcher.as_ref().map(Batcher::stats)
    }

    /// Whether vectors are scaled to unit length.
    pub fn normalizes(&self) -> bool {
        self.final_normalize
            || (self.module_normalize && self.model.st.normalize_is_last() && self.dimension == self.model.output_dimension)
    }

    pub fn encode(&self, text: &str) -> Result<Vec<f32>> {
        let mut out = vec![0f32; self.dimension()];
        self.encode_into(&[text], &mut out)?;
        Ok(out)
    }

    pub fn encode_batch<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Result<Vec<Vec<f32>>> {
        let dim = self.dimension();
        let mut flat = vec![0f32; texts.len() * dim];
        self.encode_into(texts, &mut flat)?;
        Ok(flat.chunks_exact(dim).map(<[f32]>::to_vec).collect())
    }

    /// Encodes `texts` into `out`, row `i` at `out[i * dim..(i + 1) * dim]`,
    /// with the default prompt.
    pub fn encode_into<S: AsRef<str> + Sync>(&self, texts: &[S], out: &mut [f32]) -> Result<()> {
        self.encode_into_with(texts, None, out, None)
    }

    /// Encodes `texts` with `prompt` in front of each (`None`: the default
    /// prompt; `Some("")`: none) into `out`, row `i` at
    /// `out[i * dim..(i + 1) * dim]`; with `info`, also what happened to
    /// each text.
    pub fn encode_into_with<S: AsRef<str> + Sync>(
        &self, texts: &[S], prompt: Option<&str>, out: &mut [f32], info: Option<&mut [TextInfo]>,
    ) -> Result<()> {
        let dim = self.dimension();
        if out.len() != texts.len() * dim {
            return Err(Error::InvalidArgument(format!(
                "output buffer holds {} floats, {} texts need {}",
                out.len(),
                texts.len(),
                texts.len() * dim
            )));
        }
        if info.as_ref().is_some_and(|info| info.len() != texts.len()) {
            return Err(Error::InvalidArgument(format!("info buffer does not hold {} texts", texts.len())));
        }
        let prompt = prompt.unwrap_or(&self.default_prompt);
        let skip = self.pooling_skip(prompt)?;
        let note = |info: Option<&mut [TextInfo]>, i: usize, t: &Tokens| {
            if let Some(info) = info {
                info[i] = TextInfo { tokens: t.len(), truncated: t.truncated };
            }
        };
        if let ([text], Some(_)) = (texts, &self.batcher) {
            let tokens = self.tokenize(prompt, text.as_ref(), skip)?;
            note(info, 0, &tokens);
            return self.encode_tokens_one(tokens, out);
        }
        // Tokenized on the threads the forward passes use.
        let tokens = parallel_map(texts, self.threads, |t| self.tokenize(prompt, t.as_ref(), skip))?
            .into_iter()
            .enumerate()
            .map(|(i, t)| t.map_err(Error::at(i)))
            .collect::<Result<Vec<Tokens>>>()?;
        if let Some(info) = info {
            tokens.iter().enumerate().for_each(|(i, t)| note(Some(&mut *info), i, t));
        }
        // Longest first, so each batch pads as little as possible.
        let mut order: Vec<usize> = (0..tokens.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(tokens[i].len()));
        // All or nothing: a text that fails fails the call, named by its
        // index (a failed pass is run again text by text to find it).
        let forward = |batch: &[&Tokens]| -> Result<Vec<Vec<f32>>> {
            Ok(self.forward(batch, false)?.chunks_exact(dim).map(<[f32]>::to_vec).collect())
        };
        for chunk in batches(&order, |i| tokens[i].len(), self.batch_size) {
            let batch: Vec<&Tokens> = chunk.iter().map(|&i| &tokens[i]).collect();
            for (result, &i) in forward_each(&batch, &forward).into_iter().zip(chunk) {
                out[i * dim..(i + 1) * dim].copy_from_slice(&result.map_err(Error::at(i))?);
            }
        }
        Ok(())
    }

    /// How many characters of a huge text to hand to [`Self::encode_start_into`]
    /// first (the prompt not counted).
    pub fn first_cut_chars(&self) -> usize {
        self.tokenizer.first_cut_chars()
    }

    /// Encodes one text given by its beginning `start`, the whole text when
    /// `complete`: a caller holding a huge text (a JVM string of hundreds of
    /// MB) passes [`Self::first_cut_chars`] characters and, when this
    /// returns `Ok(false)` (the beginning does not settle the kept tokens),
    /// four times more, and so on. Otherwise as [`Self::encode_into_with`].
    pub fn encode_start_into(
        &self, start: &str, complete: bool, prompt: Option<&str>, out: &mut [f32], info: Option<&mut TextInfo>,
    ) -> Result<bool> {
        if out.len() != self.dimension() {
            return Err(Error::InvalidArgument(format!("output buffer holds {} floats, not {}", out.len(), self.dimension())));
        }
        let prompt = prompt.unwrap_or(&self.default_prompt);
        let skip = self.pooling_skip(prompt)?;
        let Some(mut tokens) = self.tokenizer.encode_start(&with_prompt(prompt, start), complete)? else {
            return Ok(false);
        };
        self.check_tokens(&tokens)?;
        tokens.pooling_skip = skip;
        if let Some(info) = info {
            *info = TextInfo { tokens: tokens.len(), truncated: tokens.truncated };
        }
        self.encode_tokens_one(tokens, out)?;
        Ok(true)
    }

    /// One tokenized text into `out`: through the micro-batching queue when
    /// it is on, else a pass of its own.
    fn encode_tokens_one(&self, tokens: Tokens, out: &mut [f32]) -> Result<()> {
        let dim = self.dimension();
        let vector = match &self.batcher {
            Some(batcher) => batcher.encode(tokens, |batch| {
                let flat = self.forward(batch, batcher.crowded())?;
                Ok(flat.chunks_exact(dim).map(<[f32]>::to_vec).collect())
            })?,
            None => self.forward(&[&tokens], false)?,
        };
        out.copy_from_slice(&vector);
        Ok(())
    }

    /// A text's tokens with `prompt` in front, as sentence-transformers 6
    /// makes them: prompt and text concatenated, not stripped (lower-casing
    /// is the tokenizer's, see `tokenize.rs`); `skip` leading tokens left
    /// out of pooling.
    fn tokenize(&self, prompt: &str, text: &str, skip: usize) -> Result<Tokens> {
        let mut tokens = self.tokenizer.encode(&with_prompt(prompt, text))?;
        self.check_tokens(&tokens)?;
        tokens.pooling_skip = skip;
        Ok(tokens)
    }

    /// A text's tokens are ones the model has rows for: a `tokenizer.json`
    /// with more tokens (or token types) than `config.json`'s embeddings is
    /// this text's error, as in transformers (an index error), never an
    /// out-of-bounds read in the engine. Checked per text, so the texts
    /// that only use the model's rows still encode.
    fn check_tokens(&self, tokens: &Tokens) -> Result<()> {
        // An empty bag is a static embedding's zero vector, not an error.
        if !matches!(self.model.engine, LoadedEngine::Static(_)) {
            check_not_empty(tokens)?;
        }
        let config = &self.model.config;
        if let Some(&id) = tokens.ids.iter().find(|&&id| id as usize >= config.vocab_size) {
            return Err(Error::Tokenization(format!(
                "the tokenizer (tokenizer.json) gave token id {id}, but the model (config.json's vocab_size) has embeddings for ids 0..{} only: the tokenizer does not belong to this model",
                config.vocab_size
            )));
        }
        if let Some(&ty) = tokens.type_ids.iter().find(|&&ty| ty as usize >= config.type_vocab_size.max(1)) {
            return Err(Error::Tokenization(format!(
                "the tokenizer (tokenizer.json) gave token type {ty}, but the model (config.json's type_vocab_size) has {} token types",
                config.type_vocab_size.max(1)
            )));
        }
        Ok(())
    }

    /// How many leading tokens of a text with `prompt` pooling leaves out:
    /// the prompt's length with `include_prompt: false`, else none.
    fn pooling_skip(&self, prompt: &str) -> Result<usize> {
        if self.model.st.include_prompt || prompt.is_empty() {
            return Ok(0);
        }
        if let Some(&n) = self.prompt_lengths.lock().get(prompt) {
            return Ok(n);
        }
        let n = self.tokenizer.prompt_length(prompt)?;
        let mut lengths = self.prompt_lengths.lock();
        // Bounded: a caller passing ever new literal prompts must not grow it forever.
        if lengths.len() >= 256 {
            lengths.clear();
        }
        lengths.insert(prompt.to_string(), n);
        Ok(n)
    }

    /// One forward pass over texts already tokenized; returns the vectors
    /// row after row.
    fn forward(&self, batch: &[&Tokens], others_waiting: bool) -> Result<Vec<f32>> {
        let started = std::time::Instant::now();
        let out = self.forward_uncounted(batch, others_waiting)?;
        self.counters.count_pass(batch, started.elapsed());
        Ok(out)
    }

    fn forward_uncounted(&self, batch: &[&Tokens], others_waiting: bool) -> Result<Vec<f32>> {
        let (h, dim) = (self.model.config.hidden_size, self.dimension());
        let mut out = vec![0f32; batch.len() * dim];
        let mut full = vec![0f32; self.model.pooled_dimension];
        let mut next = Vec::new();
        // sentence-transformers' order: the modules (Pooling, then Dense
        // and Normalize as listed), then truncate_dim, then
        // normalize_embeddings.
        // `pooled`: fills `full` with the text's pooled vector.
        let mut emit = |i: usize, pooled: &dyn Fn(&mut [f32])| {
            full.resize(self.model.pooled_dimension, 0.0);
            pooled(&mut full[..]);
            let mut dense = self.model.dense.iter();
            for step in &self.model.st.after_pooling {
                match step {
                    AfterPooling::Normalize if self.module_normalize => normalize(&mut full),
                    AfterPooling::Normalize => {}
                    AfterPooling::Dense(_) => {
                        let Some(module) = dense.next() else { continue };
                        next.resize(module.out_features(), 0.0);
                        module.apply(&full, &mut next);
                        std::mem::swap(&mut full, &mut next);
                    }
                }
            }
            let v = &mut out[i * dim..(i + 1) * dim];
            v.copy_from_slice(&full[..dim]);
            if self.final_normalize {
                normalize(v);
            }
        };
        match &self.model.engine {
            LoadedEngine::Fast(model) => {
                let hidden = model.forward(batch, others_waiting, self.threads)?;
                let mut start = 0;
                for (i, t) in batch.iter().enumerate() {
                    let tokens = &hidden[start * h..(start + t.len()) * h];
                    emit(i, &|full| pool(tokens, h, &self.model.st.pooling, t.pooling_skip, full));
                    start += t.len();
                }
            }
            LoadedEngine::Reference(weights) => {
                let (hidden, seq) = self.reference_forward(weights, batch)?;
                for (i, t) in batch.iter().enumerate() {
                    let tokens = &hidden[i * seq * h..(i * seq + t.len()) * h];
                    emit(i, &|full| pool(tokens, h, &self.model.st.pooling, t.pooling_skip, full));
                }
            }
            LoadedEngine::Static(table) => {
                for (i, t) in batch.iter().enumerate() {
                    emit(i, &|full| table.mean(&t.ids, full));
                }
            }
        }
        Ok(out)
    }

    /// The reference engine: pad to the longest text, mask the padding.
    /// Returns the hidden states (batch × seq × hidden) and seq.
    fn reference_forward(&self, weights: &crate::core::arch::ReferenceModel, batch: &[&Tokens]) -> Result<(Vec<f32>, usize)> {
        let device = &candle_core::Device::Cpu;
        let seq = batch.iter().map(|t| t.len()).max().unwrap_or(0);
        let pad = self.model.config.pad_token_id;
        let mut ids = Vec::with_capacity(batch.len() * seq);
        let mut type_ids = Vec::with_capacity(batch.len() * seq);
        let mut mask = Vec::with_capacity(batch.len() * seq);
        for t in batch {
            let fill = seq - t.len();
            ids.extend(t.ids.iter().copied().chain(std::iter::repeat(pad).take(fill)));
            type_ids.extend(t.type_ids.iter().copied().chain(std::iter::repeat(0).take(fill)));
            mask.extend(std::iter::repeat(1f32).take(t.len()).chain(std::iter::repeat(0f32).take(fill)));
        }
        let shape = (batch.len(), seq);
        let ids = Tensor::from_vec(ids, shape, device)?;
        let type_ids = Tensor::from_vec(type_ids, shape, device)?;
        let mask = Tensor::from_vec(mask, shape, device)?;
        let padded = batch.iter().any(|t| t.len() != seq);
        let hidden = weights.forward(&ids, &type_ids, padded.then_some(&mask))?;
        Ok((hidden.flatten_all()?.to_vec1()?, seq))
    }
}

/// A text without tokens cannot be pooled: it is this text's error.
fn check_not_empty(tokens: &Tokens) -> Result<()> {
    if tokens.ids.is_empty() {
        return Err(Error::Tokenization(
            "the text has no tokens (an empty text, and a tokenizer that adds no special tokens)".into(),
        ));
    }
    Ok(())
}

/// `prompt` and `text` as one string, as sentence-transformers prepends.
fn with_prompt<'a>(prompt: &str, text: &'a str) -> std::borrow::Cow<'a, str> {
    if prompt.is_empty() {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned([prompt, text].concat())
    }
}

fn named_prompt<'a>(prompts: &'a BTreeMap<String, String>, name: &str) -> Result<&'a str> {
    prompts.get(name).map(String::as_str).ok_or_else(|| {
        let known: Vec<&str> = prompts.keys().map(String::as_str).collect();
        Error::InvalidArgument(format!("unknown prompt name '{name}'; the model's prompts are: {known:?}"))
    })
}

/// Splits `order` (sorted longest first) into batches of at most
/// `batch_size` texts and at most [`MAX_BATCH_TOKENS`] padded positions.
fn batches<'a>(order: &'a [usize], len: impl Fn(usize) -> usize + 'a, batch_size: usize) -> impl Iterator<Item = &'a [usize]> + 'a {
    let mut rest = order;
    std::iter::from_fn(move || {
        let &first = rest.first()?;
        let by_tokens = (MAX_BATCH_TOKENS / len(first).max(1)).max(1);
        let (batch, tail) = rest.split_at(batch_size.min(by_tokens).min(rest.len()));
        rest = tail;
        Some(batch)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_count_and_token_budget() {
        let lens = [300usize, 256, 40, 30, 20, 10, 3];
        let order: Vec<usize> = (0..lens.len()).collect();
        let got: Vec<Vec<usize>> = batches(&order, |i| lens[i], 4).map(<[usize]>::to_vec).collect();
        // 8192 / 300 = 27 texts fit the token budget, so the count limit of 4 rules.
        assert_eq!(got, vec![vec![0, 1, 2, 3], vec![4, 5, 6]]);
        let got: Vec<usize> = batches(&order, |_| 5000, 32).map(<[usize]>::len).collect();
        assert_eq!(got, vec![1; 7], "one 5000-token text per batch");
        assert_eq!(batches(&[], |_| 1, 8).count(), 0);
    }
}
