//! The CrossEncoder: (query, document) pairs in, one score per label out,
//! as sentence-transformers 6's `CrossEncoder(dir).predict(pairs)` gives
//! them. `config.rs` reads the directory (both saved formats), `pairs.rs`
//! tokenizes a pair (the pair template, longest-first truncation),
//! `head.rs` is each architecture's sequence-classification head, and
//! `activation.rs` the `activation_fn` applied to the logits. The
//! transformer itself is the architecture's own (`crate::core::arch`), on
//! either engine; pairs are batched longest first and, on the fast engine,
//! packed without padding, so a pair's score does not depend on its
//! neighbours.

mod activation;
mod config;
mod head;
mod pairs;

use std::collections::BTreeMap;
use std::path::Path;

use candle_core::Tensor;

use super::arch::{self, Built, ReferenceModel};
use super::batcher::{forward_each, Batcher};
use super::cpu::{parallel_map, PackedModel};
use super::encoder::Prompt;
use super::engine::Engine;
use super::error::{Error, Result};
use super::model::TransformerConfig;
use super::precision::Precision;
use super::tokenize::{TextTokenizer, Tokens};
pub use activation::ScoreActivation;
use config::CrossConfig;
use head::Head;

/// At most this many token positions go through one forward pass.
const MAX_BATCH_TOKENS: usize = 8192;

/// Per-CrossEncoder choices; `None` means "as the model directory says".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrossEncoderOptions {
    /// Truncate pairs at this many tokens instead of the model's `max_length`.
    pub max_length: Option<usize>,
    /// Pairs per forward pass.
    pub batch_size: usize,
    pub engine: Engine,
    /// The number format of the fast engine's linear layers.
    pub precision: Precision,
    /// Coalesce single pairs scored concurrently by several threads into one pass.
    pub micro_batching: bool,
    /// The prompt for calls that name none, instead of the model's `default_prompt_name`.
    pub default_prompt: Option<Prompt>,
    /// The most threads a forward pass keeps busy (`None`: the thread budget).
    pub threads: Option<usize>,
    /// The activation instead of the saved one (`Identity`: the raw logits).
    pub activation: Option<ScoreActivation>,
}

impl Default for CrossEncoderOptions {
    fn default() -> Self {
        Self {
            max_length: None,
            batch_size: 32,
            engine: Engine::Fast,
            precision: Precision::Fp32,
            micro_batching: true,
            default_prompt: None,
            threads: None,
            activation: None,
        }
    }
}

enum Transformer {
    Fast(PackedModel),
    Reference(ReferenceModel),
}

/// A CrossEncoder ready to score pairs; `&self` everywhere, safe to share
/// between threads.
pub struct CrossEncoder {
    transformer: Transformer,
    config: TransformerConfig,
    head: Head,
    tokenizer: TextTokenizer,
    activation: ScoreActivation,
    prompts: BTreeMap<String, String>,
    default_prompt: String,
    batch_size: usize,
    batcher: Option<Batcher>,
    threads: Option<usize>,
    precision: Precision,
}

impl CrossEncoder {
    pub fn open(dir: impl AsRef<Path>, options: CrossEncoderOptions) -> Result<Self> {
        let dir = dir.as_ref();
        if options.threads == Some(0) {
            return Err(Error::InvalidArgument("threads must be at least 1".into()));
        }
        if options.batch_size == 0 {
            return Err(Error::InvalidArgument("batch size must be at least 1".into()));
        }
        if options.engine == Engine::Reference && options.precision != Precision::Fp32 {
            return Err(Error::InvalidArgument(format!("the reference engine runs in fp32 only; {} was asked for", options.precision)));
        }
        let cfg = CrossConfig::read(dir)?;
        let arch::Opened { config, position_limit, built, .. } = arch::open(&cfg.transformer_dir, options.engine, options.precision)?;
        let head = Head::load(&cfg.transformer_dir, config.hidden_size, cfg.num_labels)?;
        let model_max = cfg.max_length.resolve(Some(config.max_position_embeddings)).unwrap_or(position_limit).min(position_limit);
        let max_len = match options.max_length {
            None => model_max,
            Some(n) if (2..=position_limit).contains(&n) => n,
            Some(n) => return Err(Error::InvalidArgument(format!("max length {n} is outside 2..={position_limit} for this model"))),
        };
        let tokenizer = TextTokenizer::load(&cfg.transformer_dir.join("tokenizer.json"), &cfg.tokenizer, cfg.do_lower_case, max_len)?;
        let default_prompt = match &options.default_prompt {
            None => cfg.default_prompt_name.as_ref().and_then(|n| cfg.prompts.get(n)).cloned().unwrap_or_default(),
            Some(Prompt::Named(name)) => named_prompt(&cfg.prompts, name)?.to_string(),
            Some(Prompt::Literal(text)) => text.clone(),
        };
        let transformer = match built {
            Built::Fast(model) => Transformer::Fast(model),
            Built::Reference(model) => Transformer::Reference(model),
        };
        crate::core::heap::release_free_memory();
        Ok(Self {
            transformer,
            config,
            activation: options.activation.or(cfg.activation).unwrap_or(ScoreActivation::default_for(cfg.num_labels)),
            head,
            tokenizer,
            prompts: cfg.prompts,
            default_prompt,
            batch_size: options.batch_size,
            batcher: options.micro_batching.then(|| Batcher::new(options.batch_size, MAX_BATCH_TOKENS)),
            threads: options.threads,
            precision: options.precision,
        })
    }

    /// Scores per pair: the model's label count.
    pub fn num_labels(&self) -> usize {
        self.head.labels()
    }

    /// Pairs are truncated to this many tokens, special tokens included.
    pub fn max_length(&self) -> usize {
        self.tokenizer.max_len()
    }

    /// The activation applied to the logits.
    pub fn activation(&self) -> ScoreActivation {
        self.activation
    }

    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The model's prompts by name (`config_sentence_transformers.json`).
    pub fn prompts(&self) -> &BTreeMap<String, String> {
        &self.prompts
    }

    /// The model's prompt of a name, or an error listing the names.
    pub fn prompt(&self, name: &str) -> Result<&str> {
        named_prompt(&self.prompts, name)
    }

    /// The prompt calls that name none get ("" for none).
    pub fn default_prompt(&self) -> &str {
        &self.default_prompt
    }

    /// With micro-batching on: passes single-pair calls have shared, and the pairs they held.
    pub fn micro_batching_stats(&self) -> Option<(u64, u64)> {
        self.batcher.as_ref().map(Batcher::stats)
    }

    /// The scores of each pair (`num_labels` per pair, after the
    /// activation), with the default prompt.
    pub fn predict<A: AsRef<str> + Sync, B: AsRef<str> + Sync>(&self, pairs: &[(A, B)]) -> Result<Vec<Vec<f32>>> {
        let labels = self.num_labels();
        let mut flat = vec![0f32; pairs.len() * labels];
        self.predict_into(pairs, None, &mut flat)?;
        Ok(flat.chunks_exact(labels).map(<[f32]>::to_vec).collect())
    }

    /// `sentence-transformers`' `rank`: the documents' indices and
    /// scores against `query`, best first (stable for equal scores), the
    /// first `top_k` (all for `None`). One-label models only.
    pub fn rank<S: AsRef<str> + Sync>(&self, query: &str, documents: &[S], top_k: Option<usize>) -> Result<Vec<(usize, f32)>> {
        if self.num_labels() != 1 {
            return Err(Error::InvalidArgument(format!(
                "rank needs a model with one label; this one has {} (score the pairs and pick a label instead)",
                self.num_labels()
            )));
        }
        let pairs: Vec<(&str, &str)> = documents.iter().map(|d| (query, d.as_ref())).collect();
        let mut scores = vec![0f32; pairs.len()];
        self.predict_into(&pairs, None, &mut scores)?;
        let mut ranked: Vec<(usize, f32)> = scores.into_iter().enumerate().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        ranked.truncate(top_k.unwrap_or(usize::MAX));
        Ok(ranked)
    }

    /// Scores `pairs` with `prompt` in front of each first text (`None`:
    /// the default prompt; `Some("")`: none) into `out`, pair `i`'s labels
    /// at `out[i * labels..(i + 1) * labels]`. All or nothing: a pair that
    /// fails fails the call, named by its index.
    pub fn predict_into<A: AsRef<str> + Sync, B: AsRef<str> + Sync>(&self, pairs: &[(A, B)], prompt: Option<&str>, out: &mut [f32]) -> Result<()> {
        let labels = self.num_labels();
        if out.len() != pairs.len() * labels {
            return Err(Error::InvalidArgument(format!(
                "output buffer holds {} floats, {} pairs need {}",
                out.len(),
                pairs.len(),
                pairs.len() * labels
            )));
        }
        let prompt = prompt.unwrap_or(&self.default_prompt);
        if let ([(a, b)], Some(batcher)) = (pairs, &self.batcher) {
            let tokens = self.tokenize(prompt, a.as_ref(), b.as_ref())?;
            let scores = batcher.encode(tokens, |batch| self.forward(batch, batcher.crowded()))?;
            out.copy_from_slice(&scores);
            return Ok(());
        }
        let tokens = parallel_map(pairs, self.threads, |(a, b)| self.tokenize(prompt, a.as_ref(), b.as_ref()))?
            .into_iter()
            .enumerate()
            .map(|(i, t)| t.map_err(Error::at(i)))
            .collect::<Result<Vec<Tokens>>>()?;
        let mut order: Vec<usize> = (0..tokens.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(tokens[i].len()));
        let forward = |batch: &[&Tokens]| self.forward(batch, false);
        let mut rest = &order[..];
        while let Some(&first) = rest.first() {
            let by_tokens = (MAX_BATCH_TOKENS / tokens[first].len().max(1)).max(1);
            let (chunk, tail) = rest.split_at(self.batch_size.min(by_tokens).min(rest.len()));
            rest = tail;
            let batch: Vec<&Tokens> = chunk.iter().map(|&i| &tokens[i]).collect();
            for (result, &i) in forward_each(&batch, &forward).into_iter().zip(chunk) {
                out[i * labels..(i + 1) * labels].copy_from_slice(&result.map_err(Error::at(i))?);
            }
        }
        Ok(())
    }

    /// The token ids that go through the model for a pair (`prompt`:
    /// `None` is the default prompt), special tokens included, truncated.
    pub fn pair_token_ids(&self, first: &str, second: &str, prompt: Option<&str>) -> Result<Vec<u32>> {
        Ok(self.tokenize(prompt.unwrap_or(&self.default_prompt), first, second)?.ids)
    }

    /// A pair's tokens, the prompt in front of the first text (as
    /// sentence-transformers 6 prepends it), checked against the model's tables.
    fn tokenize(&self, prompt: &str, first: &str, second: &str) -> Result<Tokens> {
        let first = if prompt.is_empty() { std::borrow::Cow::Borrowed(first) } else { std::borrow::Cow::Owned([prompt, first].concat()) };
        let mut tokens = pairs::encode_pair(&self.tokenizer, &first, second)?;
        if self.config.type_vocab_size <= 1 {
            // Models without token types (transformers' RoBERTa-family tokenizers send none).
            tokens.type_ids.iter_mut().for_each(|t| *t = 0);
        }
        let config = &self.config;
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
        Ok(tokens)
    }

    /// One forward pass: each pair's scores (labels, after the activation).
    fn forward(&self, batch: &[&Tokens], others_waiting: bool) -> Result<Vec<Vec<f32>>> {
        let h = self.config.hidden_size;
        let labels = self.num_labels();
        let score = |tokens: &[f32]| {
            let mut s = vec![0f32; labels];
            self.head.logits(tokens, &mut s);
            self.activation.apply(&mut s);
            s
        };
        match &self.transformer {
            Transformer::Fast(model) => {
                let hidden = model.forward(batch, others_waiting, self.threads)?;
                let mut start = 0;
                Ok(batch
                    .iter()
                    .map(|t| {
                        let s = score(&hidden[start * h..(start + t.len()) * h]);
                        start += t.len();
                        s
                    })
                    .collect())
            }
            Transformer::Reference(model) => {
                let (hidden, seq) = reference_forward(model, self.config.pad_token_id, batch)?;
                Ok(batch.iter().enumerate().map(|(i, t)| score(&hidden[i * seq * h..(i * seq + t.len()) * h])).collect())
            }
        }
    }
}

/// The reference engine: pad to the longest pair, mask the padding.
/// Returns the hidden states (batch × seq × hidden) and seq.
fn reference_forward(model: &ReferenceModel, pad: u32, batch: &[&Tokens]) -> Result<(Vec<f32>, usize)> {
    let device = &candle_core::Device::Cpu;
    let seq = batch.iter().map(|t| t.len()).max().unwrap_or(0);
    let (mut ids, mut type_ids, mut mask) = (Vec::new(), Vec::new(), Vec::new());
    for t in batch {
        let fill = seq - t.len();
        ids.extend(t.ids.iter().copied().chain(std::iter::repeat(pad).take(fill)));
        type_ids.extend(t.type_ids.iter().copied().chain(std::iter::repeat(0).take(fill)));
        mask.extend(std::iter::repeat(1f32).take(t.len()).chain(std::iter::repeat(0f32).take(fill)));
    }
    let shape = (batch.len(), seq);
    let padded = batch.iter().any(|t| t.len() != seq);
    let mask = Tensor::from_vec(mask, shape, device)?;
    let hidden = model.forward(&Tensor::from_vec(ids, shape, device)?, &Tensor::from_vec(type_ids, shape, device)?, padded.then_some(&mask))?;
    Ok((hidden.flatten_all()?.to_vec1()?, seq))
}

fn named_prompt<'a>(prompts: &'a BTreeMap<String, String>, name: &str) -> Result<&'a str> {
    prompts.get(name).map(String::as_str).ok_or_else(|| {
        let known: Vec<&str> = prompts.keys().map(String::as_str).collect();
        Error::InvalidArgument(format!("unknown prompt name '{name}'; the model's prompts are: {known:?}"))
    })
}
