//! Which implementation runs the transformer: an option of the encoder,
//! known to the architectures (each builds its model for one engine) and
//! to the registry (which caches one load per directory and engine).

/// Which implementation runs the transformer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Engine {
    /// The packed CPU engine (`core::cpu`): no padding, fused kernels.
    #[default]
    Fast,
    /// candle tensor ops over padded batches (`arch::ReferenceModel`): the
    /// readable definition the fast engine is tested against.
    Reference,
}
