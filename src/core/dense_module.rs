//! sentence-transformers' `Dense` module (`N_Dense/`): a linear layer and
//! an activation on the sentence vector, after Pooling (distiluse: 768 →
//! 512 with tanh; LaBSE: 768 → 768 with tanh, then Normalize). Its
//! `config.json` is read in `st_config.rs`; this file loads the weights
//! (`model.safetensors`, or `pytorch_model.bin` as older releases wrote
//! them: `linear.weight`, `linear.bias`) and applies the module.

use std::path::PathBuf;

use candle_core::Device;

use super::error::{Error, Result};
use super::model::open_weights;

/// The activations sbert4j implements, by the class name the config's
/// `activation_function` ends with (sentence-transformers instantiates
/// any `torch.` class; these are the ones models use).
pub(crate) const SUPPORTED_ACTIVATIONS: &str = "torch.nn.modules.activation.Tanh, torch.nn.modules.linear.Identity, \
     torch.nn.modules.activation.ReLU, torch.nn.modules.activation.Sigmoid, torch.nn.modules.activation.GELU \
     (or the same classes as torch.nn.X)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DenseActivation {
    Tanh,
    Identity,
    Relu,
    Sigmoid,
    /// `nn.GELU()`: the exact erf form (sentence-transformers re-creates
    /// the class without arguments, so a saved `approximate` is lost).
    Gelu,
}

impl DenseActivation {
    /// The activation named by a `torch.` class path, as
    /// sentence-transformers imports it; `None` if sbert4j lacks it.
    pub fn parse(path: &str) -> Option<Self> {
        let class = path.strip_prefix("torch.")?.rsplit('.').next()?;
        match class {
            "Tanh" => Some(Self::Tanh),
            "Identity" => Some(Self::Identity),
            "ReLU" => Some(Self::Relu),
            "Sigmoid" => Some(Self::Sigmoid),
            "GELU" => Some(Self::Gelu),
            _ => None,
        }
    }

    fn apply(self, x: f32) -> f32 {
        match self {
            Self::Tanh => x.tanh(),
            Self::Identity => x,
            Self::Relu => x.max(0.0),
            Self::Sigmoid => (1.0 / (1.0 + (-(x as f64)).exp())) as f32,
            Self::Gelu => {
                let x = x as f64;
                (0.5 * x * (1.0 + candle_core::cpu::erf::erf_f64(x / std::f64::consts::SQRT_2))) as f32
            }
        }
    }
}

/// A Dense module's `config.json`, as read by `st_config.rs`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DenseConfig {
    pub dir: PathBuf,
    pub in_features: usize,
    pub out_features: usize,
    pub bias: bool,
    pub activation: DenseActivation,
}

/// A Dense module ready to apply.
pub(crate) struct DenseModule {
    /// (out_features × in_features), row-major, as PyTorch stores it.
    weight: Vec<f32>,
    bias: Option<Vec<f32>>,
    in_features: usize,
    out_features: usize,
    activation: DenseActivation,
}

impl DenseModule {
    /// Loads the weights of `cfg`, for an input of `input` values (what
    /// the module before it produces).
    pub fn load(cfg: &DenseConfig, input: usize) -> Result<Self> {
        if cfg.in_features != input {
            return Err(Error::model(
                cfg.dir.join("config.json"),
                format!("in_features is {}, but the module before it produces {input} values", cfg.in_features),
            ));
        }
        let (vb, path) = open_weights(&cfg.dir, &Device::Cpu)?;
        let failed = |e: candle_core::Error| Error::model(&path, e.to_string());
        let read = |t: candle_core::Tensor| t.flatten_all()?.to_vec1::<f32>();
        let weight = read(vb.get((cfg.out_features, cfg.in_features), "linear.weight").map_err(failed)?).map_err(failed)?;
        let bias = match cfg.bias {
            true => Some(read(vb.get(cfg.out_features, "linear.bias").map_err(failed)?).map_err(failed)?),
            false => None,
        };
        Ok(Self { weight, bias, in_features: cfg.in_features, out_features: cfg.out_features, activation: cfg.activation })
    }

    pub fn out_features(&self) -> usize {
        self.out_features
    }

    /// `out ← activation(weight · x + bias)`.
    pub fn apply(&self, x: &[f32], out: &mut [f32]) {
        debug_assert_eq!((x.len(), out.len()), (self.in_features, self.out_features));
        for (o, (row, v)) in out.iter_mut().zip(self.weight.chunks_exact(self.in_features).enumerate()) {
            let dot: f64 = v.iter().zip(x).map(|(w, x)| *w as f64 * *x as f64).sum();
            let b = self.bias.as_ref().map_or(0.0, |b| b[row] as f64);
            *o = self.activation.apply((dot + b) as f32);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DenseActivation;

    #[test]
    fn activations_are_named_as_sentence_transformers_saves_them() {
        assert_eq!(DenseActivation::parse("torch.nn.modules.activation.Tanh"), Some(DenseActivation::Tanh));
        assert_eq!(DenseActivation::parse("torch.nn.modules.linear.Identity"), Some(DenseActivation::Identity));
        assert_eq!(DenseActivation::parse("torch.nn.Tanh"), Some(DenseActivation::Tanh));
        assert_eq!(DenseActivation::parse("torch.nn.modules.activation.Softsign"), None);
        assert_eq!(DenseActivation::parse("my_package.Tanh"), None, "not a torch class");
        assert!((DenseActivation::Gelu.apply(1.0) - 0.841_344_7).abs() < 1e-6);
        assert!((DenseActivation::Sigmoid.apply(0.0) - 0.5).abs() < 1e-7);
    }
}
