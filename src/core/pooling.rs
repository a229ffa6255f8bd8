//! Pooling (token vectors → one sentence vector) and the Normalize module,
//! computed as sentence-transformers' `Pooling` and `Normalize` do, on one
//! text's token vectors (no padding: the engines hand over real tokens only).

/// A pooling mode of `1_Pooling/config.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolingMode {
    /// The first token's vector (`pooling_mode_cls_token`).
    Cls,
    /// Element-wise maximum over tokens (`pooling_mode_max_tokens`).
    Max,
    /// Mean over tokens (`pooling_mode_mean_tokens`).
    Mean,
    /// Sum over tokens divided by √(token count)
    /// (`pooling_mode_mean_sqrt_len_tokens`).
    MeanSqrtLen,
    /// Mean weighted by position, 1 for the first token
    /// (`pooling_mode_weightedmean_tokens`).
    WeightedMean,
    /// The last token's vector (`pooling_mode_lasttoken`).
    LastToken,
}

/// Pools `tokens` (token count × `dim`, row-major) into `out` (`dim` ×
/// number of modes), the modes concatenated in order. The first `skip`
/// tokens (a prompt, with `include_prompt: false`) are masked out exactly
/// as sentence-transformers masks them (`Pooling._exclude_prompt_from_mask`
/// on a right-padded batch): they count for no mode, and when no token is
/// left, mean-like modes give zeros, max gives -inf, cls the first token
/// and lasttoken zeros, as the masked torch operations do.
pub(crate) fn pool(tokens: &[f32], dim: usize, modes: &[PoolingMode], skip: usize, out: &mut [f32]) {
    let len = tokens.len() / dim;
    if len == 0 {
        // The encoder refuses texts without tokens; never index an empty row.
        out.fill(0.0);
        return;
    }
    let skip = skip.min(len);
    let kept = &tokens[skip * dim..];
    let count = (len - skip) as f32;
    let row = |i: usize| &tokens[i * dim..(i + 1) * dim];
    for (mode, out) in modes.iter().zip(out.chunks_exact_mut(dim)) {
        match mode {
            PoolingMode::Cls => out.copy_from_slice(row(if skip < len { skip } else { 0 })),
            PoolingMode::LastToken if skip < len => out.copy_from_slice(row(len - 1)),
            PoolingMode::LastToken => out.fill(0.0),
            PoolingMode::Max => {
                out.fill(f32::NEG_INFINITY);
                for row in kept.chunks_exact(dim) {
                    for (o, v) in out.iter_mut().zip(row) {
                        *o = o.max(*v);
                    }
                }
            }
            PoolingMode::Mean | PoolingMode::MeanSqrtLen => {
                out.fill(0.0);
                for row in kept.chunks_exact(dim) {
                    for (o, v) in out.iter_mut().zip(row) {
                        *o += v;
                    }
                }
                let count = count.max(1e-9);
                let divisor = if *mode == PoolingMode::Mean { count } else { count.sqrt() };
                out.iter_mut().for_each(|o| *o /= divisor);
            }
            PoolingMode::WeightedMean => {
                out.fill(0.0);
                let mut total = 0f32;
                for (i, row) in kept.chunks_exact(dim).enumerate() {
                    // Weights are positions counted from 1 over the whole
                    // sequence, prompt included.
                    let w = (skip + i + 1) as f32;
                    total += w;
                    for (o, v) in out.iter_mut().zip(row) {
                        *o += v * w;
                    }
                }
                let total = total.max(1e-9);
                out.iter_mut().for_each(|o| *o /= total);
            }
        }
    }
}

/// Divides `v` by its L2 norm, as `torch.nn.functional.normalize` (norm
/// clamped at 1e-12).
pub(crate) fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= norm);
}

#[cfg(test)]
mod tests {
    use super::*;

    // Three tokens of dimension 2.
    const TOKENS: [f32; 6] = [1., -2., 3., 4., 5., -6.];

    fn pooled(modes: &[PoolingMode]) -> Vec<f32> {
        let mut out = vec![0.; 2 * modes.len()];
        pool(&TOKENS, 2, modes, 0, &mut out);
        out
    }

    fn pooled_skipping(modes: &[PoolingMode], skip: usize) -> Vec<f32> {
        let mut out = vec![0.; 2 * modes.len()];
        pool(&TOKENS, 2, modes, skip, &mut out);
        out
    }

    #[test]
    fn each_mode() {
        assert_eq!(pooled(&[PoolingMode::Cls]), vec![1., -2.]);
        assert_eq!(pooled(&[PoolingMode::Max]), vec![5., 4.]);
        assert_eq!(pooled(&[PoolingMode::Mean]), vec![3., -4. / 3.]);
        let sqrt = pooled(&[PoolingMode::MeanSqrtLen]);
        assert!((sqrt[0] - 9. / 3f32.sqrt()).abs() < 1e-6 && (sqrt[1] + 4. / 3f32.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn weighted_and_last_token() {
        // weights 1, 2, 3: (1*1 + 2*3 + 3*5) / 6, (1*-2 + 2*4 + 3*-6) / 6
        assert_eq!(pooled(&[PoolingMode::WeightedMean]), vec![22. / 6., -12. / 6.]);
        assert_eq!(pooled(&[PoolingMode::LastToken]), vec![5., -6.]);
    }

    #[test]
    fn skipped_prompt_tokens_count_for_no_mode() {
        use PoolingMode::*;
        assert_eq!(pooled_skipping(&[Cls, Max, Mean, LastToken], 1), vec![3., 4., 5., 4., 4., -1., 5., -6.]);
        // positions keep their weights: (2*3 + 3*5) / 5
        assert_eq!(pooled_skipping(&[WeightedMean], 1), vec![21. / 5., (2. * 4. - 3. * 6.) / 5.]);
        // nothing left: what the masked torch operations give
        let all = pooled_skipping(&[Cls, Max, Mean, MeanSqrtLen, WeightedMean, LastToken], 3);
        assert_eq!(&all[..2], &[1., -2.]);
        assert_eq!(&all[2..4], &[f32::NEG_INFINITY; 2]);
        assert_eq!(&all[4..], &[0.; 8]);
    }

    #[test]
    fn modes_concatenate_in_order() {
        assert_eq!(pooled(&[PoolingMode::Cls, PoolingMode::Max]), vec![1., -2., 5., 4.]);
    }

    #[test]
    fn normalize_gives_unit_vectors_and_keeps_zero_vectors() {
        let mut v = vec![3., 4.];
        normalize(&mut v);
        assert_eq!(v, vec![0.6, 0.8]);
        let mut z = vec![0., 0.];
        normalize(&mut z);
        assert_eq!(z, vec![0., 0.]);
    }
}
