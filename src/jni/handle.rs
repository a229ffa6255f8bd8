//! Encoder handles: the `long` the Java side keeps for each open encoder.
//!
//! A handle is a `Box<Encoder>` turned into a raw pointer. The Java class
//! `NativeEncoder` guarantees that `release` runs once, and never while a
//! call that borrowed the handle is still running (a read-write lock), so
//! no use-after-free can happen here.

use jni::sys::jlong;

use super::errors::{BridgeError, BridgeResult};
use crate::core::{Encoder, SparseEncoder};

pub(crate) fn into_handle(encoder: Encoder) -> jlong {
    Box::into_raw(Box::new(encoder)) as jlong
}

/// Borrows the encoder behind `handle`.
///
/// # Safety
/// `handle` must come from [`into_handle`] and not have been released.
pub(crate) unsafe fn borrow<'a>(handle: jlong) -> BridgeResult<&'a Encoder> {
    (handle as *const Encoder)
        .as_ref()
        .ok_or_else(|| BridgeError::IllegalState("sentence encoder is closed".into()))
}

/// Frees the encoder behind `handle` (0 is ignored).
///
/// # Safety
/// `handle` must come from [`into_handle`], be released once, and not be
/// borrowed by any running call.
pub(crate) unsafe fn release(handle: jlong) {
    if handle != 0 {
        drop(Box::from_raw(handle as *mut Encoder));
    }
}

// The same for any native object behind a handle (the CrossEncoder's
// handles, whose Java owner, `NativeEncoder` too, gives the same guarantees).

pub(crate) fn into_handle_of<T>(object: T) -> jlong {
    Box::into_raw(Box::new(object)) as jlong
}

/// Borrows the `T` behind `handle`.
///
/// # Safety
/// `handle` must come from [`into_handle_of::<T>`] and not have been released.
pub(crate) unsafe fn borrow_of<'a, T>(handle: jlong, what: &str) -> BridgeResult<&'a T> {
    (handle as *const T).as_ref().ok_or_else(|| BridgeError::IllegalState(format!("{what} is closed")))
}

/// Frees the `T` behind `handle` (0 is ignored).
///
/// # Safety
/// `handle` must come from [`into_handle_of::<T>`], be released once, and
/// not be borrowed by any running call.
pub(crate) unsafe fn release_of<T>(handle: jlong) {
    if handle != 0 {
        drop(Box::from_raw(handle as *mut T));
    }
}

/// A SparseEncoder's handle, as [`into_handle`] (the Java class
/// `SparseEncoder` keeps the same promises as `NativeEncoder`: release
/// once, never while a call holds the handle, by a read-write lock).
pub(crate) fn into_sparse_handle(encoder: SparseEncoder) -> jlong {
    Box::into_raw(Box::new(encoder)) as jlong
}

/// # Safety
/// `handle` must come from [`into_sparse_handle`] and not have been released.
pub(crate) unsafe fn borrow_sparse<'a>(handle: jlong) -> BridgeResult<&'a SparseEncoder> {
    (handle as *const SparseEncoder).as_ref().ok_or_else(|| BridgeError::IllegalState("sparse encoder is closed".into()))
}

/// # Safety
/// `handle` must come from [`into_sparse_handle`], be released once, and
/// not be borrowed by any running call.
pub(crate) unsafe fn release_sparse(handle: jlong) {
    if handle != 0 {
        drop(Box::from_raw(handle as *mut SparseEncoder));
    }
}
