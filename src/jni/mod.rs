//! The JNI bridge. Each export is one line: it enters `EnvUnowned::with_env`
//! (which catches panics), delegates, and resolves errors through the one
//! error policy in [`errors`]. The Java peer is `org.sbert4j.NativeBridge`.

mod convert;
mod errors;
mod handle;
mod version;

use std::cell::Cell;
use std::time::Instant;

use jni::objects::{JByteArray, JClass, JFloatArray, JIntArray, JLongArray, JObject, JString};
use jni::sys::{jboolean, jint, jlong};
use jni::{Env, EnvUnowned};

use crate::core::{self, CrossEncoder, Encoder, EncoderOptions, TextInfo};
use errors::{BridgeError, BridgeResult, ThrowMapped};

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_open<'l>(
    mut env: EnvUnowned<'l>, _: JClass<'l>, dir: JString<'l>, max_seq_length: jint, normalize: jint, batch_size: jint,
    micro_batching: jboolean, truncate_dim: jint, prompt_name: JString<'l>, prompt: JString<'l>, threads: jint,
    precision: jint,
) -> jlong {
    env.with_env(|env| {
        let options = convert::options(max_seq_length, normalize, batch_size, micro_batching, truncate_dim, threads)?;
        let (default_prompt, precision) = (convert::prompt(env, &prompt_name, &prompt)?, convert::precision(precision)?);
        open(env, &dir, EncoderOptions { default_prompt, precision, ..options })
    })
    .resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_release<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong) {
    env.with_env(|_| -> BridgeResult<()> { unsafe { handle::release(h) }; Ok(()) }).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_dimension<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong) -> jint {
    env.with_env(|_| with_encoder(h, |e| Ok(convert::int(e.dimension())))).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_maxSequenceLength<'l>(
    mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong,
) -> jint {
    env.with_env(|_| with_encoder(h, |e| Ok(convert::int(e.max_seq_length())))).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_normalizes<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong) -> jboolean {
    env.with_env(|_| with_encoder(h, |e| Ok(e.normalizes()))).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_prompts<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong) -> JObject<'l> {
    env.with_env(|env| with_encoder(h, |e| convert::string_pairs(env, e.prompts()))).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_defaultPrompt<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong) -> JObject<'l> {
    env.with_env(|env| with_encoder(h, |e| convert::new_string(env, e.default_prompt()))).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_countTokens<'l>(
    mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong, text: JString<'l>, prompt: JString<'l>,
) -> jint {
    env.with_env(|env| with_encoder(h, |e| count_tokens(env, e, &text, &prompt))).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_encode<'l>(
    mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong, utf8: JByteArray<'l>, ends: JIntArray<'l>, first_index: jint,
    prompt: JString<'l>, out: JFloatArray<'l>, info: JIntArray<'l>,
) {
    env.with_env(|env| with_encoder(h, |e| encode(env, e, &utf8, &ends, first_index, &prompt, &out, &info)))
        .resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_encodeOne<'l>(
    mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong, text: JString<'l>, prompt: JString<'l>, out: JFloatArray<'l>,
    info: JIntArray<'l>,
) {
    env.with_env(|env| with_encoder(h, |e| encode_one(env, e, &text, &prompt, &out, &info))).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_lastCallCoreNanos<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>) -> jlong {
    env.with_env(|_| -> BridgeResult<jlong> { Ok(convert::long(CORE_NANOS.get())) }).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_microBatchingStats<'l>(
    mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong, out: JLongArray<'l>,
) -> jboolean {
    env.with_env(|env| with_encoder(h, |e| micro_batching_stats(env, e, &out))).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_counters<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong, out: JLongArray<'l>) {
    env.with_env(|env| with_encoder(h, |e| convert::write_counters(env, &out, e.counters()))).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_architecture<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong) -> JObject<'l> {
    env.with_env(|env| with_encoder(h, |e| convert::new_string(env, e.architecture()))).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_pooling<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong) -> JObject<'l> {
    env.with_env(|env| with_encoder(h, |e| convert::new_string(env, &convert::pooling_names(e.pooling_modes())))).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_loadedModelCount<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>) -> jint {
    env.with_env(|_| -> BridgeResult<jint> { Ok(convert::int(core::loaded_model_count())) }).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_nativeVersion<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>) -> JObject<'l> {
    env.with_env(|env| convert::new_string(env, version::version())).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_nativeAbi<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>) -> jint {
    env.with_env(|_| -> BridgeResult<jint> { Ok(version::abi()) }).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_configure<'l>(
    mut env: EnvUnowned<'l>, _: JClass<'l>, cpu: JString<'l>, threads: JString<'l>,
) {
    env.with_env(|env| configure(env, &cpu, &threads)).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_cpuPath<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>) -> JObject<'l> {
    env.with_env(|env| convert::new_string(env, core::cpu_settings()?.path.name())).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_threadBudget<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>) -> jint {
    env.with_env(|_| -> BridgeResult<jint> { Ok(convert::int(core::cpu_settings()?.threads)) }).resolve::<ThrowMapped>()
}

// The SparseEncoder (org.sbert4j.SparseEncoder).

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_sparseOpen<'l>(
    mut env: EnvUnowned<'l>, _: JClass<'l>, dir: JString<'l>, max_seq_length: jint, max_active_dims: jint, batch_size: jint,
    threads: jint, precision: jint,
) -> jlong {
    env.with_env(|env| sparse_open(env, &dir, convert::sparse_options(max_seq_length, max_active_dims, batch_size, threads, precision)?))
        .resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_sparseRelease<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong) {
    env.with_env(|_| -> BridgeResult<()> { unsafe { handle::release_sparse(h) }; Ok(()) }).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_sparseDimension<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong) -> jint {
    env.with_env(|_| with_sparse(h, |e| Ok(convert::int(e.dimension())))).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_sparseMaxSequenceLength<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong) -> jint {
    env.with_env(|_| with_sparse(h, |e| Ok(convert::int(e.max_seq_length())))).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_sparseToken<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong, index: jint) -> JObject<'l> {
    env.with_env(|env| with_sparse(h, |e| sparse_token(env, e, index))).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_sparseEncode<'l>(
    mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong, utf8: JByteArray<'l>, ends: JIntArray<'l>, prompt: JString<'l>,
) -> JObject<'l> {
    env.with_env(|env| with_sparse(h, |e| sparse_encode(env, e, &utf8, &ends, &prompt))).resolve::<ThrowMapped>()
}

fn sparse_open(env: &Env, dir: &JString, options: core::SparseOptions) -> BridgeResult<jlong> {
    Ok(handle::into_sparse_handle(core::SparseEncoder::open(convert::path(env, dir)?, options)?))
}

fn with_sparse<T>(h: jlong, f: impl FnOnce(&core::SparseEncoder) -> BridgeResult<T>) -> BridgeResult<T> {
    // SAFETY: the Java side hands us only live handles and holds its read
    // lock for the whole call (see `handle`).
    f(unsafe { handle::borrow_sparse(h)? })
}

fn sparse_token<'l>(env: &mut Env<'l>, e: &core::SparseEncoder, index: jint) -> BridgeResult<JObject<'l>> {
    match usize::try_from(index).ok().and_then(|i| e.token(i)) {
        Some(token) => convert::new_string(env, &token),
        None => Ok(JObject::null()),
    }
}

fn sparse_encode<'l>(env: &mut Env<'l>, e: &core::SparseEncoder, utf8: &JByteArray, ends: &JIntArray, prompt: &JString) -> BridgeResult<JObject<'l>> {
    let (bytes, ranges) = convert::texts(env, utf8, ends)?;
    let texts: Vec<_> = ranges.into_iter().map(|r| convert::text(&bytes[r])).collect();
    let prompt = convert::optional_string(env, prompt)?;
    let vectors = e.encode_batch(&texts, prompt.as_deref())?;
    convert::sparse_vectors(env, &vectors)
}

/// Called by the JVM when the class loader that loaded this copy of the
/// library is collected: stops the helper threads, which would otherwise
/// outlive the code they run.
#[no_mangle]
pub extern "system" fn JNI_OnUnload(_vm: *mut jni::sys::JavaVM, _reserved: *mut std::ffi::c_void) {
    // No panic may unwind into the JVM.
    let _ = std::panic::catch_unwind(core::shutdown_threads);
}

/// Diagnostics: panics inside an encoder call, to prove that the panic
/// barrier turns it into a Java exception and leaves the encoder usable.
#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_panicForTesting<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong) {
    env.with_env(|_| with_encoder(h, |_| -> BridgeResult<()> { panic!("deliberate panic for testing") })).resolve::<ThrowMapped>()
}

fn open(env: &Env, dir: &JString, options: EncoderOptions) -> BridgeResult<jlong> {
    Ok(handle::into_handle(Encoder::open(convert::path(env, dir)?, options)?))
}

fn configure(env: &Env, cpu: &JString, threads: &JString) -> BridgeResult<()> {
    let (cpu, threads) = (convert::optional_string(env, cpu)?, convert::optional_string(env, threads)?);
    core::configure_cpu(cpu.as_deref(), threads.as_deref())?;
    Ok(())
}

/// Writes (passes, texts) into `out` if `e` micro-batches; whether it does.
fn micro_batching_stats(env: &Env, e: &Encoder, out: &JLongArray) -> BridgeResult<bool> {
    let Some((passes, texts)) = e.micro_batching_stats() else { return Ok(false) };
    convert::write_longs(env, out, &[passes, texts])?;
    Ok(true)
}

fn with_encoder<T>(h: jlong, f: impl FnOnce(&Encoder) -> BridgeResult<T>) -> BridgeResult<T> {
    // SAFETY: the Java side hands us only live handles and holds its read
    // lock for the whole call (see `handle`).
    f(unsafe { handle::borrow(h)? })
}

thread_local! {
    /// The core's own time in this thread's last `encode` (nanoseconds):
    /// what a call's Java-side time is compared with to measure the bridge.
    static CORE_NANOS: Cell<u64> = const { Cell::new(0) };
}

fn count_tokens(env: &Env, encoder: &Encoder, text: &JString, prompt: &JString) -> BridgeResult<jint> {
    let prompt = convert::optional_string(env, prompt)?;
    Ok(convert::int(encoder.count_tokens(&convert::string(env, text)?, prompt.as_deref())?))
}

/// Encodes a chunk of a Java list; `first_index` is the chunk's first
/// text's index in the list, so that errors name the list's index.
#[allow(clippy::too_many_arguments)]
fn encode(
    env: &Env, encoder: &Encoder, utf8: &JByteArray, ends: &JIntArray, first_index: jint, prompt: &JString,
    out: &JFloatArray, info: &JIntArray,
) -> BridgeResult<()> {
    let (bytes, ranges) = convert::texts(env, utf8, ends)?;
    let texts: Vec<_> = ranges.into_iter().map(|r| convert::text(&bytes[r])).collect();
    encode_timed(env, encoder, &texts, prompt, out, info).map_err(|e| match e {
        BridgeError::Core(e) => BridgeError::Core(e.offset_index(usize::try_from(first_index).unwrap_or(0))),
        other => other,
    })
}

/// Encodes one string, reading only as much of it as truncation can keep:
/// its first `first_cut_chars` characters, and four times more while that
/// does not settle the kept tokens (a 500 MB string costs a few KB here).
fn encode_one(
    env: &Env, encoder: &Encoder, text: &JString, prompt: &JString, out: &JFloatArray, info: &JIntArray,
) -> BridgeResult<()> {
    let prompt = convert::optional_string(env, prompt)?;
    let len = convert::string_len(env, text)?;
    let mut units = encoder.first_cut_chars().saturating_mul(2); // a character is at most 2 code units
    let mut vector = vec![0f32; encoder.dimension()];
    let mut text_info = TextInfo::default();
    let mut core = std::time::Duration::ZERO;
    let encoded = loop {
        let start = convert::string_start(env, text, units)?;
        let started = Instant::now();
        let done = encoder.encode_start_into(&start, units >= len, prompt.as_deref(), &mut vector, Some(&mut text_info));
        core += started.elapsed();
        match done {
            Ok(false) => units = units.saturating_mul(4),
            other => break other,
        }
    };
    CORE_NANOS.set(u64::try_from(core.as_nanos()).unwrap_or(u64::MAX));
    // The one text of the call is text 0, as in a batch.
    encoded.map_err(|e| match e {
        e @ core::Error::Text { .. } => e,
        other => core::Error::Text { index: 0, source: Box::new(other) },
    })?;
    convert::write_floats(env, out, &vector)?;
    if info.is_null() {
        return Ok(());
    }
    convert::write_infos(env, info, &[text_info])
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_firstCutChars<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong) -> jint {
    env.with_env(|_| with_encoder(h, |e| Ok(convert::int(e.first_cut_chars())))).resolve::<ThrowMapped>()
}

/// Encodes into `out` (and, when `info` is not null, what happened to each
/// text into `info`), noting the core's own time in `CORE_NANOS`.
fn encode_timed<S: AsRef<str> + Sync>(
    env: &Env, encoder: &Encoder, texts: &[S], prompt: &JString, out: &JFloatArray, info: &JIntArray,
) -> BridgeResult<()> {
    let prompt = convert::optional_string(env, prompt)?;
    let mut vectors = vec![0f32; texts.len() * encoder.dimension()];
    let mut infos = (!info.is_null()).then(|| vec![TextInfo::default(); texts.len()]);
    let started = Instant::now();
    let encoded = encoder.encode_into_with(texts, prompt.as_deref(), &mut vectors, infos.as_deref_mut());
    CORE_NANOS.set(u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX));
    encoded?;
    convert::write_floats(env, out, &vectors)?;
    match infos {
        Some(infos) => convert::write_infos(env, info, &infos),
        None => Ok(()),
    }
}

// The CrossEncoder (Java peer: org.sbert4j.CrossEncoderBridge).

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_CrossEncoderBridge_open<'l>(
    mut env: EnvUnowned<'l>, _: JClass<'l>, dir: JString<'l>, max_length: jint, batch_size: jint, micro_batching: jboolean,
    prompt_name: JString<'l>, prompt: JString<'l>, threads: jint, precision: jint, activation: JString<'l>,
) -> jlong {
    env.with_env(|env| {
        let options = convert::cross_options(env, max_length, batch_size, micro_batching, &prompt_name, &prompt, threads, precision, &activation)?;
        Ok(handle::into_handle_of(CrossEncoder::open(convert::path(env, &dir)?, options)?))
    })
    .resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_CrossEncoderBridge_release<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong) {
    env.with_env(|_| -> BridgeResult<()> { unsafe { handle::release_of::<CrossEncoder>(h) }; Ok(()) }).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_CrossEncoderBridge_numLabels<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong) -> jint {
    env.with_env(|_| with_cross(h, |c| Ok(convert::int(c.num_labels())))).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_CrossEncoderBridge_maxLength<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong) -> jint {
    env.with_env(|_| with_cross(h, |c| Ok(convert::int(c.max_length())))).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_CrossEncoderBridge_activation<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong) -> JObject<'l> {
    env.with_env(|env| with_cross(h, |c| convert::new_string(env, c.activation().name()))).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_CrossEncoderBridge_prompts<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong) -> JObject<'l> {
    env.with_env(|env| with_cross(h, |c| convert::string_pairs(env, c.prompts()))).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_CrossEncoderBridge_defaultPrompt<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong) -> JObject<'l> {
    env.with_env(|env| with_cross(h, |c| convert::new_string(env, c.default_prompt()))).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_CrossEncoderBridge_predict<'l>(
    mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong, utf8: JByteArray<'l>, ends: JIntArray<'l>, first_index: jint,
    prompt: JString<'l>, out: JFloatArray<'l>,
) {
    env.with_env(|env| with_cross(h, |c| predict(env, c, &utf8, &ends, first_index, &prompt, &out))).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_CrossEncoderBridge_microBatchingStats<'l>(
    mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong, out: JLongArray<'l>,
) -> jboolean {
    env.with_env(|env| with_cross(h, |c| cross_micro_batching_stats(env, c, &out))).resolve::<ThrowMapped>()
}

fn with_cross<T>(h: jlong, f: impl FnOnce(&CrossEncoder) -> BridgeResult<T>) -> BridgeResult<T> {
    // SAFETY: the Java side (`NativeEncoder`) hands us only live handles of
    // CrossEncoders and keeps them alive for the whole call.
    f(unsafe { handle::borrow_of::<CrossEncoder>(h, "CrossEncoder")? })
}

/// Scores a chunk of pairs (texts alternating first, second) into `out`;
/// errors name the pair's index in the caller's list (`first_index` + i).
fn predict(
    env: &Env, c: &CrossEncoder, utf8: &JByteArray, ends: &JIntArray, first_index: jint, prompt: &JString, out: &JFloatArray,
) -> BridgeResult<()> {
    let pairs = convert::text_pairs(env, utf8, ends)?;
    let prompt = convert::optional_string(env, prompt)?;
    let mut scores = vec![0f32; pairs.len() * c.num_labels()];
    c.predict_into(&pairs, prompt.as_deref(), &mut scores)
        .map_err(|e| BridgeError::Core(e.offset_index(usize::try_from(first_index).unwrap_or(0))))?;
    convert::write_floats(env, out, &scores)
}

fn cross_micro_batching_stats(env: &Env, c: &CrossEncoder, out: &JLongArray) -> BridgeResult<bool> {
    let Some((passes, pairs)) = c.micro_batching_stats() else { return Ok(false) };
    convert::write_longs(env, out, &[passes, pairs])?;
    Ok(true)
}
