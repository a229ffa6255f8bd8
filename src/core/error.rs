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
}

impl Error {
    pub(crate) fn model(path: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::Model {
            path: path.as_ref().to_path_buf(),
            message: message.into(),
        }
    }
}
