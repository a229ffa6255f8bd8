//! The JNI bridge. Each export is one line: it enters `EnvUnowned::with_env`
//! (which catches panics), delegates, and resolves errors through the one
//! error policy in [`errors`]. The Java peer is `org.sbert4j.NativeBridge`.

mod convert;
mod errors;
mod handle;
mod version;

use std::cell::Cell;
use std::time::Instant;

use jni::objects::{JByteArray, JClass, JFloatArray, JIntArray, JObject, JString};
use jni::sys::{jboolean, jint, jlong};
use jni::{Env, EnvUnowned};

use crate::core::{self, Encoder, EncoderOptions};
use errors::{BridgeResult, ThrowMapped};

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_open<'l>(
    mut env: EnvUnowned<'l>, _: JClass<'l>, dir: JString<'l>, max_seq_length: jint, normalize: jint, batch_size: jint,
    micro_batching: jboolean, threads: jint,
) -> jlong {
    env.with_env(|env| open(env, &dir, convert::options(max_seq_length, normalize, batch_size, micro_batching, threads)?)).resolve::<ThrowMapped>()
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
pub extern "system" fn Java_org_sbert4j_NativeBridge_encode<'l>(
    mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong, utf8: JByteArray<'l>, ends: JIntArray<'l>, out: JFloatArray<'l>,
) {
    env.with_env(|env| with_encoder(h, |e| encode(env, e, &utf8, &ends, &out))).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_encodeOne<'l>(
    mut env: EnvUnowned<'l>, _: JClass<'l>, h: jlong, text: JString<'l>, out: JFloatArray<'l>,
) {
    env.with_env(|env| with_encoder(h, |e| encode_one(env, e, &text, &out))).resolve::<ThrowMapped>()
}

#[no_mangle]
pub extern "system" fn Java_org_sbert4j_NativeBridge_lastCallCoreNanos<'l>(mut env: EnvUnowned<'l>, _: JClass<'l>) -> jlong {
    env.with_env(|_| -> BridgeResult<jlong> { Ok(convert::long(CORE_NANOS.get())) }).resolve::<ThrowMapped>()
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

fn encode(env: &Env, encoder: &Encoder, utf8: &JByteArray, ends: &JIntArray, out: &JFloatArray) -> BridgeResult<()> {
    let (bytes, ranges) = convert::texts(env, utf8, ends)?;
    let texts: Vec<_> = ranges.into_iter().map(|r| convert::text(&bytes[r])).collect();
    encode_timed(env, encoder, &texts, out)
}

fn encode_one(env: &Env, encoder: &Encoder, text: &JString, out: &JFloatArray) -> BridgeResult<()> {
    encode_timed(env, encoder, &[convert::string(env, text)?], out)
}

/// Encodes into `out`, noting the core's own time in `CORE_NANOS`.
fn encode_timed<S: AsRef<str> + Sync>(env: &Env, encoder: &Encoder, texts: &[S], out: &JFloatArray) -> BridgeResult<()> {
    let mut vectors = vec![0f32; texts.len() * encoder.dimension()];
    let started = Instant::now();
    let encoded = encoder.encode_into(texts, &mut vectors);
    CORE_NANOS.set(u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX));
    encoded?;
    convert::write_floats(env, out, &vectors)
}
