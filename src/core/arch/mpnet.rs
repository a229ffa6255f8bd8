//! MPNet (all-mpnet-base-v2): the post-norm encoder (`post_norm.rs`) under
//! other weight names, no token types, positions numbered from
//! `padding_idx + 1` (transformers fixes `padding_idx` at 1), and a
//! relative position bias table (`encoder.relative_attention_bias`,
//! buckets × heads) shared by every layer, read at [`bucket`]. The
//! reference engine runs ours (`reference/post_norm.rs`): candle-transformers
//! has no MPNet.

use std::path::Path;

use candle_core::Result;
use candle_nn::VarBuilder;

use super::post_norm::{embedding, load as load_post_norm, open_with, Checkpoint, LayerNames, RelativeBias, TransformerWeights};
use super::{Built, Source};
use crate::core::model::{TableSource, TransformerConfig};

const CHECKPOINT: Checkpoint = Checkpoint {
    nested_under: "mpnet",
    layers: "encoder.layer",
    names: LayerNames {
        query: "attention.attn.q",
        key: "attention.attn.k",
        value: "attention.attn.v",
        attn_out: "attention.attn.o",
        attn_norm: "attention.LayerNorm",
        ffn_in: "intermediate.dense",
        ffn_out: "output.dense",
        out_norm: "output.LayerNorm",
    },
    token_types: false,
};

/// `MPNetEmbeddings.padding_idx`, a constant in transformers (not
/// `pad_token_id`).
const PADDING_IDX: usize = 1;

pub(super) fn open(src: Source) -> crate::core::Result<(Built, usize)> {
    check_config(src.config, src.file.path)?;
    open_with(src, load, None)
}

/// `config.json`'s MPNet fields: the bias table must have a row for every
/// bucket transformers computes.
fn check_config(cfg: &TransformerConfig, config_path: &Path) -> crate::core::Result<()> {
    let buckets = cfg.relative_attention_num_buckets;
    if buckets < BUCKETS {
        return Err(crate::core::Error::model(
            config_path,
            format!("relative_attention_num_buckets is {buckets}; transformers computes {BUCKETS} buckets, so the table needs at least {BUCKETS} rows"),
        ));
    }
    Ok(())
}

/// Call [`check_config`] first.
fn load(vb: VarBuilder, cfg: &TransformerConfig, tables: TableSource) -> Result<TransformerWeights> {
    let (mut weights, root) = load_post_norm(vb, cfg, tables, &CHECKPOINT, PADDING_IDX + 1)?;
    let table = embedding(root.pp("encoder").pp("relative_attention_bias"), cfg.relative_attention_num_buckets, cfg.num_attention_heads)?;
    weights.relative_bias = Some(RelativeBias { table, bucket });
    Ok(weights)
}

// MPNet's relative position buckets: which row of the relative attention
// bias table a (query, key) pair reads, as transformers'
// `MPNetEncoder.relative_position_bucket` computes it (always 32 buckets,
// `max_distance` 128; `compute_position_bias` passes no other count).

/// Buckets transformers computes, whatever `relative_attention_num_buckets`
/// says (that only sizes the table).
const BUCKETS: usize = 32;

/// The bucket of a key at `relative = key position − query position`:
/// half the buckets for keys after the query (offset by 16), half for keys
/// at or before it; within a half, distances below 8 get their own bucket,
/// longer ones share logarithmically sized buckets up to 128 (the last
/// bucket beyond).
///
/// transformers computes `8 + trunc(ln(n / 8) / ln(16) · 8)` in float32;
/// that is `8 + floor(log2(n² / 64))`, computed here in integers: the two
/// agree wherever float32 resolves the value, and at the exact boundaries
/// (n = 16, 32, 64) float32 lands on the integer too (checked in the test
/// below against transformers' output).
fn bucket(relative: i64) -> usize {
    const HALF: usize = BUCKETS / 2;
    const MAX_EXACT: u64 = (HALF / 2) as u64;
    let n = -relative;
    let base = if n < 0 { HALF } else { 0 };
    let n = n.unsigned_abs();
    if n < MAX_EXACT {
        return base + n as usize;
    }
    // Largest k with 64 · 2^k ≤ n² (n ≥ 8, so k ≥ 0).
    let square = n.saturating_mul(n);
    let k = (square / (MAX_EXACT * MAX_EXACT)).ilog2() as usize;
    base + (MAX_EXACT as usize + k).min(HALF - 1)
}

#[cfg(test)]
mod tests {
    use super::bucket;

    #[test]
    fn buckets_match_transformers() {
        // transformers 5.24, MPNetEncoder.relative_position_bucket over
        // torch.arange(-16, 17):
        let want = [10, 9, 9, 9, 9, 8, 8, 8, 8, 7, 6, 5, 4, 3, 2, 1, 0, 17, 18, 19, 20, 21, 22, 23, 24, 24, 24, 24, 25, 25, 25, 25, 26];
        let got: Vec<usize> = (-16..=16).map(bucket).collect();
        assert_eq!(got, want);
        // ... and at the boundaries of the logarithmic buckets.
        let after = [(15, 25), (16, 26), (17, 26), (31, 27), (32, 28), (33, 28), (63, 29), (64, 30), (65, 30), (127, 31), (128, 31), (129, 31), (600, 31)];
        for (n, b) in after {
            assert_eq!(bucket(n), b, "key {n} after the query");
        }
        let before = [(15, 9), (16, 10), (17, 10), (31, 11), (32, 12), (33, 12), (63, 13), (64, 14), (65, 14), (600, 15)];
        for (n, b) in before {
            assert_eq!(bucket(-n), b, "key {n} before the query");
        }
    }
}
