//! The number format of the fast engine's linear layers (the matrix
//! products, about 95% of a pass's arithmetic). Chosen when a model is
//! opened; the weights are converted once, at load, and the float32 copy is
//! not kept. Embeddings, attention, softmax, layer norm, activations,
//! pooling, Dense modules and normalisation stay in float32 at every
//! precision.
//!
//! - `Fp32` (default): float32 throughout, bit for bit what it always was.
//! - `Bf16`: weights rounded to bfloat16 (round to nearest, ties to even),
//!   the inputs of each product rounded to bfloat16 too, products summed in
//!   float32 (`cpu/matmul/bf16_scheme.rs`).
//! - `Int8`: weights quantised per output channel (symmetric, −127..127),
//!   each input row quantised on the fly to uint8 with its own scale and
//!   zero point (outlier inputs multiplied in float32), int32 sums,
//!   dequantised as the output is stored
//!   (`cpu/matmul/int8_scheme.rs` has the scheme and why).

use std::fmt;

/// The number format of the linear layers (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Precision {
    /// float32 (the default; unchanged).
    #[default]
    Fp32,
    /// bfloat16 weights and inputs, float32 sums.
    Bf16,
    /// int8 weights (per output channel), uint8 inputs (per row), int32 sums.
    Int8,
}

impl Precision {
    pub const ALL: [Precision; 3] = [Precision::Fp32, Precision::Bf16, Precision::Int8];

    pub fn name(self) -> &'static str {
        match self {
            Precision::Fp32 => "fp32",
            Precision::Bf16 => "bf16",
            Precision::Int8 => "int8",
        }
    }

    /// A precision's name (`fp32`, `bf16`, `int8`; case and surrounding
    /// blanks ignored).
    pub fn parse(name: &str) -> Result<Self, String> {
        let wanted = name.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|p| p.name() == wanted)
            .ok_or_else(|| format!("unknown precision '{}': use fp32, bf16 or int8", name.trim()))
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_are_refused() {
        for p in Precision::ALL {
            assert_eq!(Precision::parse(&format!(" {} ", p.name().to_uppercase())).unwrap(), p);
        }
        assert_eq!(Precision::default(), Precision::Fp32);
        assert!(Precision::parse("fp16").unwrap_err().contains("unknown precision 'fp16'"));
    }
}
