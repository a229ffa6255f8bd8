//! Tokenization as sentence-transformers does it: the model's own
//! `tokenizer.json`, truncated at `max_seq_length` (not the tokenizer file's
//! own limit) and never padded by the tokenizer (batches are padded to
//! their longest member by the encoder). Truncation is done here, the way
//! `tokenizers` does it (ordinary tokens cut to `max_len` minus the special
//! tokens, then the post-processor adds those), so we also learn how many
//! tokens were dropped.

use std::path::Path;

use serde::Deserialize;
use tokenizers::pre_tokenizers::metaspace::{Metaspace, PrependScheme};
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::whitespace::WhitespaceSplit;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::{PostProcessor, Tokenizer, TruncationDirection};

use super::error::{Error, Result};
use super::st_config::read_json;

/// Texts longer than `max_len × CHARS_PER_TOKEN` characters are cut before
/// tokenizing (a 10 MB string must not cost a 10 MB tokenization) ...
const CHARS_PER_TOKEN: usize = 16;
/// ... but only when the cut text still yields this many tokens beyond the
/// kept ones, so that the kept tokens are exactly those of the whole text;
/// otherwise the cut is made 4× longer and tried again.
const STABLE_MARGIN: usize = 16;

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
        let mut tokenizer = Self { inner: as_transformers_builds_it(inner, path)?, max_len };
        tokenizer.inner.with_padding(None);
        tokenizer
            .inner
            .with_truncation(None)
            .map_err(|e| Error::model(path, format!("cannot switch truncation off: {e}")))?;
        tokenizer.set_max_len(max_len);
        Ok(tokenizer)
    }

    /// Truncate at `max_len` tokens, special tokens included.
    pub fn set_max_len(&mut self, max_len: usize) {
        self.max_len = max_len;
    }

    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// The token ids of `text`, truncated at `max_len` tokens: the same ids
    /// as tokenizing the whole text, however long it is.
    pub fn encode(&self, text: &str) -> Result<Tokens> {
        let mut chars = (self.max_len * CHARS_PER_TOKEN).max(4096);
        loop {
            let Some(prefix) = cut(text, chars) else {
                return self.encode_prefix(text).map(|(tokens, _)| tokens);
            };
            let (tokens, dropped) = self.encode_prefix(prefix)?;
            if dropped >= STABLE_MARGIN {
                return Ok(tokens);
            }
            chars = chars.saturating_mul(4);
        }
    }

    /// Tokenizes `text` and returns the kept tokens and how many ordinary
    /// (non-special) tokens truncation dropped.
    fn encode_prefix(&self, text: &str) -> Result<(Tokens, usize)> {
        let failed = |e: tokenizers::Error| Error::Tokenization(e.to_string());
        let mut enc = self.inner.encode(text, false).map_err(failed)?;
        let specials = self.inner.get_post_processor().map_or(0, |p| p.added_tokens(false));
        let keep = self.max_len.saturating_sub(specials);
        let dropped = enc.len().saturating_sub(keep);
        enc.truncate(keep, 0, TruncationDirection::Right);
        let enc = self.inner.post_process(enc, None, true).map_err(failed)?;
        let tokens = Tokens { ids: enc.get_ids().to_vec(), type_ids: enc.get_type_ids().to_vec() };
        Ok((tokens, dropped))
    }
}

/// `tokenizer_config.json`, beside `tokenizer.json`: the tokenizer class
/// transformers builds from the file.
#[derive(Deserialize, Default)]
struct TokenizerConfig {
    tokenizer_class: Option<String>,
    add_prefix_space: Option<bool>,
}

/// transformers 5 (what sentence-transformers 6 runs on) no longer takes
/// an XLM-RoBERTa `tokenizer.json` as it is: it rebuilds the tokenizer with
/// a `WhitespaceSplit` before the file's `Metaspace`, so a run of spaces,
/// tabs or newlines inside a text counts as one space (as SentencePiece
/// itself does) instead of becoming extra "▁" tokens. The seed's
/// paraphrase-multilingual models use that tokenizer; we do the same.
fn as_transformers_builds_it(mut tokenizer: Tokenizer, path: &Path) -> Result<Tokenizer> {
    let config_path = path.with_file_name("tokenizer_config.json");
    let config: TokenizerConfig =
        if config_path.is_file() { read_json(&config_path)? } else { TokenizerConfig::default() };
    let class = config.tokenizer_class.as_deref().unwrap_or_default();
    if !matches!(class, "XLMRobertaTokenizer" | "XLMRobertaTokenizerFast") {
        return Ok(tokenizer);
    }
    let Some(PreTokenizerWrapper::Metaspace(file_metaspace)) = tokenizer.get_pre_tokenizer() else {
        return Ok(tokenizer);
    };
    let scheme = match config.add_prefix_space {
        Some(true) => PrependScheme::Always,
        Some(false) => PrependScheme::Never,
        None => file_metaspace.get_prepend_scheme(),
    };
    let metaspace = Metaspace::new(file_metaspace.get_replacement(), scheme, true);
    tokenizer.with_pre_tokenizer(Some(PreTokenizerWrapper::Sequence(Sequence::new(vec![
        PreTokenizerWrapper::WhitespaceSplit(WhitespaceSplit),
        PreTokenizerWrapper::Metaspace(metaspace),
    ]))));
    Ok(tokenizer)
}

/// The first `chars` characters of `text`, moved back to the last
/// whitespace in their second half so no word is split; `None` when the
/// text is no longer than that.
fn cut(text: &str, chars: usize) -> Option<&str> {
    let (end, _) = text.char_indices().nth(chars)?;
    let prefix = &text[..end];
    let word_start = prefix.rfind(char::is_whitespace).filter(|&i| i >= end / 2);
    Some(word_start.map_or(prefix, |i| &prefix[..i]))
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn cut_keeps_whole_words_and_short_texts() {
        assert_eq!(cut("short", 10), None);
        assert_eq!(cut("aaaa bbbb cccc", 12), Some("aaaa bbbb"));
        assert_eq!(cut("xxxxxxxxxxxx", 5), Some("xxxxx"));
        assert_eq!(cut("今天天气很好我们", 3), Some("今天天"));
    }
}
