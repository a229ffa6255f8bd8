//! The engine's large float buffers, kept for reuse between layers and
//! passes instead of being given back to the allocator.
//!
//! A layer's outputs are megabytes at batch 32 (all-MiniLM-L6-v2: 4.5 MB
//! for the feed-forward's inner activations), allocated and freed a few
//! times per layer. glibc returns such blocks to the operating system
//! (`munmap`, or trimming the heap's top), so each new one is faulted in
//! and zeroed page by page by the kernel at its first write: 6% of an INT8
//! pass's time on a Zen 4 machine (`perf`, faults in the kernels' stores).
//! Buffers handed back here (`give`) are taken again (`take`) with their
//! pages resident. The pool is bounded (`MAX_BUFFERS`, `MAX_BYTES`): what
//! does not fit goes to the allocator as before.

use parking_lot::Mutex;

/// At most this many buffers are kept...
const MAX_BUFFERS: usize = 8;
/// ... of at most this many bytes in all.
const MAX_BYTES: usize = 32 << 20;

static POOL: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());

/// An empty vector with room for `len` floats: the smallest kept buffer
/// that is large enough, else a new one.
pub(crate) fn take(len: usize) -> Vec<f32> {
    let mut pool = POOL.lock();
    let best = pool.iter().enumerate().filter(|(_, b)| b.capacity() >= len).min_by_key(|(_, b)| b.capacity()).map(|(i, _)| i);
    match best {
        Some(i) => pool.swap_remove(i),
        None => {
            drop(pool);
            Vec::with_capacity(len)
        }
    }
}

/// Reservations smaller than this are not tried: a process that cannot
/// find 8 MiB fails elsewhere first.
const MIN_RESERVED_BYTES: usize = 8 << 20;

/// Checks, before a forward pass, that the process can have `floats`
/// floats (what the pass holds at most): reserves them fallibly and gives
/// them back at once. Address space only, no page is touched, so this
/// costs a `mmap` and a `munmap`. `Err` carries the bytes that could not
/// be reserved.
///
/// The pass's own buffers are then allocated as it goes, with Rust's
/// infallible allocation (which aborts the process on failure): where the
/// limit is the address space (`ulimit -v`, `vm.overcommit_memory = 2`),
/// what was just free stays free for them unless another thread takes it
/// meanwhile; a container's memory limit (cgroup) is not seen by the
/// allocator at all (its pages fail at first touch, by the kernel's OOM
/// killer), so no check can turn it into an error.
pub(crate) fn reserve(floats: usize) -> Result<(), usize> {
    let bytes = floats.saturating_mul(std::mem::size_of::<f32>());
    if bytes < MIN_RESERVED_BYTES {
        return Ok(());
    }
    let mut probe: Vec<f32> = Vec::new();
    probe.try_reserve_exact(floats).map_err(|_| bytes)
}

/// `len` zeros, in a kept buffer where one is large enough.
pub(crate) fn zeros(len: usize) -> Vec<f32> {
    let mut v = take(len);
    v.resize(len, 0.0);
    v
}

/// Keeps `buffer` for a later `take` if the pool has room (the smallest
/// kept buffer makes way for a larger one), else frees it.
pub(crate) fn give(mut buffer: Vec<f32>) {
    buffer.clear();
    let bytes = |b: &Vec<f32>| b.capacity() * 4;
    // Small buffers are cheap to allocate: not worth a slot.
    if bytes(&buffer) < 64 << 10 || bytes(&buffer) > MAX_BYTES {
        return;
    }
    let mut pool = POOL.lock();
    if pool.len() == MAX_BUFFERS {
        let smallest = (0..pool.len()).min_by_key(|&i| pool[i].capacity()).unwrap_or(0);
        if pool[smallest].capacity() >= buffer.capacity() {
            return;
        }
        pool.swap_remove(smallest);
    }
    pool.push(buffer);
    let mut total: usize = pool.iter().map(bytes).sum();
    while total > MAX_BYTES {
        let smallest = (0..pool.len()).min_by_key(|&i| pool[i].capacity()).unwrap_or(0);
        total -= bytes(&pool[smallest]);
        pool.swap_remove(smallest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_with_their_room_and_the_pool_stays_bounded() {
        // (The pool is the process's: other tests may take and give too,
        // so only what holds whatever they do is asserted.)
        let big = take(1 << 20);
        assert!(big.capacity() >= 1 << 20 && big.is_empty());
        give(big);
        let again = take(1 << 20);
        assert!(again.capacity() >= 1 << 20 && again.is_empty());
        let z = zeros(1000);
        assert!(z.len() == 1000 && z.iter().all(|&v| v == 0.0));
        give(again);
        give(z);
        for _ in 0..3 * MAX_BUFFERS {
            give(Vec::with_capacity(3 << 20));
        }
        let pool = POOL.lock();
        assert!(pool.len() <= MAX_BUFFERS);
        assert!(pool.iter().map(|b| b.capacity() * 4).sum::<usize>() <= MAX_BYTES);
        assert!(pool.iter().all(Vec::is_empty));
    }

    #[test]
    fn a_reservation_beyond_the_address_space_is_an_error_not_an_abort() {
        assert_eq!(reserve(1000), Ok(()), "small: not even tried");
        assert_eq!(reserve(64 << 20), Ok(()), "256 MiB of address space");
        // More than any allocator can give (isize::MAX bytes and beyond).
        assert_eq!(reserve(usize::MAX / 4), Err((usize::MAX / 4) * 4));
        assert!(reserve(usize::MAX).is_err());
    }
}
