package org.sbert4j;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;

/**
 * Owns one native encoder handle. Every call is counted in while it runs,
 * and release first marks the encoder closed, then waits until no call is
 * left, so the native memory is never freed while a call is using it: a
 * concurrent {@code close()} waits for running calls, and later calls get
 * {@link IllegalStateException}.
 *
 * <p>The count is one atomic word (calls in progress, with the sign bit set
 * once closing starts): entering and leaving a call is one atomic add each,
 * which matters because a call's Java-side work runs with caches the
 * forward pass has just swept.
 *
 * <p>This object is also the {@link java.lang.ref.Cleaner} action of its
 * {@link SentenceEncoder}, so an encoder that is never closed is released
 * once it becomes unreachable. It must therefore never refer back to it.
 */
final class NativeEncoder implements Runnable {
    private static final long CLOSING = Long.MIN_VALUE;

    private final long handle;
    /** Calls in progress; {@link #CLOSING} added once release starts. */
    private final AtomicLong calls = new AtomicLong();
    private boolean released; // guarded by this

    NativeEncoder(long handle) {
        this.handle = handle;
    }

    <T> T call(LongFunction<T> body) {
        long h = enter();
        try {
            return body.apply(h);
        } finally {
            leave();
        }
    }

    /**
     * Counts a call in and returns the handle, valid until the matching
     * {@link #leave()}, which must follow in a {@code finally} block.
     */
    long enter() {
        if (calls.getAndIncrement() < 0) {
            leave();
            throw new IllegalStateException("SentenceEncoder is closed");
        }
        return handle;
    }

    void leave() {
        if (calls.decrementAndGet() == CLOSING) {
            synchronized (this) {
                notifyAll(); // the last call out wakes a waiting release
            }
        }
    }

    boolean isReleased() {
        return calls.get() < 0;
    }

    /** Releases the native encoder once running calls are done; later calls do nothing. */
    @Override
    public void run() {
        long now;
        do {
            now = calls.get();
        } while (now >= 0 && !calls.compareAndSet(now, now + CLOSING));
        boolean interrupted = false;
        synchronized (this) {
            while (!released) {
                if (calls.get() == CLOSING) {
                    released = true;
                    NativeBridge.release(handle);
                    notifyAll();
                } else {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        interrupted = true; // release must still happen: keep waiting
                    }
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
