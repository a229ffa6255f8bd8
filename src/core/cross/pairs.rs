//! A (query, document) pair as transformers tokenizes it for a
//! CrossEncoder (`tokenizer(texts, text_pair, truncation="longest_first",
//! max_length=...)`): each text tokenized alone, truncated longest-first
//! to `max_len` less the pair template's special tokens (the `tokenizers`
//! library's `truncate_encodings`), then joined by the tokenizer's pair
//! template (BERT: `[CLS] a [SEP] b [SEP]`, token types 0 then 1; XLM-R:
//! `<s> a </s></s> b </s>`).
//!
//! A text far longer than the limit is cut before tokenizing (at a word
//! boundary) when its cut still yields more tokens than the pair can keep,
//! so a huge document costs no more than a long one; the kept tokens are
//! those of the whole text.

use tokenizers::{Encoding, PostProcessor, TruncationDirection};

use crate::core::error::{Error, Result};
use crate::core::tokenize::{cut, TextTokenizer, Tokens};

/// Kept tokens of a cut text must be followed by this many more for the cut to be used.
const STABLE_MARGIN: usize = 16;

/// The lengths `tokenizers` keeps of a pair of `n1` and `n2` tokens when at
/// most `max` fit (`TruncationStrategy::LongestFirst`): the longer text is
/// cut first, down to the shorter one's length, then both to half the
/// room each (the odd token to the longer text, to the second when equal).
pub(crate) fn longest_first(n1: usize, n2: usize, max: usize) -> (usize, usize) {
    if n1 + n2 <= max {
        return (n1, n2);
    }
    let mut short = n1.min(n2);
    let mut long = if short > max { short } else { short.max(max - short) };
    if short + long > max {
        short = max / 2;
        long = short + max % 2;
    }
    if n1 > n2 {
        (long, short)
    } else {
        (short, long)
    }
}

/// Tokenizes `first` and `second` as a pair, truncated at the tokenizer's `max_len`.
pub(crate) fn encode_pair(tokenizer: &TextTokenizer, first: &str, second: &str) -> Result<Tokens> {
    let backend = tokenizer.backend();
    let specials = backend.get_post_processor().map_or(0, |p| p.added_tokens(true));
    let max_len = tokenizer.max_len();
    let Some(keep) = max_len.checked_sub(specials).filter(|k| *k >= 2) else {
        return Err(Error::InvalidArgument(format!(
            "max length {max_len} leaves no room for a pair: the pair template adds {specials} special tokens"
        )));
    };
    let chars = tokenizer.first_cut_chars();
    let (mut a, mut b) = (encode_text(tokenizer, first, keep, chars)?, encode_text(tokenizer, second, keep, chars)?);
    let (n1, n2) = longest_first(a.len(), b.len(), keep);
    let truncated = n1 < a.len() || n2 < b.len();
    a.truncate(n1, 0, TruncationDirection::Right);
    b.truncate(n2, 0, TruncationDirection::Right);
    let enc = backend.post_process(a, Some(b), true).map_err(|e| Error::Tokenization(e.to_string()))?;
    Ok(Tokens { ids: enc.get_ids().to_vec(), type_ids: enc.get_type_ids().to_vec(), truncated, pooling_skip: 0 })
}

/// One text's tokens without special tokens: the whole text's, or those of
/// a prefix cut at `chars` characters when that prefix already has more
/// than `keep` tokens (with a margin), which is all truncation can keep.
fn encode_text(tokenizer: &TextTokenizer, text: &str, keep: usize, chars: usize) -> Result<Encoding> {
    let encode = |t: &str| tokenizer.backend().encode(t, false).map_err(|e| Error::Tokenization(e.to_string()));
    if let Some(prefix) = cut(text, chars) {
        let enc = encode(prefix)?;
        if enc.len() >= keep + STABLE_MARGIN {
            return Ok(enc);
        }
    }
    encode(text)
}

#[cfg(test)]
mod tests {
    use super::longest_first;

    #[test]
    fn longest_first_cuts_as_tokenizers_does() {
        assert_eq!(longest_first(3, 4, 10), (3, 4));
        assert_eq!(longest_first(3, 40, 10), (3, 7));
        assert_eq!(longest_first(40, 3, 10), (7, 3));
        assert_eq!(longest_first(40, 30, 10), (5, 5));
        assert_eq!(longest_first(40, 30, 11), (6, 5), "the longer text takes the odd token");
        assert_eq!(longest_first(30, 40, 11), (5, 6));
        assert_eq!(longest_first(6, 6, 11), (5, 6));
        assert_eq!(longest_first(0, 50, 10), (0, 10));
    }
}
