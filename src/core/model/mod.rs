//! Reading a model directory's files, as every architecture needs them:
//! `config.rs` reads `config.json`'s shared fields; `weights.rs` opens the
//! weights file, checked (`pickle_check.rs` for `pytorch_model.bin`);
//! `embedding_table.rs` reads word embeddings in place. Nothing here knows
//! an architecture: the architectures (`crate::core::arch`) build on this.

mod config;
mod embedding_table;
mod pickle_check;
mod weights;

pub(crate) use config::{Activation, ConfigFile, TransformerConfig, ACTIVATIONS};
pub(crate) use embedding_table::{EmbeddingTable, TableSource};
pub(crate) use weights::{model_root, open as open_weights};
