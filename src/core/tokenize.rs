//! Tokenization as sentence-transformers 6 does it: the model's own
//! `tokenizer.json` as transformers 5 builds it (see
//! `as_transformers_builds_it`), the text as given (6.x does not strip it),
//! a Lowercase normalizer in front when the module says `do_lower_case`,
//! truncated at `max_seq_length` (not the tokenizer file's own limit) and
//! never padded by the tokenizer (the engines need no padding). Truncation
//! is done here, the way `tokenizers` does it (ordinary tokens cut to
//! `max_len` minus the special tokens, then the post-processor adds those),
//! so we also learn whether tokens were dropped.

use std::path::Path;

use tokenizers::normalizers::{Lowercase, NormalizerWrapper, Sequence as NormalizerSequence};
use tokenizers::pre_tokenizers::metaspace::{Metaspace, PrependScheme};
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::whitespace::WhitespaceSplit;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::{PostProcessor, Tokenizer, TruncationDirection};

use super::error::{Error, Result};
use super::st_config::TokenizerConfig;

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
    /// Whether truncation dropped tokens of the text.
    pub truncated: bool,
    /// Leading tokens (a prompt) that pooling leaves out.
    pub pooling_skip: usize,
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
    /// Ids of the special tokens (transformers' `all_special_ids`).
    special_ids: Vec<u32>,
    /// The post-processor's special tokens are added (not for a static
    /// embedding, see [`Self::load_static`]).
    add_special_tokens: bool,
    /// Which end truncation cuts (the right end, but for a static
    /// embedding's tokenizer that says otherwise).
    direction: TruncationDirection,
}

impl TextTokenizer {
    /// Loads `tokenizer.json` as transformers builds it from `config`
    /// (`tokenizer_config.json`), lower-casing when `lower_case`.
    pub fn load(path: &Path, config: &TokenizerConfig, lower_case: bool, max_len: usize) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::model(path, "file not found"));
        }
        let inner = Tokenizer::from_file(path)
            .map_err(|e| Error::model(path, format!("invalid tokenizer: {e}")))?;
        let mut inner = as_transformers_builds_it(inner, config);
        if lower_case {
            lower_case_first(&mut inner)
                .map_err(|e| Error::model(path, format!("cannot add do_lower_case's Lowercase: {e}")))?;
        }
        let mut special_ids: Vec<u32> =
            inner.get_added_tokens_decoder().into_iter().filter(|(_, t)| t.special).map(|(id, _)| id).collect();
        special_ids.sort_unstable();
        let mut tokenizer = Self { inner, max_len, special_ids, add_special_tokens: true, direction: TruncationDirection::Right };
        tokenizer.inner.with_padding(None);
        tokenizer
            .inner
            .with_truncation(None)
            .map_err(|e| Error::model(path, format!("cannot switch truncation off: {e}")))?;
        tokenizer.set_max_len(max_len);
        Ok(tokenizer)
    }

    /// A static embedding's tokenizer, as sentence-transformers'
    /// `StaticEmbedding` uses it: `tokenizer.json` as it is (no
    /// transformers rebuild, no lower-casing added), no special tokens, and
    /// the file's own truncation (length and end), if any: the module has
    /// no `max_seq_length`.
    pub fn load_static(path: &Path) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::model(path, "file not found"));
        }
        let mut inner = Tokenizer::from_file(path).map_err(|e| Error::model(path, format!("invalid tokenizer: {e}")))?;
        let (max_len, direction) = match inner.get_truncation() {
            Some(t) => (t.max_length.max(1), t.direction),
            None => (usize::MAX, TruncationDirection::Right),
        };
        inner.with_padding(None);
        inner.with_truncation(None).map_err(|e| Error::model(path, format!("cannot switch truncation off: {e}")))?;
        Ok(Self { inner, max_len, special_ids: Vec::new(), add_special_tokens: false, direction })
    }

    /// Truncate at `max_len` tokens, special tokens included.
    pub fn set_max_len(&mut self, max_len: usize) {
        self.max_len = max_len;
    }

    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// The `tokenizers` tokenizer as built here (no truncation, no
    /// padding), for pair encoding (`cross/pairs.rs`).
    pub(crate) fn backend(&self) -> &Tokenizer {
        &self.inner
    }

    /// The vocabulary entry of a token id.
    pub fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// The token ids of `text`, truncated at `max_len` tokens: the same ids
    /// as tokenizing the whole text, however long it is.
    pub fn encode(&self, text: &str) -> Result<Tokens> {
        self.encode_start(text, true)?
            .ok_or_else(|| Error::Internal("a whole text did not settle its tokens".into()))
    }

    /// How many characters of a text the first try reads: a caller holding
    /// a huge text hands over this much (see [`Self::encode_start`]).
    pub fn first_cut_chars(&self) -> usize {
        self.max_len.saturating_mul(CHARS_PER_TOKEN).max(4096)
    }

    /// The tokens of a text of which `start` is the whole (`complete`) or
    /// only the beginning. For a beginning, `None` means it does not settle
    /// which tokens are kept: ask again with a longer one.
    pub fn encode_start(&self, start: &str, complete: bool) -> Result<Option<Tokens>> {
        if self.direction == TruncationDirection::Left {
            // Kept tokens are the text's last ones: only the whole text settles them.
            return if complete { self.encode_prefix(start).map(|(tokens, _)| Some(tokens)) } else { Ok(None) };
        }
        let mut chars = self.first_cut_chars();
        loop {
            let (prefix, last_try) = match cut(start, chars) {
                Some(prefix) => (prefix, false),
                None if complete => return self.encode_prefix(start).map(|(tokens, _)| Some(tokens)),
                // Shorter than the cut, yet not the whole text: its last
                // word may be split, so it ends at a word boundary too.
                None => (cut_at_word(start), true),
            };
            let (tokens, dropped) = self.encode_prefix(prefix)?;
            if dropped >= STABLE_MARGIN {
                return Ok(Some(tokens));
            }
            if last_try {
                return Ok(None);
            }
            chars = chars.saturating_mul(4);
        }
    }

    /// How many tokens `text` has, special tokens included, before
    /// truncation (the whole text is tokenized).
    pub fn count(&self, text: &str) -> Result<usize> {
        let failed = |e: tokenizers::Error| Error::Tokenization(e.to_string());
        let enc = self.inner.encode(text, false).map_err(failed)?;
        Ok(enc.len() + self.specials())
    }

    /// The length sentence-transformers gives a prompt for pooling
    /// (`Transformer._get_prompt_length`): the prompt's own tokens,
    /// truncated, less a trailing special token.
    pub fn prompt_length(&self, prompt: &str) -> Result<usize> {
        let tokens = self.encode(prompt)?;
        let trailing_special = tokens.ids.last().is_some_and(|id| self.special_ids.binary_search(id).is_ok());
        Ok(tokens.len() - usize::from(trailing_special))
    }

    /// How many special tokens the post-processor adds to one text.
    fn specials(&self) -> usize {
        if !self.add_special_tokens {
            return 0;
        }
        self.inner.get_post_processor().map_or(0, |p| p.added_tokens(false))
    }

    /// Tokenizes `text` and returns the kept tokens and how many ordinary
    /// (non-special) tokens truncation dropped.
    fn encode_prefix(&self, text: &str) -> Result<(Tokens, usize)> {
        let failed = |e: tokenizers::Error| Error::Tokenization(e.to_string());
        let mut enc = self.inner.encode(text, false).map_err(failed)?;
        let keep = self.max_len.saturating_sub(self.specials());
        let dropped = enc.len().saturating_sub(keep);
        enc.truncate(keep, 0, self.direction);
        let enc = self.inner.post_process(enc, None, self.add_special_tokens).map_err(failed)?;
        let tokens = Tokens {
            ids: enc.get_ids().to_vec(),
            type_ids: enc.get_type_ids().to_vec(),
            truncated: dropped > 0,
            pooling_skip: 0,
        };
        Ok((tokens, dropped))
    }
}

/// transformers 5 (what sentence-transformers 6 runs on) no longer takes
/// an XLM-RoBERTa `tokenizer.json` as it is: it rebuilds the tokenizer with
/// a `WhitespaceSplit` before the file's `Metaspace`, so a run of spaces,
/// tabs or newlines inside a text counts as one space (as SentencePiece
/// itself does) instead of becoming extra "▁" tokens. The seed's
/// paraphrase-multilingual models use that tokenizer; we do the same.
fn as_transformers_builds_it(mut tokenizer: Tokenizer, config: &TokenizerConfig) -> Tokenizer {
    let class = config.tokenizer_class.as_deref().unwrap_or_default();
    if !matches!(class, "XLMRobertaTokenizer" | "XLMRobertaTokenizerFast") {
        return tokenizer;
    }
    let Some(PreTokenizerWrapper::Metaspace(file_metaspace)) = tokenizer.get_pre_tokenizer() else {
        return tokenizer;
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
    tokenizer
}

/// `do_lower_case`, as sentence-transformers 6 applies it: a Lowercase
/// normalizer in front of the tokenizer's own, unless that already is, or
/// is a sequence holding, a Lowercase.
fn lower_case_first(tokenizer: &mut Tokenizer) -> tokenizers::Result<()> {
    let current = tokenizer.get_normalizer().cloned();
    let mut normalizers = vec![NormalizerWrapper::Lowercase(Lowercase)];
    match current {
        Some(NormalizerWrapper::Lowercase(_)) => return Ok(()),
        Some(NormalizerWrapper::Sequence(seq)) => {
            if seq.as_ref().iter().any(|n| matches!(n, NormalizerWrapper::Lowercase(_))) {
                return Ok(());
            }
            normalizers.extend(seq);
        }
        Some(other) => normalizers.push(other),
        None => {}
    }
    tokenizer.with_normalizer(Some(NormalizerWrapper::Sequence(NormalizerSequence::new(normalizers))))?;
    Ok(())
}

/// The first `chars` characters of `text`, moved back to the last
/// whitespace in their second half so no word is split; `None` when the
/// text is no longer than that.
pub(crate) fn cut(text: &str, chars: usize) -> Option<&str> {
    let (end, _) = text.char_indices().nth(chars)?;
    Some(cut_at_word(&text[..end]))
}

/// `prefix` moved back to the last whitespace in its second half, if any.
fn cut_at_word(prefix: &str) -> &str {
    let word_start = prefix.rfind(char::is_whitespace).filter(|&i| i >= prefix.len() / 2);
    word_start.map_or(prefix, |i| &prefix[..i])
}

#[cfg(test)]
mod tests {
    use super::{cut, cut_at_word};

    #[test]
    fn cut_keeps_whole_words_and_short_texts() {
        assert_eq!(cut("short", 10), None);
        assert_eq!(cut("aaaa bbbb cccc", 12), Some("aaaa bbbb"));
        assert_eq!(cut("xxxxxxxxxxxx", 5), Some("xxxxx"));
        assert_eq!(cut("今天天气很好我们", 3), Some("今天天"));
        assert_eq!(cut_at_word("aaaa bbbb cc"), "aaaa bbbb");
    }
}
