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
}

/// Pools `tokens` (token count × `dim`, row-major, at least one token) into
/// `out` (`dim` × number of modes), the modes concatenated in order.
pub(crate) fn pool(tokens: &[f32], dim: usize, modes: &[PoolingMode], out: &mut [f32]) {
    let count = (tokens.len() / dim) as f32;
    for (mode, out) in modes.iter().zip(out.chunks_exact_mut(dim)) {
        let rows = tokens.chunks_exact(dim);
        match mode {
            PoolingMode::Cls => out.copy_from_slice(&tokens[..dim]),
            PoolingMode::Max => {
                out.fill(f32::NEG_INFINITY);
                for row in rows {
                    for (o, v) in out.iter_mut().zip(row) {
                        *o = o.max(*v);
                    }
                }
            }
            PoolingMode::Mean | PoolingMode::MeanSqrtLen => {
                out.fill(0.0);
                for row in rows {
                    for (o, v) in out.iter_mut().zip(row) {
                        *o += v;
                    }
                }
                let divisor = if *mode == PoolingMode::Mean { count } else { count.sqrt() };
                out.iter_mut().for_each(|o| *o /= divisor.max(1e-9));
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
        pool(&TOKENS, 2, modes, &mut out);
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
