//! Text clean-up that sentence-transformers applies before tokenizing, done
//! the way Python does it so that the token ids come out identical.

/// Python's `str.isspace()`: Unicode White_Space plus the four ASCII
/// information separators (U+001C..U+001F) that Python also counts.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `str(text).strip()`, as sentence-transformers' Transformer module does.
pub(crate) fn python_strip(text: &str) -> &str {
    text.trim_matches(is_python_space)
}

/// Prepares one input text: strip, then lowercase when the model's
/// `sentence_bert_config.json` says `do_lower_case`.
pub(crate) fn prepare(text: &str, lower_case: bool) -> std::borrow::Cow<'_, str> {
    let stripped = python_strip(text);
    if lower_case {
        std::borrow::Cow::Owned(stripped.to_lowercase())
    } else {
        std::borrow::Cow::Borrowed(stripped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_like_python() {
        assert_eq!(python_strip("  a b \t\n"), "a b");
        assert_eq!(python_strip("\u{1f}\u{3000}x\u{a0}\u{85}"), "x");
        assert_eq!(python_strip("\u{200b}x"), "\u{200b}x"); // ZWSP is not space in Python
        assert_eq!(python_strip(""), "");
    }

    #[test]
    fn lowercases_only_when_asked() {
        assert_eq!(prepare(" ÀB ", true), "àb");
        assert_eq!(prepare(" ÀB ", false), "ÀB");
    }
}
