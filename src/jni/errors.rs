//! The one place where failures become Java exceptions.
//!
//! | failure                                  | Java exception (all but the first three `SentenceEncoderException`s) |
//! |------------------------------------------|-----------------------------------------------------|
//! | invalid argument (core or bridge)        | `java.lang.IllegalArgumentException`                |
//! | use of a closed or unknown handle        | `java.lang.IllegalStateException`                   |
//! | a JNI call failed (exception pending)    | the pending Java exception, unchanged               |
//! | a model file missing or malformed        | `org.sbert4j.ModelLoadException` (path)             |
//! | a model asking for what is unsupported   | `org.sbert4j.UnsupportedModelException` (path, feature, value) |
//! | one text of a call failed                | `org.sbert4j.TextEncodingException` (index)         |
//! | an internal error, a Rust panic, the CPU | `org.sbert4j.NativeLibraryException`                |
//! | tokenization, inference, no memory       | `org.sbert4j.SentenceEncoderException`              |
//!
//! Internal errors and panics are bugs: their message names the library's
//! version and asks for a report.

use jni::errors::ErrorPolicy;
use jni::objects::{JThrowable, JValue};
use jni::strings::JNIString;
use jni::{jni_sig, Env};

use crate::core;

const ENCODER_EXCEPTION: &str = "org/sbert4j/SentenceEncoderException";
const MODEL_LOAD: &str = "org/sbert4j/ModelLoadException";
const UNSUPPORTED_MODEL: &str = "org/sbert4j/UnsupportedModelException";
const NATIVE_LIBRARY: &str = "org/sbert4j/NativeLibraryException";
const TEXT_ENCODING: &str = "org/sbert4j/TextEncodingException";
const ILLEGAL_ARGUMENT: &str = "java/lang/IllegalArgumentException";
const ILLEGAL_STATE: &str = "java/lang/IllegalStateException";

/// What an internal error's message ends with: the version, and what to do.
fn report_request() -> String {
    format!(
        " (sbert4j {}: this is a bug in sbert4j, not in your input; please report it with this message and, \
         if you can, the model and text that caused it)",
        super::version::version()
    )
}

/// The Java exception a failure becomes, with the data its constructor takes.
enum JavaException<'a> {
    /// A class with a `(String)` constructor.
    Plain(&'static str),
    ModelLoad { path: String },
    Unsupported { path: String, what: &'a str, value: &'a str },
    Text { index: usize },
}

/// Every way a native method can fail.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BridgeError {
    #[error(transparent)]
    Core(#[from] core::Error),
    #[error("JNI call failed: {0}")]
    Jni(#[from] jni::errors::Error),
    #[error("{0}")]
    IllegalArgument(String),
    #[error("{0}")]
    IllegalState(String),
    /// Memory for a value from Java could not be had (reported, never an abort).
    #[error("out of memory: {0}")]
    OutOfMemory(String),
}

impl BridgeError {
    fn java_exception(&self) -> JavaException<'_> {
        use core::Error as E;
        match self {
            BridgeError::Core(e) if matches!(e.kind(), E::InvalidArgument(_)) => JavaException::Plain(ILLEGAL_ARGUMENT),
            BridgeError::Core(E::Text { index, .. }) => JavaException::Text { index: *index },
            BridgeError::Core(E::Model { path, .. }) => JavaException::ModelLoad { path: path.display().to_string() },
            BridgeError::Core(E::Unsupported { path, what, value, .. }) => {
                JavaException::Unsupported { path: path.display().to_string(), what, value }
            }
            BridgeError::Core(E::Internal(_) | E::Platform(_)) => JavaException::Plain(NATIVE_LIBRARY),
            BridgeError::IllegalArgument(_) => JavaException::Plain(ILLEGAL_ARGUMENT),
            BridgeError::IllegalState(_) => JavaException::Plain(ILLEGAL_STATE),
            BridgeError::Core(_) | BridgeError::Jni(_) | BridgeError::OutOfMemory(_) => JavaException::Plain(ENCODER_EXCEPTION),
        }
    }

    /// The exception's message: the error's own, and for a bug the version and a request for a report.
    fn message(&self) -> String {
        match self {
            BridgeError::Core(e) if matches!(e.kind(), core::Error::Internal(_)) => format!("{self}{}", report_request()),
            other => other.to_string(),
        }
    }
}

/// Throws `exception` with `message`; if it cannot be made (no memory, say),
/// a plain `SentenceEncoderException` with the message.
fn throw(env: &mut Env, exception: JavaException, message: &str) {
    let thrown = match exception {
        JavaException::Plain(class) => {
            // jni reports the exception now pending as `Err(JavaException)`; checked below.
            let _ = env.throw_new(JNIString::new(class), JNIString::new(message));
            Ok(())
        }
        JavaException::ModelLoad { path } => throw_constructed(env, message, |env, m| {
            let path = env.new_string(&path)?;
            env.new_object(JNIString::new(MODEL_LOAD), jni_sig!("(Ljava/lang/String;Ljava/lang/String;)V"), &[
                JValue::from(m),
                JValue::from(&path),
            ])
        }),
        JavaException::Unsupported { path, what, value } => throw_constructed(env, message, |env, m| {
            let (path, what, value) = (env.new_string(&path)?, env.new_string(what)?, env.new_string(value)?);
            env.new_object(
                JNIString::new(UNSUPPORTED_MODEL),
                jni_sig!("(Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;Ljava/lang/String;)V"),
                &[JValue::from(m), JValue::from(&path), JValue::from(&what), JValue::from(&value)],
            )
        }),
        JavaException::Text { index } => throw_constructed(env, message, |env, m| {
            let index = i32::try_from(index).unwrap_or(i32::MAX);
            env.new_object(JNIString::new(TEXT_ENCODING), jni_sig!("(Ljava/lang/String;I)V"), &[
                JValue::from(m),
                JValue::Int(index),
            ])
        }),
    };
    if thrown.is_err() || !env.exception_check() {
        if env.exception_check() {
            env.exception_clear();
        }
        let _ = env.throw_new(JNIString::new(ENCODER_EXCEPTION), JNIString::new(message));
    }
}

/// Throws the exception `construct` makes from the message string.
fn throw_constructed<'l>(
    env: &mut Env<'l>, message: &str,
    construct: impl FnOnce(&mut Env<'l>, &jni::objects::JString<'l>) -> jni::errors::Result<jni::objects::JObject<'l>>,
) -> jni::errors::Result<()> {
    let message = env.new_string(message)?;
    let exception = construct(env, &message)?;
    let exception = env.cast_local::<JThrowable>(exception)?;
    // The exception is made: throwing it cannot fail, and jni reports the
    // exception now pending as `Err(JavaException)`; `throw` checks it is.
    let _ = env.throw(exception);
    Ok(())
}

pub(crate) type BridgeResult<T> = Result<T, BridgeError>;

/// The error policy of every sbert4j native method: throw the mapped Java
/// exception (unless one is already pending) and return a default value
/// that Java never sees.
pub(crate) struct ThrowMapped;

impl<T: Default> ErrorPolicy<T, BridgeError> for ThrowMapped {
    type Captures<'unowned_env_local: 'native_method, 'native_method> = ();

    fn on_error<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _captures: &mut (),
        err: BridgeError,
    ) -> jni::errors::Result<T> {
        if !env.exception_check() {
            let message = err.message();
            throw(env, err.java_exception(), &message);
        }
        Ok(T::default())
    }

    fn on_panic<'unowned_env_local: 'native_method, 'native_method>(
        env: &mut Env<'unowned_env_local>,
        _captures: &mut (),
        payload: Box<dyn std::any::Any + Send + 'static>,
    ) -> jni::errors::Result<T> {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-string panic payload".into());
        // Dropping an arbitrary payload could itself panic; leak it instead.
        std::mem::forget(payload);
        if env.exception_check() {
            env.exception_clear();
        }
        let _ = env.throw_new(
            JNIString::new(NATIVE_LIBRARY),
            JNIString::new(format!("internal error in sbert4j (Rust panic): {message}{}", report_request())),
        );
        Ok(T::default())
    }
}
