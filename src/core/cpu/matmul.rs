//! Matrix products for the packed engine, on row-major f32 slices, through
//! the `gemm` crate (AVX-512 kernels where the CPU has them).

use gemm::{gemm, Parallelism};

/// Products smaller than this many multiply-adds run on the calling thread:
/// below it, waking the pool costs more than it saves.
const PARALLEL_MIN_MACS: usize = 1 << 21;

/// A strided view of a row-major matrix: element (r, c) at
/// `ptr[r * row_stride + c * col_stride]`.
#[derive(Clone, Copy)]
pub(crate) struct View {
    pub ptr: *const f32,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl View {
    /// A row-major matrix whose rows are `row_stride` apart.
    pub fn rows(data: &[f32], row_stride: usize) -> Self {
        Self { ptr: data.as_ptr(), row_stride, col_stride: 1 }
    }

    /// The transpose of a row-major matrix whose rows are `row_stride`
    /// apart (e.g. a PyTorch (out, in) weight seen as (in, out)).
    pub fn transposed(data: &[f32], row_stride: usize) -> Self {
        Self { ptr: data.as_ptr(), row_stride: 1, col_stride: row_stride }
    }
}

/// `dst (m×n, rows dst_stride apart) = accumulate·dst + scale·(a (m×k) · b (k×n))`.
///
/// # Safety
/// `a` and `b` must address m×k and k×n valid elements; `dst` must address
/// m×n elements that nothing else reads or writes during the call.
pub(crate) unsafe fn matmul(
    m: usize,
    n: usize,
    k: usize,
    dst: *mut f32,
    dst_stride: usize,
    a: View,
    b: View,
    accumulate: bool,
    scale: f32,
    parallel: bool,
) {
    let parallelism = if parallel && m * n * k >= PARALLEL_MIN_MACS {
        Parallelism::Rayon(rayon::current_num_threads())
    } else {
        Parallelism::None
    };
    gemm(
        m,
        n,
        k,
        dst,
        1,
        dst_stride as isize,
        accumulate,
        a.ptr,
        a.col_stride as isize,
        a.row_stride as isize,
        b.ptr,
        b.col_stride as isize,
        b.row_stride as isize,
        1.0,
        scale,
        false,
        false,
        false,
        parallelism,
    )
}
