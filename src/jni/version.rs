//! The version this library reports to the Java classes that load it, which
//! refuse a library of another version (a stale `libsbert4j.so` found on
//! `java.library.path`). The ABI number changes whenever a native method's
//! signature or meaning changes; the Java side (`NativeBridge.ABI`) must
//! agree.
//!
//! Both are read at run time from one record in the library's read-only
//! data (`sbert4j-native-version:<version>:abi:<n>:`), so a test can make a
//! "stale" library by patching a copy of the file.

const RECORD: &str = concat!("sbert4j-native-version:", env!("CARGO_PKG_VERSION"), ":abi:", "6", ":");

fn field(index: usize) -> &'static str {
    // black_box: read the record from the file's data, not from constants
    // the compiler folded into the code.
    std::hint::black_box(RECORD).split(':').nth(index).unwrap_or("")
}

/// The crate's version (the same as the Gradle project's).
pub(crate) fn version() -> &'static str {
    field(1)
}

/// The native methods' generation (-1 if the record is damaged).
pub(crate) fn abi() -> i32 {
    field(3).parse().unwrap_or(-1)
}
