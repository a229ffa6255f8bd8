//! sentence-transformers' Dense module beyond the vectors (those are in
//! tests/st6_contract.rs): the dimension and normalization it leads to, and
//! the configurations sbert4j refuses at open, naming file, value and the
//! supported list.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use sbert4j::{Encoder, EncoderOptions};

fn fixture_dir(name: &str) -> PathBuf {
    root().join("tests/fixtures/models").join(name)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let dest = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &dest);
        } else {
            std::fs::copy(&path, &dest).unwrap();
        }
    }
}

/// The open error for `fixture` with `edit` applied to its 2_Dense/config.json.
fn open_error_with_dense_config(fixture: &str, edit: impl Fn(&mut serde_json::Value)) -> String {
    let tmp = tempfile::tempdir().unwrap();
    copy_tree(&fixture_dir(fixture), tmp.path());
    let path = tmp.path().join("2_Dense/config.json");
    let mut cfg: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut cfg);
    std::fs::write(&path, serde_json::to_vec(&cfg).unwrap()).unwrap();
    Encoder::open(tmp.path(), EncoderOptions::default()).err().expect("the edited model opened").to_string()
}

#[test]
fn dense_sets_the_dimension_and_normalize_after_it_the_norm() {
    let distiluse = Encoder::open(fixture_dir("distilbert-dense-tanh-st6"), EncoderOptions::default()).unwrap();
    assert_eq!(distiluse.dimension(), 24, "the Dense module's out_features, not the hidden size 32");
    assert!(!distiluse.normalizes());
    let v = distiluse.encode("客户投诉物流太慢").unwrap();
    assert!(v.iter().all(|x| x.abs() < 1.0), "tanh output");

    let labse = Encoder::open(fixture_dir("bert-dense-normalize-st6"), EncoderOptions::default()).unwrap();
    assert_eq!(labse.dimension(), 24);
    assert!(labse.normalizes());
    let v = labse.encode("客户投诉物流太慢").unwrap();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
    let truncated = Encoder::open(fixture_dir("bert-dense-normalize-st6"), EncoderOptions { truncate_dim: Some(8), ..Default::default() }).unwrap();
    assert_eq!(truncated.encode("客户投诉物流太慢").unwrap(), v[..8].to_vec(), "truncate_dim after the modules");
    assert!(!truncated.normalizes());
}

#[test]
fn an_unknown_activation_is_named_with_the_supported_ones() {
    let err = open_error_with_dense_config("distilbert-dense-tanh-st6", |cfg| {
        cfg["activation_function"] = "torch.nn.modules.activation.Softsign".into();
    });
    for part in ["2_Dense/config.json", "activation_function", "'torch.nn.modules.activation.Softsign'", "Tanh", "Identity", "ReLU"] {
        assert!(err.contains(part), "{err:?} lacks {part:?}");
    }
    let err = open_error_with_dense_config("distilbert-dense-tanh-st6", |cfg| {
        cfg["activation_function"] = "my_package.activations.Tanh".into();
    });
    assert!(err.contains("'my_package.activations.Tanh'"), "not a torch class: {err}");
}

#[test]
fn what_dense_cannot_do_here_fails_at_open() {
    let err = open_error_with_dense_config("distilbert-dense-tanh-st6", |cfg| cfg["use_residual"] = true.into());
    assert!(err.contains("2_Dense/config.json") && err.contains("use_residual"), "{err}");
    let err = open_error_with_dense_config("distilbert-dense-tanh-st6", |cfg| {
        cfg["module_input_name"] = "token_embeddings".into();
    });
    assert!(err.contains("module_input_name") && err.contains("token_embeddings"), "{err}");
    let err = open_error_with_dense_config("distilbert-dense-tanh-st6", |cfg| cfg["in_features"] = 48.into());
    assert!(err.contains("2_Dense/config.json") && err.contains("in_features is 48") && err.contains("32"), "{err}");
    let err = open_error_with_dense_config("distilbert-dense-tanh-st6", |cfg| cfg["out_features"] = 20.into());
    assert!(err.contains("pytorch_model.bin") && err.contains("linear.weight"), "weights of another shape: {err}");
}
