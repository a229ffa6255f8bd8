//! MPNet's relative position buckets: which row of the relative attention
//! bias table a (query, key) pair reads, as transformers'
//! `MPNetEncoder.relative_position_bucket` computes it (always 32 buckets,
//! `max_distance` 128; `compute_position_bias` passes no other count).

/// Buckets transformers computes, whatever `relative_attention_num_buckets`
/// says (that only sizes the table).
pub(crate) const BUCKETS: usize = 32;

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
pub(crate) fn bucket(relative: i64) -> usize {
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
