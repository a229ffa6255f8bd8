//! A token embedding table, in memory or read where it lies in
//! `model.safetensors`.
//!
//! A multilingual model's word embeddings are most of its weights
//! (paraphrase-multilingual-MiniLM-L12-v2: 250,002 × 384 floats, 384 MB of
//! 470), and a text uses a few dozen of their rows. The fast engine
//! therefore reads the rows a batch uses from the file, with positioned
//! reads, instead of copying the table into the process: the file's pages
//! stay in the operating system's page cache, shared by every JVM on the
//! host that opens the same file, and count in no process's resident
//! memory. Positioned reads rather than a memory map: a model file
//! truncated or rewritten in place while a JVM uses it is then an error
//! for that call, never a SIGBUS that kills the JVM.
//!
//! The table is read in place when the weights are `model.safetensors`,
//! the tensor is F32, F16 or BF16 (rows widened to f32 as they are read,
//! as candle converts them) and its header entry is consistent; otherwise
//! (a `pytorch_model.bin`, the reference engine, any doubt) it is loaded
//! as the other weights are, with their checks and error messages.

use std::fs::File;
use std::path::{Path, PathBuf};

use candle_core::{Device, Result as CandleResult, Tensor};
use candle_nn::VarBuilder;

use crate::core::error::Error;

/// Where tables may be read in place: the `model.safetensors` the weights
/// come from, for the fast engine; nowhere for the reference engine (the
/// tests' oracle loads them as candle does) or a pickle checkpoint.
#[derive(Clone, Copy, Default)]
pub(crate) struct TableSource<'a>(pub Option<&'a Path>);

pub(crate) enum EmbeddingTable {
    Memory { data: Vec<f32>, dim: usize },
    InFile(FileTable),
}

impl EmbeddingTable {
    /// The table `vb` holds as `weight`, `rows` × `dim`: read in place if
    /// `source` allows it, else loaded (and checked) through `vb`.
    pub fn load(vb: VarBuilder, rows: usize, dim: usize, source: TableSource) -> CandleResult<Self> {
        let name = format!("{}.weight", vb.prefix());
        if let Some(path) = source.0 {
            if let Some(table) = FileTable::find(path, &name, rows, dim) {
                return Ok(Self::InFile(table));
            }
        }
        let tensor = vb.get((rows, dim), "weight")?;
        Ok(Self::Memory { data: tensor.flatten_all()?.to_vec1()?, dim })
    }

    pub fn dim(&self) -> usize {
        match self {
            Self::Memory { dim, .. } => *dim,
            Self::InFile(t) => t.dim,
        }
    }

    /// Whether the rows are read from the file as they are used.
    #[cfg(test)]
    pub fn in_file(&self) -> bool {
        matches!(self, Self::InFile(_))
    }

    /// Row `id` of every id, one after another (ids are checked against the
    /// vocabulary before a forward pass; an id past the table is a bug).
    pub fn gather(&self, ids: impl IntoIterator<Item = u32>, out: &mut [f32]) -> Result<(), Error> {
        let dim = self.dim();
        let mut bytes = Vec::new();
        for (row, id) in out.chunks_exact_mut(dim).zip(ids) {
            match self {
                Self::Memory { data, .. } => row.copy_from_slice(&data[id as usize * dim..][..dim]),
                Self::InFile(t) => t.read_row(id as usize, row, &mut bytes)?,
            }
        }
        Ok(())
    }

    /// The rows of `ids` (any shape of u32) as an (n, dim) tensor: candle's
    /// `Embedding`, for the reference engine.
    pub fn embedding(&self, ids: &Tensor) -> CandleResult<Tensor> {
        let ids = ids.flatten_all()?.to_vec1::<u32>()?;
        let mut out = vec![0f32; ids.len() * self.dim()];
        self.gather(ids.iter().copied(), &mut out).map_err(candle_core::Error::wrap)?;
        Tensor::from_vec(out, (ids.len(), self.dim()), &Device::Cpu)
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum RowType {
    F32,
    F16,
    Bf16,
}

impl RowType {
    fn parse(dtype: &str) -> Option<Self> {
        match dtype {
            "F32" => Some(Self::F32),
            "F16" => Some(Self::F16),
            "BF16" => Some(Self::Bf16),
            _ => None,
        }
    }

    fn size(self) -> usize {
        match self {
            Self::F32 => 4,
            Self::F16 | Self::Bf16 => 2,
        }
    }

    fn widen(self, bytes: &[u8], out: &mut [f32]) {
        match self {
            Self::F32 => out.iter_mut().zip(bytes.chunks_exact(4)).for_each(|(o, b)| *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            Self::F16 => out.iter_mut().zip(bytes.chunks_exact(2)).for_each(|(o, b)| *o = half::f16::from_le_bytes([b[0], b[1]]).to_f32()),
            Self::Bf16 => out.iter_mut().zip(bytes.chunks_exact(2)).for_each(|(o, b)| *o = half::bf16::from_le_bytes([b[0], b[1]]).to_f32()),
        }
    }
}

/// A table's place in a safetensors file, and the file, kept open.
pub(crate) struct FileTable {
    file: File,
    path: PathBuf,
    name: String,
    /// Byte offset of row 0 in the file.
    start: u64,
    rows: usize,
    dim: usize,
    dtype: RowType,
}

/// The safetensors format's own limit on its JSON header.
const MAX_HEADER: u64 = 100_000_000;

impl FileTable {
    /// The table `name` of `path`, if its header entry is a `rows` × `dim`
    /// float tensor lying inside the file; `None` otherwise (the caller
    /// then loads it the usual way, which reports what is wrong).
    fn find(path: &Path, name: &str, rows: usize, dim: usize) -> Option<Self> {
        let file = File::open(path).ok()?;
        let len = file.metadata().ok()?.len();
        let mut prefix = [0u8; 8];
        read_at(&file, &mut prefix, 0).ok()?;
        let header_len = u64::from_le_bytes(prefix);
        if header_len > MAX_HEADER || 8 + header_len > len {
            return None;
        }
        let mut header = vec![0u8; header_len as usize];
        read_at(&file, &mut header, 8).ok()?;
        let header: serde_json::Value = serde_json::from_slice(&header).ok()?;
        let entry = header.get(name)?;
        let dtype = RowType::parse(entry.get("dtype")?.as_str()?)?;
        let shape: Vec<u64> = entry.get("shape")?.as_array()?.iter().map(|d| d.as_u64()).collect::<Option<_>>()?;
        let offsets: Vec<u64> = entry.get("data_offsets")?.as_array()?.iter().map(|d| d.as_u64()).collect::<Option<_>>()?;
        let (&[r, d], &[begin, end]) = (shape.as_slice(), offsets.as_slice()) else { return None };
        let bytes = (rows as u64).checked_mul(dim as u64)?.checked_mul(dtype.size() as u64)?;
        let start = 8 + header_len + begin;
        if (r, d) != (rows as u64, dim as u64) || end.checked_sub(begin)? != bytes || start.checked_add(bytes)? > len {
            return None;
        }
        Some(Self { file, path: path.to_path_buf(), name: name.to_string(), start, rows, dim, dtype })
    }

    fn read_row(&self, id: usize, out: &mut [f32], bytes: &mut Vec<u8>) -> Result<(), Error> {
        if id >= self.rows {
            // Checked against the vocabulary before every pass.
            return Err(Error::Internal(format!("token id {id} past the {} rows of '{}'", self.rows, self.name)));
        }
        let row = self.dim * self.dtype.size();
        bytes.resize(row, 0);
        let at = self.start + (id * row) as u64;
        read_at(&self.file, bytes, at).map_err(|e| {
            Error::model(
                &self.path,
                format!("cannot read row {id} of '{}' at byte {at}: {e} (was the file changed after the model was opened?)", self.name),
            )
        })?;
        self.dtype.widen(bytes, out);
        Ok(())
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(file, buf, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

/// No positioned reads on this platform: tables are always loaded.
#[cfg(not(any(unix, windows)))]
fn read_at(_: &File, _: &mut [u8], _: u64) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

#[cfg(test)]
mod tests {
    use super::{EmbeddingTable, TableSource};
    use candle_core::{DType, Device, Tensor};
    use candle_nn::VarBuilder;
    use std::collections::HashMap;

    /// A table saved in each float dtype reads, row by row from the file,
    /// exactly what candle's load and conversion to f32 give.
    #[test]
    fn rows_read_in_place_match_candles_load_in_every_float_dtype() {
        let dir = tempfile::tempdir().unwrap();
        let values: Vec<f32> = (0..7 * 5).map(|i| (i as f32 - 11.0) * 0.37).collect();
        let base = Tensor::from_vec(values, (7, 5), &Device::Cpu).unwrap();
        let ids = [6u32, 0, 3, 3, 1];
        for dtype in [DType::F32, DType::F16, DType::BF16] {
            let path = dir.path().join(format!("{dtype:?}.safetensors"));
            // A second tensor first, so the table does not start at offset 0.
            let other = Tensor::ones(3, DType::F32, &Device::Cpu).unwrap();
            let tensors: HashMap<String, Tensor> =
                [("a.bias".to_string(), other), ("emb.weight".to_string(), base.to_dtype(dtype).unwrap())].into();
            candle_core::safetensors::save(&tensors, &path).unwrap();
            // SAFETY: a file this test just wrote and nothing else touches.
            let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[&path], DType::F32, &Device::Cpu) }.unwrap();
            let in_file = EmbeddingTable::load(vb.pp("emb"), 7, 5, TableSource(Some(&path))).unwrap();
            let loaded = EmbeddingTable::load(vb.pp("emb"), 7, 5, TableSource(None)).unwrap();
            assert!(in_file.in_file() && !loaded.in_file(), "{dtype:?}");
            let ids_t = Tensor::new(&ids, &Device::Cpu).unwrap();
            let want: Vec<f32> = base.to_dtype(dtype).unwrap().to_dtype(DType::F32).unwrap().embedding(&ids_t).unwrap().flatten_all().unwrap().to_vec1().unwrap();
            for table in [&in_file, &loaded] {
                let mut got = vec![0f32; ids.len() * 5];
                table.gather(ids, &mut got).unwrap();
                assert_eq!(got, want, "{dtype:?}");
            }
        }
    }

    /// A header entry that does not fit (wrong shape, past the file's end)
    /// is not read in place: loading falls back to candle's checked load.
    #[test]
    fn a_table_that_does_not_fit_its_entry_is_loaded_the_usual_way() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        let t = Tensor::zeros((4, 3), DType::F32, &Device::Cpu).unwrap();
        candle_core::safetensors::save(&HashMap::from([("emb.weight".to_string(), t)]), &path).unwrap();
        // SAFETY: a file this test just wrote and nothing else touches.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[&path], DType::F32, &Device::Cpu) }.unwrap();
        assert!(super::FileTable::find(&path, "emb.weight", 4, 3).is_some());
        assert!(super::FileTable::find(&path, "emb.weight", 3, 4).is_none(), "wrong shape");
        assert!(super::FileTable::find(&path, "emb.bias", 4, 3).is_none(), "no such tensor");
        let err = EmbeddingTable::load(vb.pp("emb"), 5, 3, TableSource(Some(&path))).err().expect("shape mismatch");
        assert!(err.to_string().contains("shape"), "{err}");
    }
}
