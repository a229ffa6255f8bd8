//! Opening a weights file: `model.safetensors` (memory-mapped) or
//! `pytorch_model.bin`, behind a check that every tensor the model asks for
//! has the expected shape and a floating-point dtype, so a broken file is a
//! clear error instead of garbage vectors.

use std::path::{Path, PathBuf};

use candle_core::pickle::PthTensors;
use candle_core::safetensors::MmapedSafetensors;
use candle_core::{bail, DType, Device, Result as CandleResult, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder};

use crate::core::error::{Error, Result};

/// Raw (unconverted) access to the tensors of a weights file.
trait RawTensors: Send + Sync {
    fn raw(&self, name: &str, dev: &Device) -> CandleResult<Tensor>;
    fn has(&self, name: &str) -> bool;
}

impl RawTensors for MmapedSafetensors {
    fn raw(&self, name: &str, dev: &Device) -> CandleResult<Tensor> {
        self.load(name, dev)
    }
    fn has(&self, name: &str) -> bool {
        self.get(name).is_ok()
    }
}

impl RawTensors for PthTensors {
    fn raw(&self, name: &str, dev: &Device) -> CandleResult<Tensor> {
        match self.get(name)? {
            Some(t) => t.to_device(dev),
            None => bail!("cannot find tensor '{name}'"),
        }
    }
    fn has(&self, name: &str) -> bool {
        self.get(name).is_ok_and(|t| t.is_some())
    }
}

struct Checked<T>(T);

impl<T: RawTensors> SimpleBackend for Checked<T> {
    fn get(&self, shape: Shape, name: &str, _: Init, dtype: DType, dev: &Device) -> CandleResult<Tensor> {
        let tensor = self.get_unchecked(name, dtype, dev)?;
        if tensor.shape() != &shape {
            bail!("tensor '{name}' has shape {:?}, the model's config.json implies {:?}", tensor.dims(), shape.dims());
        }
        Ok(tensor)
    }

    fn get_unchecked(&self, name: &str, dtype: DType, dev: &Device) -> CandleResult<Tensor> {
        let tensor = self.0.raw(name, dev)?;
        if !tensor.dtype().is_float() {
            bail!("tensor '{name}' has dtype {:?}, expected a floating-point dtype", tensor.dtype());
        }
        tensor.to_dtype(dtype)
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.0.has(name)
    }
}

/// Opens the weights in `dir` as f32 on `device`; returns the file's path
/// too, for error messages.
pub(crate) fn open(dir: &Path, device: &Device) -> Result<(VarBuilder<'static>, PathBuf)> {
    let safetensors = dir.join("model.safetensors");
    let pytorch = dir.join("pytorch_model.bin");
    let unreadable = |path: &Path, e: candle_core::Error| Error::model(path, format!("cannot read weights: {e}"));
    let backend: Box<dyn SimpleBackend> = if safetensors.is_file() {
        // SAFETY: the file is mapped read-only and sbert4j never writes to
        // it; as with any mmap, another process truncating it while it is
        // mapped (only during loading) is outside what we can guard against.
        let tensors = unsafe { MmapedSafetensors::new(&safetensors) }.map_err(|e| unreadable(&safetensors, e))?;
        Box::new(Checked(tensors))
    } else if pytorch.is_file() {
        Box::new(Checked(PthTensors::new(&pytorch, None).map_err(|e| unreadable(&pytorch, e))?))
    } else {
        return Err(Error::model(dir, "no weights found: expected model.safetensors or pytorch_model.bin"));
    };
    let path = if safetensors.is_file() { safetensors } else { pytorch };
    Ok((VarBuilder::from_backend(backend, DType::F32, device.clone()), path))
}
