//! Conversions between Java values and the core's types.
//!
//! Texts cross the boundary as one UTF-8 `byte[]` plus an `int[]` of end
//! offsets: one copy for a whole batch, and no modified-UTF-8 surprises.
//! The Java side encodes with unpaired surrogates replaced by U+FFFD.

use std::collections::BTreeMap;
use std::path::PathBuf;

use jni::objects::{JByteArray, JFloatArray, JIntArray, JLongArray, JObject, JString};
use jni::sys::{jboolean, jbyte, jint, jlong};
use jni::Env;

use super::errors::{BridgeError, BridgeResult};
use crate::core::{CounterSnapshot, CrossEncoderOptions, EncoderOptions, PoolingMode, Precision, Prompt, ScoreActivation, SparseOptions, SparseVector, TextInfo};

pub(crate) fn path(env: &Env, s: &JString) -> BridgeResult<PathBuf> {
    if s.is_null() {
        return Err(BridgeError::IllegalArgument("model directory is null".into()));
    }
    Ok(PathBuf::from(s.try_to_string(env)?))
}

/// `-1` means "as the model says" for every number.
pub(crate) fn options(
    max_seq_length: jint, normalize: jint, batch_size: jint, micro_batching: jboolean, truncate_dim: jint, threads: jint,
) -> BridgeResult<EncoderOptions> {
    let optional = |v: jint, what: &str| -> BridgeResult<Option<usize>> {
        match v {
            -1 => Ok(None),
            v if v >= 0 => Ok(Some(v as usize)),
            v => Err(BridgeError::IllegalArgument(format!("{what} must not be negative, got {v}"))),
        }
    };
    Ok(EncoderOptions {
        max_seq_length: optional(max_seq_length, "max sequence length")?,
        normalize: optional(normalize, "normalize flag")?.map(|v| v != 0),
        batch_size: optional(batch_size, "batch size")?.unwrap_or(EncoderOptions::default().batch_size),
        micro_batching,
        truncate_dim: optional(truncate_dim, "truncate dimension")?,
        threads: optional(threads, "threads")?,
        ..EncoderOptions::default()
    })
}

/// `Precision.code()` on the Java side: its ordinal, FP32, BF16, INT8.
pub(crate) fn precision(code: jint) -> BridgeResult<Precision> {
    match code {
        0 => Ok(Precision::Fp32),
        1 => Ok(Precision::Bf16),
        2 => Ok(Precision::Int8),
        other => Err(BridgeError::IllegalArgument(format!("unknown precision code {other} (0 fp32, 1 bf16, 2 int8)"))),
    }
}

/// The default prompt: by name, as a literal, or (both null) the model's.
pub(crate) fn prompt(env: &Env, name: &JString, literal: &JString) -> BridgeResult<Option<Prompt>> {
    Ok(match (optional_string(env, name)?, optional_string(env, literal)?) {
        (Some(name), _) => Some(Prompt::Named(name)),
        (None, Some(text)) => Some(Prompt::Literal(text)),
        (None, None) => None,
    })
}

/// A string that may be null.
pub(crate) fn optional_string(env: &Env, s: &JString) -> BridgeResult<Option<String>> {
    if s.is_null() {
        Ok(None)
    } else {
        string(env, s).map(Some)
    }
}

/// A new Java string, as the `Object` a native method returns.
pub(crate) fn new_string<'l>(env: &mut Env<'l>, s: &str) -> BridgeResult<JObject<'l>> {
    Ok(env.new_string(s)?.into())
}

/// A map as a `String[]` of its keys and values, alternating.
pub(crate) fn string_pairs<'l>(env: &mut Env<'l>, map: &BTreeMap<String, String>) -> BridgeResult<JObject<'l>> {
    let array = env.new_object_array(int(map.len() * 2), jni::jni_str!("java/lang/String"), JObject::null())?;
    for (i, s) in map.iter().flat_map(|(k, v)| [k, v]).enumerate() {
        let value = env.new_string(s)?;
        array.set_element(env, i, &value)?;
    }
    Ok(array.into())
}

/// What happened to each text, as `int` pairs: tokens used, truncated (1) or not (0).
pub(crate) fn write_infos(env: &Env, out: &JIntArray, infos: &[TextInfo]) -> BridgeResult<()> {
    let flat: Vec<jint> = infos.iter().flat_map(|i| [int(i.tokens), jint::from(i.truncated)]).collect();
    if out.len(env)? != flat.len() {
        return Err(BridgeError::IllegalArgument(format!("info array has length {}, expected {}", out.len(env)?, flat.len())));
    }
    out.set_region(env, 0, &flat)?;
    Ok(())
}

/// Splits the UTF-8 buffer at the given end offsets into texts. Only the
/// bytes up to the last end are copied (the Java side may pass a buffer
/// with spare room at the end).
pub(crate) fn texts(env: &Env, utf8: &JByteArray, ends: &JIntArray) -> BridgeResult<(Vec<u8>, Vec<std::ops::Range<usize>>)> {
    let capacity = utf8.len(env)?;
    let mut offsets = vec![0 as jint; ends.len(env)?];
    ends.get_region(env, 0, &mut offsets)?;
    let mut ranges = Vec::with_capacity(offsets.len());
    let mut start = 0usize;
    for (i, &end) in offsets.iter().enumerate() {
        let end = usize::try_from(end).ok().filter(|&e| e >= start && e <= capacity).ok_or_else(|| {
            BridgeError::IllegalArgument(format!("text {i}: end offset {end} is out of order or out of range"))
        })?;
        ranges.push(start..end);
        start = end;
    }
    let mut signed: Vec<jbyte> = Vec::new();
    signed
        .try_reserve_exact(start)
        .map_err(|_| BridgeError::OutOfMemory(format!("cannot hold {start} bytes of texts")))?;
    signed.resize(start, 0);
    utf8.get_region(env, 0, &mut signed)?;
    let bytes = signed.into_iter().map(|b| b as u8).collect();
    Ok((bytes, ranges))
}

/// One Java string as Rust text, read as its UTF-16 code units: an
/// unpaired surrogate becomes U+FFFD, exactly as `Utf8.java` packs it.
pub(crate) fn string(env: &Env, s: &JString) -> BridgeResult<String> {
    string_start(env, s, usize::MAX)
}

/// The length of a Java string in UTF-16 code units.
pub(crate) fn string_len(env: &Env, s: &JString) -> BridgeResult<usize> {
    if s.is_null() {
        return Err(BridgeError::IllegalArgument("text is null".into()));
    }
    let raw = env.get_raw();
    // SAFETY: `raw` is the live env of this native call and `s` a non-null
    // local reference to a java.lang.String; GetStringLength throws nothing.
    let len = unsafe { ((**raw).v1_1.GetStringLength)(raw, s.as_raw()) };
    Ok(usize::try_from(len).unwrap_or(0))
}

/// The first `units` UTF-16 code units of a Java string (all of it if it
/// is shorter) as Rust text, as [`string`] reads it; only that much is
/// copied, and memory that cannot be had is an error, not an abort.
pub(crate) fn string_start(env: &Env, s: &JString, units: usize) -> BridgeResult<String> {
    let n = string_len(env, s)?.min(units);
    let out_of_memory = |_| BridgeError::OutOfMemory(format!("cannot hold a text of {n} UTF-16 code units"));
    let mut buffer: Vec<u16> = Vec::new();
    buffer.try_reserve_exact(n).map_err(out_of_memory)?;
    buffer.resize(n, 0);
    let raw = env.get_raw();
    // SAFETY: as in `string_len`; 0..n is within the string (n is at most
    // its length, which fits a jsize), so GetStringRegion throws nothing,
    // and `buffer` holds exactly n code units.
    unsafe {
        ((**raw).v1_2.GetStringRegion)(raw, s.as_raw(), 0, n as jint, buffer.as_mut_ptr());
    }
    let mut text = String::new();
    text.try_reserve(n.saturating_mul(3)).map_err(out_of_memory)?; // at most 3 UTF-8 bytes per code unit
    text.extend(char::decode_utf16(buffer).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)));
    Ok(text)
}

/// Decodes one text; invalid UTF-8 (which the Java side never sends)
/// becomes U+FFFD rather than an error.
pub(crate) fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

pub(crate) fn write_floats(env: &Env, out: &JFloatArray, values: &[f32]) -> BridgeResult<()> {
    if out.len(env)? != values.len() {
        return Err(BridgeError::IllegalArgument(format!(
            "output array has length {}, expected {}",
            out.len(env)?,
            values.len()
        )));
    }
    out.set_region(env, 0, values)?;
    Ok(())
}

pub(crate) fn write_longs(env: &Env, out: &JLongArray, values: &[u64]) -> BridgeResult<()> {
    let values: Vec<jlong> = values.iter().map(|&v| long(v)).collect();
    if out.len(env)? != values.len() {
        return Err(BridgeError::IllegalArgument(format!(
            "output array has length {}, expected {}",
            out.len(env)?,
            values.len()
        )));
    }
    out.set_region(env, 0, &values)?;
    Ok(())
}

pub(crate) fn int(v: usize) -> jint {
    jint::try_from(v).unwrap_or(jint::MAX)
}

pub(crate) fn long(v: u64) -> jlong {
    jlong::try_from(v).unwrap_or(jlong::MAX)
}

/// An encoder's counters as five longs: texts, tokens, truncated texts, passes, nanoseconds.
pub(crate) fn write_counters(env: &Env, out: &JLongArray, c: CounterSnapshot) -> BridgeResult<()> {
    write_longs(env, out, &[c.texts, c.tokens, c.truncated, c.passes, c.nanos])
}

/// Pooling modes as sentence-transformers' `pooling_mode` names them, joined by `+`.
pub(crate) fn pooling_names(modes: &[PoolingMode]) -> String {
    let name = |m: &PoolingMode| match m {
        PoolingMode::Cls => "cls",
        PoolingMode::Max => "max",
        PoolingMode::Mean => "mean",
        PoolingMode::MeanSqrtLen => "mean_sqrt_len_tokens",
        PoolingMode::WeightedMean => "weightedmean",
        PoolingMode::LastToken => "lasttoken",
    };
    modes.iter().map(name).collect::<Vec<_>>().join("+")
}

/// A SparseEncoder's options; `-1` means "as the model says".
pub(crate) fn sparse_options(max_seq_length: jint, max_active_dims: jint, batch_size: jint, threads: jint, precision_code: jint) -> BridgeResult<SparseOptions> {
    let optional = |v: jint, what: &str| -> BridgeResult<Option<usize>> {
        match v {
            -1 => Ok(None),
            v if v >= 0 => Ok(Some(v as usize)),
            v => Err(BridgeError::IllegalArgument(format!("{what} must not be negative, got {v}"))),
        }
    };
    Ok(SparseOptions {
        max_seq_length: optional(max_seq_length, "max sequence length")?,
        max_active_dims: optional(max_active_dims, "max active dims")?,
        batch_size: optional(batch_size, "batch size")?.unwrap_or(SparseOptions::default().batch_size),
        threads: optional(threads, "threads")?,
        precision: precision(precision_code)?,
        ..SparseOptions::default()
    })
}

/// Sparse vectors as an `Object[]` of three arrays: `int[]` non-zero counts
/// per vector, then every vector's `int[]` indices and `float[]` values,
/// one vector after another.
pub(crate) fn sparse_vectors<'l>(env: &mut Env<'l>, vectors: &[SparseVector]) -> BridgeResult<JObject<'l>> {
    let counts: Vec<jint> = vectors.iter().map(|v| int(v.indices.len())).collect();
    let indices: Vec<jint> = vectors.iter().flat_map(|v| v.indices.iter().map(|&i| i as jint)).collect();
    let values: Vec<f32> = vectors.iter().flat_map(|v| v.values.iter().copied()).collect();
    let (c, i, v) = (env.new_int_array(counts.len())?, env.new_int_array(indices.len())?, env.new_float_array(values.len())?);
    c.set_region(env, 0, &counts)?;
    i.set_region(env, 0, &indices)?;
    v.set_region(env, 0, &values)?;
    let array = env.new_object_array(3, jni::jni_str!("java/lang/Object"), JObject::null())?;
    array.set_element(env, 0, &c)?;
    array.set_element(env, 1, &i)?;
    array.set_element(env, 2, &v)?;
    Ok(array.into())
}

/// A CrossEncoder's options; `-1` means "as the model says", a null
/// activation the saved one.
#[allow(clippy::too_many_arguments)]
pub(crate) fn cross_options(
    env: &Env, max_length: jint, batch_size: jint, micro_batching: jboolean, prompt_name: &JString, prompt_text: &JString,
    threads: jint, precision_code: jint, activation_name: &JString,
) -> BridgeResult<CrossEncoderOptions> {
    let optional = |v: jint, what: &str| -> BridgeResult<Option<usize>> {
        match v {
            -1 => Ok(None),
            v if v >= 0 => Ok(Some(v as usize)),
            v => Err(BridgeError::IllegalArgument(format!("{what} must not be negative, got {v}"))),
        }
    };
    let activation = match optional_string(env, activation_name)? {
        None => None,
        Some(name) => Some(ScoreActivation::parse(&name).ok_or_else(|| {
            BridgeError::IllegalArgument(format!("unknown activation '{name}' (sigmoid, identity, tanh, relu, softmax, or a torch.nn class path)"))
        })?),
    };
    Ok(CrossEncoderOptions {
        max_length: optional(max_length, "max length")?,
        batch_size: optional(batch_size, "batch size")?.unwrap_or(CrossEncoderOptions::default().batch_size),
        micro_batching,
        default_prompt: prompt(env, prompt_name, prompt_text)?,
        threads: optional(threads, "threads")?,
        precision: precision(precision_code)?,
        activation,
        ..CrossEncoderOptions::default()
    })
}

/// Texts packed by `Utf8.pack`, taken two by two as (first, second) pairs.
pub(crate) fn text_pairs(env: &Env, utf8: &JByteArray, ends: &JIntArray) -> BridgeResult<Vec<(String, String)>> {
    let (bytes, ranges) = texts(env, utf8, ends)?;
    if ranges.len() % 2 != 0 {
        return Err(BridgeError::IllegalArgument(format!("{} texts do not make pairs", ranges.len())));
    }
    Ok(ranges.chunks_exact(2).map(|r| (text(&bytes[r[0].clone()]).into_owned(), text(&bytes[r[1].clone()]).into_owned())).collect())
}
