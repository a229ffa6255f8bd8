//! The pure-Rust core: everything needed to turn text into sentence
//! embeddings, with no knowledge of JNI.

mod batcher;
mod cpu;
mod encoder;
mod error;
mod model;
mod pooling;
mod registry;
mod st_config;
mod tokenize;

pub use encoder::{Encoder, EncoderOptions, Prompt, TextInfo};
pub use error::{Error, Result};
pub use pooling::PoolingMode;
pub use registry::{loaded_model_count, Engine};
