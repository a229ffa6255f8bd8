package org.sbert4j;

import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.LongFunction;

/**
 * Owns one native encoder handle. Calls hold the read lock for their whole
 * duration and release takes the write lock, so the native memory is never
 * freed while a call is using it: a concurrent {@code close()} waits for
 * running calls, and later calls get {@link IllegalStateException}.
 *
 * <p>This object is also the {@link java.lang.ref.Cleaner} action of its
 * {@link SentenceEncoder}, so an encoder that is never closed is released
 * once it becomes unreachable. It must therefore never refer back to it.
 */
final class NativeEncoder implements Runnable {
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private long handle; // guarded by lock; 0 once released

    NativeEncoder(long handle) {
        this.handle = handle;
    }

    <T> T call(LongFunction<T> body) {
        ReentrantReadWriteLock.ReadLock read = lock.readLock();
        read.lock();
        try {
            if (handle == 0) {
                throw new IllegalStateException("SentenceEncoder is closed");
            }
            return body.apply(handle);
        } finally {
            read.unlock();
        }
    }

    boolean isReleased() {
        lock.readLock().lock();
        try {
            return handle == 0;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Releases the native encoder; later calls do nothing. */
    @Override
    public void run() {
        lock.writeLock().lock();
        try {
            if (handle != 0) {
                long h = handle;
                handle = 0;
                NativeBridge.release(h);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }
}
