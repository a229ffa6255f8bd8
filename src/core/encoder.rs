//! The encoder: texts in, sentence vectors out. Batches are sorted by
//! token count and padded to their longest member, as sentence-transformers
//! pads, so a text's vector does not depend on its neighbours.

use std::path::Path;
use std::sync::Arc;

use candle_core::Tensor;

use super::batcher::Batcher;
use super::cpu::parallel_map;
use super::error::{Error, Result};
use super::model::reference;
use super::pooling::{normalize, pool};
use super::registry::{get_or_load, Engine, LoadedEngine, LoadedModel};
use super::text::prepare;
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
    /// Coalesce single texts encoded concurrently by several threads into
    /// one forward pass (see `batcher.rs`); up to `batch_size` texts a pass.
    pub micro_batching: bool,
    /// The most threads this encoder's forward passes keep busy (at most
    /// the process's thread budget, `cpu::config`); `None`: the budget.
    pub threads: Option<usize>,
}

impl Default for EncoderOptions {
    fn default() -> Self {
        Self { max_seq_length: None, normalize: None, batch_size: 32, engine: Engine::Fast, micro_batching: true, threads: None }
    }
}

/// A sentence-transformers model ready to encode. Cheap to share between
/// threads (`&self` everywhere); the weights are shared with every other
/// encoder opened on the same directory.
pub struct Encoder {
    model: Arc<LoadedModel>,
    tokenizer: Arc<TextTokenizer>,
    normalize: bool,
    batch_size: usize,
    batcher: Option<Batcher>,
    threads: Option<usize>,
}

impl Encoder {
    pub fn open(dir: impl AsRef<Path>, options: EncoderOptions) -> Result<Self> {
        if options.threads == Some(0) {
            return Err(Error::InvalidArgument("threads must be at least 1".into()));
        }
        if options.batch_size == 0 {
            return Err(Error::InvalidArgument("batch size must be at least 1".into()));
        }
        let model = get_or_load(dir.as_ref(), options.engine)?;
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
        Ok(Self {
            normalize: options.normalize.unwrap_or(model.st.normalize),
            batch_size: options.batch_size,
            threads: options.threads,
            batcher: options.micro_batching.then(|| Batcher::new(options.batch_size, MAX_BATCH_TOKENS)),
            model,
            tokenizer,
        })
    }

    /// Length of every vector this encoder returns.
    pub fn dimension(&self) -> usize {
        self.model.config.hidden_size * self.model.st.pooling.len()
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
        self.normalize
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

    /// Encodes `texts` into `out`, row `i` at `out[i * dim..(i + 1) * dim]`.
    pub fn encode_into<S: AsRef<str> + Sync>(&self, texts: &[S], out: &mut [f32]) -> Result<()> {
        let dim = self.dimension();
        if out.len() != texts.len() * dim {
            return Err(Error::InvalidArgument(format!(
                "output buffer holds {} floats, {} texts need {}",
                out.len(),
                texts.len(),
                texts.len() * dim
            )));
        }
        if let ([text], Some(batcher)) = (texts, &self.batcher) {
            let tokens = self.tokenize(text.as_ref())?;
            let vector = batcher.encode(tokens, |batch| {
                let flat = self.forward(batch, batcher.crowded())?;
                Ok(flat.chunks_exact(dim).map(<[f32]>::to_vec).collect())
            })?;
            out.copy_from_slice(&vector);
            return Ok(());
        }
        // Tokenized on the threads the forward passes use.
        let tokens = parallel_map(texts, self.threads, |t| self.tokenize(t.as_ref())).into_iter().collect::<Result<Vec<Tokens>>>()?;
        // Longest first, so each batch pads as little as possible.
        let mut order: Vec<usize> = (0..tokens.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(tokens[i].len()));
        for chunk in batches(&order, |i| tokens[i].len(), self.batch_size) {
            let batch: Vec<&Tokens> = chunk.iter().map(|&i| &tokens[i]).collect();
            let vectors = self.forward(&batch, false)?;
            for (row, &i) in vectors.chunks_exact(dim).zip(chunk) {
                out[i * dim..(i + 1) * dim].copy_from_slice(row);
            }
        }
        Ok(())
    }

    /// A text's tokens, prepared (stripped, lower-cased) as
    /// sentence-transformers prepares it.
    fn tokenize(&self, text: &str) -> Result<Tokens> {
        self.tokenizer.encode(&prepare(text, self.model.st.do_lower_case))
    }

    /// One forward pass over texts already tokenized; returns the vectors
    /// row after row.
    fn forward(&self, batch: &[&Tokens], others_waiting: bool) -> Result<Vec<f32>> {
        let (h, dim) = (self.model.config.hidden_size, self.dimension());
        let mut out = vec![0f32; batch.len() * dim];
        let mut emit = |i: usize, tokens: &[f32]| {
            let v = &mut out[i * dim..(i + 1) * dim];
            pool(tokens, h, &self.model.st.pooling, v);
            if self.normalize {
                normalize(v);
            }
        };
        match &self.model.engine {
            LoadedEngine::Fast(model) => {
                let hidden = model.forward(batch, others_waiting, self.threads);
                let mut start = 0;
                for (i, t) in batch.iter().enumerate() {
                    emit(i, &hidden[start * h..(start + t.len()) * h]);
                    start += t.len();
                }
            }
            LoadedEngine::Reference(weights) => {
                let (hidden, seq) = self.reference_forward(weights, batch)?;
                for (i, t) in batch.iter().enumerate() {
                    emit(i, &hidden[i * seq * h..(i * seq + t.len()) * h]);
                }
            }
        }
        Ok(out)
    }

    /// The reference engine: pad to the longest text, mask the padding.
    /// Returns the hidden states (batch × seq × hidden) and seq.
    fn reference_forward(&self, weights: &crate::core::model::TransformerWeights, batch: &[&Tokens]) -> Result<(Vec<f32>, usize)> {
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
        let hidden = reference::forward(weights, &ids, &type_ids, padded.then_some(&mask))?;
        Ok((hidden.flatten_all()?.to_vec1()?, seq))
    }
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
