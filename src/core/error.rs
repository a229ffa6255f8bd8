//! The core's error type. Each variant is one kind of failure a caller can
//! act on; the JNI layer maps each kind to one Java exception class.

use std::path::{Path, PathBuf};

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file of the model directory is missing, unreadable or malformed.
    #[error("{}: {message}", path.display())]
    Model { path: PathBuf, message: String },

    /// The model asks for something sbert4j does not implement.
    #[error("{}: unsupported {what} '{value}' (supported: {supported})", path.display())]
    Unsupported {
        path: PathBuf,
        what: &'static str,
        value: String,
        supported: &'static str,
    },

    /// The caller passed an argument that can never work.
    #[error("{0}")]
    InvalidArgument(String),

    /// The tokenizer rejected a text.
    #[error("tokenization failed: {0}")]
    Tokenization(String),

    /// This CPU or process cannot run what was asked of it (a forced CPU
    /// path the CPU lacks, an invalid thread count).
    #[error("{0}")]
    Platform(String),

    /// The tensor computation failed.
    #[error("inference failed: {0}")]
    Inference(#[from] candle_core::Error),

    /// A bug: something the core guarantees did not hold (a panic caught
    /// inside the core, for instance).
    #[error("internal error: {0}")]
    Internal(String),

    /// One text of a batch failed (the whole call fails, naming it).
    #[error("text at index {index}: {source}")]
    Text { index: usize, source: Box<Error> },
}

impl Error {
    /// The failure itself, whichever text of a batch it came from.
    pub fn kind(&self) -> &Error {
        match self {
            Error::Text { source, .. } => source.kind(),
            other => other,
        }
    }

    /// The same failure with the index of its text moved by `offset` (a
    /// caller that split a list into chunks names the index in the list).
    pub fn offset_index(self, offset: usize) -> Self {
        match self {
            Error::Text { index, source } => Error::Text { index: index + offset, source },
            other => other,
        }
    }

    pub(crate) fn at(index: usize) -> impl FnOnce(Error) -> Error {
        move |source| Error::Text { index, source: Box::new(source) }
    }

    pub(crate) fn model(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::Model {
            path: path.as_ref().to_path_buf(),
            message: message.into(),
        }
    }
}
