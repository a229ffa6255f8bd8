//! Tokenization as sentence-transformers does it: the model's own
//! `tokenizer.json`, truncated at `max_seq_length` (not the tokenizer file's
//! own limit) and never padded by the tokenizer (batches are padded to
//! their longest member by the encoder).

use std::path::Path;

use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use super::error::{Error, Result};

/// The token ids of one text, special tokens included.
#[derive(Debug, Clone)]
pub(crate) struct Tokens {
    pub ids: Vec<u32>,
    pub type_ids: Vec<u32>,
}

impl Tokens {
    pub fn len(&self) -> usize {
        self.ids.len()
    }
}

#[derive(Clone)]
pub(crate) struct TextTokenizer {
    inner: Tokenizer,
    max_len: usize,
}

impl TextTokenizer {
    pub fn load(path: &Path, max_len: usize) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::model(path, "file not found"));
        }
        let inner = Tokenizer::from_file(path)
            .map_err(|e| Error::model(path, format!("invalid tokenizer: {e}")))?;
        let mut tokenizer = Self { inner, max_len };
        tokenizer.set_max_len(max_len)?;
        Ok(tokenizer)
    }

    /// Truncate at `max_len` tokens, special tokens included.
    pub fn set_max_len(&mut self, max_len: usize) -> Result<()> {
        self.max_len = max_len;
        self.inner.with_padding(None);
        self.inner
            .with_truncation(Some(TruncationParams {
                max_length: max_len,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
                direction: TruncationDirection::Right,
            }))
            .map_err(|e| Error::InvalidArgument(format!("cannot truncate at {max_len} tokens: {e}")))?;
        Ok(())
    }

    pub fn max_len(&self) -> usize {
        self.max_len
    }

    pub fn encode(&self, text: &str) -> Result<Tokens> {
        let enc = self
            .inner
            .encode(text, true)
            .map_err(|e| Error::Tokenization(e.to_string()))?;
        Ok(Tokens {
            ids: enc.get_ids().to_vec(),
            type_ids: enc.get_type_ids().to_vec(),
        })
    }
}
