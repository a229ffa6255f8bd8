//! Conversions between Java values and the core's types.
//!
//! Texts cross the boundary as one UTF-8 `byte[]` plus an `int[]` of end
//! offsets: one copy for a whole batch, and no modified-UTF-8 surprises.
//! The Java side encodes with unpaired surrogates replaced by U+FFFD.

use std::path::PathBuf;

use jni::objects::{JByteArray, JFloatArray, JIntArray, JObject, JString};
use jni::sys::{jboolean, jbyte, jint, jlong};
use jni::Env;

use super::errors::{BridgeError, BridgeResult};
use crate::core::EncoderOptions;

pub(crate) fn path(env: &Env, s: &JString) -> BridgeResult<PathBuf> {
    if s.is_null() {
        return Err(BridgeError::IllegalArgument("model directory is null".into()));
    }
    Ok(PathBuf::from(s.try_to_string(env)?))
}

/// `-1` means "as the model says" for every number.
pub(crate) fn options(max_seq_length: jint, normalize: jint, batch_size: jint, micro_batching: jboolean, threads: jint) -> BridgeResult<EncoderOptions> {
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
        threads: optional(threads, "threads")?,
        ..EncoderOptions::default()
    })
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
    let mut signed = vec![0 as jbyte; start];
    utf8.get_region(env, 0, &mut signed)?;
    let bytes = signed.into_iter().map(|b| b as u8).collect();
    Ok((bytes, ranges))
}

/// One Java string as Rust text, read as its UTF-16 code units: an
/// unpaired surrogate becomes U+FFFD, exactly as `Utf8.java` packs it.
pub(crate) fn string(env: &Env, s: &JString) -> BridgeResult<String> {
    if s.is_null() {
        return Err(BridgeError::IllegalArgument("text is null".into()));
    }
    let raw = env.get_raw();
    // SAFETY: `raw` is the live env of this native call and `s` a non-null
    // local reference to a java.lang.String; GetStringLength and
    // GetStringRegion (JNI 1.2) throw nothing for an in-range region, and
    // `units` holds exactly `len` code units.
    let units = unsafe {
        let interface = *raw;
        let len = ((*interface).v1_1.GetStringLength)(raw, s.as_raw()).max(0);
        let mut units = vec![0u16; len as usize];
        ((*interface).v1_2.GetStringRegion)(raw, s.as_raw(), 0, len, units.as_mut_ptr());
        units
    };
    Ok(String::from_utf16_lossy(&units))
}

/// A Java string that may be null (`None`).
pub(crate) fn optional_string(env: &Env, s: &JString) -> BridgeResult<Option<String>> {
    if s.is_null() {
        return Ok(None);
    }
    Ok(Some(s.try_to_string(env)?))
}

/// A new Java string, as the `Object` a native method returns.
pub(crate) fn new_string<'l>(env: &mut Env<'l>, s: &str) -> BridgeResult<JObject<'l>> {
    Ok(env.new_string(s)?.into())
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

pub(crate) fn int(v: usize) -> jint {
    jint::try_from(v).unwrap_or(jint::MAX)
}

pub(crate) fn long(v: u64) -> jlong {
    jlong::try_from(v).unwrap_or(jlong::MAX)
}
