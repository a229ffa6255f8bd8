//! sbert4j: sentence-transformers embeddings for the JVM.
//!
//! Two layers live in this crate, and only the second knows about Java:
//! - [`core`]: pure Rust. Reads a sentence-transformers model directory,
//!   tokenizes, runs the transformer with candle, pools and normalizes.
//! - `jni`: the thin bridge `System.loadLibrary("sbert4j")` loads. It converts
//!   Java types, maps [`core::Error`] kinds to Java exceptions, and keeps
//!   panics from crossing into the JVM.

pub mod core;
mod jni;

pub use crate::core::{CrossEncoder, CrossEncoderOptions, Encoder, EncoderOptions, Engine, Error, Precision, Prompt, Result, ScoreActivation, SparseEncoder, SparseOptions, SparseVector, TextInfo};
