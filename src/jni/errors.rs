//! The one place where failures become Java exceptions.
//!
//! | failure                                  | Java exception                          |
//! |------------------------------------------|-----------------------------------------|
//! | invalid argument (core or bridge)        | `java.lang.IllegalArgumentException`    |
//! | use of a closed or unknown handle        | `java.lang.IllegalStateException`       |
//! | model loading, tokenization, inference   | `org.sbert4j.SentenceEncoderException`  |
//! | a Rust panic                             | `org.sbert4j.SentenceEncoderException`  |
//! | no memory for a value from Java          | `org.sbert4j.SentenceEncoderException`  |
//! | a JNI call failed (exception pending)    | the pending Java exception, unchanged   |

use jni::errors::ErrorPolicy;
use jni::strings::JNIString;
use jni::Env;

use crate::core;

const ENCODER_EXCEPTION: &str = "org/sbert4j/SentenceEncoderException";
const ILLEGAL_ARGUMENT: &str = "java/lang/IllegalArgumentException";
const ILLEGAL_STATE: &str = "java/lang/IllegalStateException";

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
    fn java_class(&self) -> &'static str {
        match self {
            BridgeError::Core(e) if matches!(e.kind(), core::Error::InvalidArgument(_)) => ILLEGAL_ARGUMENT,
            BridgeError::IllegalArgument(_) => ILLEGAL_ARGUMENT,
            BridgeError::IllegalState(_) => ILLEGAL_STATE,
            BridgeError::Core(_) | BridgeError::Jni(_) | BridgeError::OutOfMemory(_) => ENCODER_EXCEPTION,
        }
    }
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
            let class = JNIString::new(err.java_class());
            let _ = env.throw_new(class, JNIString::new(err.to_string()));
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
            JNIString::new(ENCODER_EXCEPTION),
            JNIString::new(format!("internal error in sbert4j (Rust panic): {message}")),
        );
        Ok(T::default())
    }
}
