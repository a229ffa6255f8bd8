//! Opening a weights file: `model.safetensors` (memory-mapped) or
//! `pytorch_model.bin`, behind a check that every tensor the model asks for
//! has the expected shape and a floating-point dtype, so a broken file is a
//! clear error instead of garbage vectors; and where in the file a model's
//! tensors are ([`model_root`]).

use std::path::{Path, PathBuf};

use candle_core::pickle::PthTensors;
use candle_core::safetensors::MmapedSafetensors;
use candle_core::{bail, DType, Device, Result as CandleResult, Shape, Tensor};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder};

use super::pickle_check;
use crate::core::error::{Error, Result};

/// Raw (unconverted) access to the tensors of a weights file.
trait RawTensors: Send + Sync {
    /// A tensor's shape as the file declares it, read without loading it.
    fn declared_shape(&self, name: &str) -> Option<Vec<usize>>;
    fn raw(&self, name: &str, dev: &Device) -> CandleResult<Tensor>;
    fn has(&self, name: &str) -> bool;
}

impl RawTensors for MmapedSafetensors {
    fn declared_shape(&self, name: &str) -> Option<Vec<usize>> {
        self.get(name).ok().map(|view| view.shape().to_vec())
    }
    fn raw(&self, name: &str, dev: &Device) -> CandleResult<Tensor> {
        self.load(name, dev)
    }
    fn has(&self, name: &str) -> bool {
        self.get(name).is_ok()
    }
}

/// A pickle checkpoint, with its file's length: candle allocates a tensor
/// of the shape the pickle declares before reading its data, so no tensor
/// may need more bytes than the (uncompressed) file holds.
struct Pickled {
    tensors: PthTensors,
    file_len: u64,
}

impl RawTensors for Pickled {
    fn declared_shape(&self, name: &str) -> Option<Vec<usize>> {
        self.tensors.tensor_infos().get(name).map(|info| info.layout.dims().to_vec())
    }
    fn raw(&self, name: &str, dev: &Device) -> CandleResult<Tensor> {
        let Some(info) = self.tensors.tensor_infos().get(name) else { bail!("cannot find tensor '{name}'") };
        let bytes = info
            .layout
            .dims()
            .iter()
            .try_fold(info.dtype.size_in_bytes() as u64, |n, &d| n.checked_mul(d as u64))
            .unwrap_or(u64::MAX);
        if bytes > self.file_len {
            bail!("tensor '{name}' declares {:?} ({bytes} bytes), more than the file's {} bytes", info.layout.dims(), self.file_len);
        }
        match self.tensors.get(name)? {
            Some(t) => t.to_device(dev),
            None => bail!("cannot find tensor '{name}'"),
        }
    }
    fn has(&self, name: &str) -> bool {
        self.tensors.tensor_infos().contains_key(name)
    }
}

struct Checked<T>(T);

impl<T: RawTensors> SimpleBackend for Checked<T> {
    fn get(&self, shape: Shape, name: &str, _: Init, dtype: DType, dev: &Device) -> CandleResult<Tensor> {
        // Checked before loading: nothing of a wrong shape is allocated.
        if let Some(declared) = self.0.declared_shape(name) {
            if declared != shape.dims() {
                bail!("tensor '{name}' has shape {declared:?}, the model's config.json implies {:?}", shape.dims());
            }
        }
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
        // Read, never executed (see pickle_check): checked first, then read by candle.
        pickle_check::check(&pytorch).map_err(|e| Error::model(&pytorch, format!("cannot read weights: {e}")))?;
        let file_len = std::fs::metadata(&pytorch).map_err(|e| Error::model(&pytorch, e.to_string()))?.len();
        let tensors = PthTensors::new(&pytorch, None).map_err(|e| unreadable(&pytorch, e))?;
        Box::new(Checked(Pickled { tensors, file_len }))
    } else {
        return Err(Error::model(dir, "no weights found: expected model.safetensors or pytorch_model.bin"));
    };
    let path = if safetensors.is_file() { safetensors } else { pytorch };
    Ok((VarBuilder::from_backend(backend, DType::F32, device.clone()), path))
}

/// Picks the checkpoint's root: the model itself, or nested under `prefix`
/// when it was saved from a task head (e.g. `bert.` in BertForMaskedLM).
pub(crate) fn model_root<'a>(vb: VarBuilder<'a>, probe: &str, prefix: &str) -> VarBuilder<'a> {
    if vb.contains_tensor(probe) {
        vb
    } else {
        vb.pp(prefix)
    }
}
