//! Pooling (token vectors → one sentence vector) and the Normalize module,
//! computed exactly as sentence-transformers' `Pooling` and `Normalize` do.

use candle_core::{DType, Result, Tensor, D};

/// A pooling mode of `1_Pooling/config.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolingMode {
    /// The first token's vector (`pooling_mode_cls_token`).
    Cls,
    /// Element-wise maximum over real tokens (`pooling_mode_max_tokens`).
    Max,
    /// Mean over real tokens (`pooling_mode_mean_tokens`).
    Mean,
    /// Sum over real tokens divided by √(token count)
    /// (`pooling_mode_mean_sqrt_len_tokens`).
    MeanSqrtLen,
}

/// `hidden`: (batch, seq, dim); `mask`: (batch, seq) f32, 1 for real tokens.
/// Returns (batch, dim × modes), the modes concatenated in the given order.
pub(crate) fn pool(hidden: &Tensor, mask: &Tensor, modes: &[PoolingMode]) -> Result<Tensor> {
    let mask = mask.to_dtype(DType::F32)?.unsqueeze(D::Minus1)?; // (b, s, 1)
    let parts = modes
        .iter()
        .map(|mode| match mode {
            PoolingMode::Cls => hidden.narrow(1, 0, 1)?.squeeze(1),
            PoolingMode::Max => {
                // Padding positions become -1e9, as sentence-transformers sets them.
                let fill = mask.affine(-1.0, 1.0)? * -1e9;
                hidden.broadcast_mul(&mask)?.broadcast_add(&fill?)?.max(1)
            }
            PoolingMode::Mean => {
                let (sum, count) = masked_sum(hidden, &mask)?;
                sum.broadcast_div(&count)
            }
            PoolingMode::MeanSqrtLen => {
                let (sum, count) = masked_sum(hidden, &mask)?;
                sum.broadcast_div(&count.sqrt()?)
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Tensor::cat(&parts, 1)
}

/// (Σ hidden·mask over tokens, max(Σ mask, 1e-9)) as (b, dim), (b, 1).
fn masked_sum(hidden: &Tensor, mask: &Tensor) -> Result<(Tensor, Tensor)> {
    let sum = hidden.broadcast_mul(mask)?.sum(1)?;
    let count = mask.sum(1)?.clamp(1e-9f32, f32::MAX)?;
    Ok((sum, count))
}

/// Rows divided by their L2 norm, as `torch.nn.functional.normalize`
/// (norm clamped at 1e-12).
pub(crate) fn normalize(x: &Tensor) -> Result<Tensor> {
    let norm = x.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?.clamp(1e-12f32, f32::MAX)?;
    x.broadcast_div(&norm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn hidden() -> (Tensor, Tensor) {
        // batch of 2, seq 3, dim 2; the second row has one padding token.
        let h = Tensor::new(
            &[[[1f32, -2.], [3., 4.], [5., -6.]], [[-1., 2.], [7., 0.5], [100., 100.]]],
            &Device::Cpu,
        )
        .unwrap();
        let m = Tensor::new(&[[1f32, 1., 1.], [1., 1., 0.]], &Device::Cpu).unwrap();
        (h, m)
    }

    fn rows(t: Tensor) -> Vec<Vec<f32>> {
        t.to_vec2().unwrap()
    }

    #[test]
    fn each_mode_ignores_padding() {
        let (h, m) = hidden();
        assert_eq!(rows(pool(&h, &m, &[PoolingMode::Cls]).unwrap()), vec![vec![1., -2.], vec![-1., 2.]]);
        assert_eq!(rows(pool(&h, &m, &[PoolingMode::Max]).unwrap()), vec![vec![5., 4.], vec![7., 2.]]);
        assert_eq!(rows(pool(&h, &m, &[PoolingMode::Mean]).unwrap()), vec![vec![3., -4. / 3.], vec![3., 1.25]]);
        let sqrt = rows(pool(&h, &m, &[PoolingMode::MeanSqrtLen]).unwrap());
        assert!((sqrt[0][0] - 9. / 3f32.sqrt()).abs() < 1e-6);
        assert!((sqrt[1][1] - 2.5 / 2f32.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn modes_concatenate_in_order() {
        let (h, m) = hidden();
        let both = rows(pool(&h, &m, &[PoolingMode::Cls, PoolingMode::Max]).unwrap());
        assert_eq!(both[1], vec![-1., 2., 7., 2.]);
    }

    #[test]
    fn normalize_gives_unit_rows_and_keeps_zero_rows() {
        let x = Tensor::new(&[[3f32, 4.], [0., 0.]], &Device::Cpu).unwrap();
        assert_eq!(rows(normalize(&x).unwrap()), vec![vec![0.6, 0.8], vec![0., 0.]]);
    }
}
