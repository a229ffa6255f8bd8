//! Giving the memory a model load freed back to the operating system.
//!
//! Loading a model allocates far more than it keeps: the parsed
//! `tokenizer.json` (a multilingual one is 17 MB of JSON), each weight
//! tensor in float32 before it is packed, the packing's temporaries. glibc's
//! allocator keeps most of what is freed in its arenas, where it counts in
//! the process's resident memory for as long as the JVM lives; a load ends
//! by asking it to return its free pages (`malloc_trim`). Other C libraries
//! and platforms: nothing to do here.

/// Returns the allocator's free memory to the operating system, where the
/// allocator allows it (glibc); elsewhere does nothing.
pub(crate) fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: glibc's malloc_trim (since glibc 2.0) takes a byte count,
        // has no preconditions and is thread-safe (it locks each arena).
        unsafe {
            malloc_trim(0);
        }
    }
}
