//! The activation a CrossEncoder applies to its logits (`activation_fn`):
//! what the directory saves, as sentence-transformers 6 resolves it, else
//! Sigmoid for one label and Identity for several.

use std::path::Path;

use crate::core::error::{Error, Result};

/// An activation over one pair's logits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScoreActivation {
    /// `torch.nn.Sigmoid`, per label (the default for one label).
    Sigmoid,
    /// `torch.nn.Identity`: the raw logits (the default for several labels).
    Identity,
    /// `torch.nn.Tanh`, per label.
    Tanh,
    /// `torch.nn.ReLU`, per label.
    Relu,
    /// `torch.nn.Softmax()`, over the labels of a pair.
    Softmax,
}

/// The class names [`ScoreActivation::parse`] knows.
pub(crate) const SUPPORTED: &str = "torch.nn.Sigmoid, torch.nn.Identity, torch.nn.Tanh, torch.nn.ReLU, torch.nn.Softmax \
(by any of their torch.nn module paths), or a name: sigmoid, identity, tanh, relu, softmax";

impl ScoreActivation {
    /// A dotted torch path as sentence-transformers saves it
    /// (`torch.nn.modules.activation.Sigmoid`) or a plain name (`sigmoid`).
    pub fn parse(name: &str) -> Option<Self> {
        let class = name.rsplit('.').next().unwrap_or(name);
        let torch_path = name.starts_with("torch.nn.");
        match (class, torch_path) {
            ("Sigmoid", true) | ("sigmoid", false) => Some(Self::Sigmoid),
            ("Identity", true) | ("identity", false) => Some(Self::Identity),
            ("Tanh", true) | ("tanh", false) => Some(Self::Tanh),
            ("ReLU", true) | ("relu", false) => Some(Self::Relu),
            ("Softmax", true) | ("softmax", false) => Some(Self::Softmax),
            _ => None,
        }
    }

    /// The saved activation, from `(file, activation_fn)` in
    /// sentence-transformers' order of precedence:
    /// `config_sentence_transformers.json`, then `config.json`'s
    /// `sentence_transformers.activation_fn`, then its
    /// `sbert_ce_default_activation_function`. As sentence-transformers
    /// (without `trust_remote_code`), a path outside `torch.` is not
    /// loaded: the first file's moves on to `config.json`, `config.json`'s
    /// gives the default. `None`: the default for the label count.
    pub(crate) fn resolve(saved: &[(&Path, Option<&str>); 3]) -> Result<Option<Self>> {
        let parse = |path: &Path, name: &str| {
            if !name.starts_with("torch.") {
                return Ok(None);
            }
            Self::parse(name).map(Some).ok_or_else(|| Error::Unsupported {
                path: path.to_path_buf(),
                what: "activation_fn",
                value: name.to_string(),
                supported: SUPPORTED,
            })
        };
        if let (path, Some(name)) = saved[0] {
            if let Some(found) = parse(path, name)? {
                return Ok(Some(found));
            }
        }
        // config.json: the first key present decides (an `elif` there).
        match (saved[1], saved[2]) {
            ((path, Some(name)), _) | (_, (path, Some(name))) => parse(path, name),
            _ => Ok(None),
        }
    }

    /// The default for a model with `labels` labels.
    pub(crate) fn default_for(labels: usize) -> Self {
        if labels == 1 {
            Self::Sigmoid
        } else {
            Self::Identity
        }
    }

    /// Applies the activation to one pair's logits, in place.
    pub(crate) fn apply(self, logits: &mut [f32]) {
        match self {
            Self::Identity => {}
            Self::Sigmoid => logits.iter_mut().for_each(|x| *x = 1.0 / (1.0 + (-*x).exp())),
            Self::Tanh => logits.iter_mut().for_each(|x| *x = x.tanh()),
            Self::Relu => logits.iter_mut().for_each(|x| *x = x.max(0.0)),
            Self::Softmax => {
                let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut sum = 0f32;
                for x in logits.iter_mut() {
                    *x = (*x - max).exp();
                    sum += *x;
                }
                logits.iter_mut().for_each(|x| *x /= sum);
            }
        }
    }

    /// The torch class name (`Sigmoid`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sigmoid => "Sigmoid",
            Self::Identity => "Identity",
            Self::Tanh => "Tanh",
            Self::Relu => "ReLU",
            Self::Softmax => "Softmax",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ScoreActivation as A;
    use std::path::Path;

    #[test]
    fn saved_names_resolve_as_sentence_transformers_does() {
        let (st, hub) = (Path::new("config_sentence_transformers.json"), Path::new("config.json"));
        assert_eq!(A::parse("torch.nn.modules.activation.Sigmoid"), Some(A::Sigmoid));
        assert_eq!(A::parse("torch.nn.modules.linear.Identity"), Some(A::Identity));
        assert_eq!(A::parse("torch.nn.Tanh"), Some(A::Tanh));
        assert_eq!(A::parse("relu"), Some(A::Relu));
        assert_eq!(A::parse("mymodule.Sigmoid"), None);
        let r = |a, b, c| A::resolve(&[(st, a), (hub, b), (hub, c)]);
        assert_eq!(r(None, None, None).unwrap(), None);
        assert_eq!(r(Some("torch.nn.modules.linear.Identity"), Some("torch.nn.modules.activation.Tanh"), None).unwrap(), Some(A::Identity));
        assert_eq!(r(Some("custom.Act"), Some("torch.nn.modules.activation.Tanh"), None).unwrap(), Some(A::Tanh));
        assert_eq!(r(None, None, Some("torch.nn.modules.activation.Sigmoid")).unwrap(), Some(A::Sigmoid));
        assert_eq!(r(None, Some("custom.Act"), Some("torch.nn.modules.activation.Tanh")).unwrap(), None);
        assert!(r(Some("torch.nn.modules.activation.Hardswish"), None, None).is_err());
        let mut x = [0.0f32, 2.0];
        A::Softmax.apply(&mut x);
        assert!((x[0] + x[1] - 1.0).abs() < 1e-6 && x[1] > x[0]);
    }
}
