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
    /** Frees the native object (the bridge's {@code release} of its kind). */
    private final java.util.function.LongConsumer release;
    /** The owning class's name, for "... is closed". */
    private final String owner;
    /** Calls in progress; {@link #CLOSING} added once release starts. */
    private final AtomicLong calls = new AtomicLong();
    private boolean released; // guarded by this
    /** A timed release gave up waiting: the last call out releases. Guarded by this. */
    private boolean abandoned;

    NativeEncoder(long handle) {
        this(handle, NativeBridge::release, "SentenceEncoder");
    }

    /** A handle of another native kind (a CrossEncoder's), freed by {@code release}. */
    NativeEncoder(long handle, java.util.function.LongConsumer release, String owner) {
        this.handle = handle;
        this.release = release;
        this.owner = owner;
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
            throw new IllegalStateException(owner + " is closed");
        }
        return handle;
    }

    void leave() {
        if (calls.decrementAndGet() == CLOSING) {
            synchronized (this) {
                if (abandoned) {
                    releaseNow(); // a timed release stopped waiting: the last call out releases
                }
                notifyAll(); // the last call out wakes a waiting release
            }
        }
    }

    /** Frees the native encoder once; the caller holds this monitor and no call is left. */
    private void releaseNow() {
        if (!released) {
            released = true;
            release.accept(handle);
        }
    }

    private void markClosing() {
        long now;
        do {
            now = calls.get();
        } while (now >= 0 && !calls.compareAndSet(now, now + CLOSING));
    }

    /**
     * Marks the encoder closed and waits up to {@code nanos} for the calls in progress to end, then frees
     * it. Returns false if calls were still running (or the wait was interrupted, the interrupt status kept):
     * then the last of them frees it.
     */
    boolean releaseWithin(long nanos) {
        markClosing();
        long deadline = System.nanoTime() + nanos;
        synchronized (this) {
            while (!released) {
                if (calls.get() == CLOSING) {
                    releaseNow();
                    notifyAll();
                    break;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    abandoned = true;
                    return false;
                }
                try {
                    wait(Math.max(1, left / 1_000_000));
                } catch (InterruptedException e) {
                    abandoned = true;
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return true;
    }

    boolean isReleased() {
        return calls.get() < 0;
    }

    /** Releases the native encoder once running calls are done; later calls do nothing. */
    @Override
    public void run() {
        markClosing();
        boolean interrupted = false;
        synchronized (this) {
            while (!released) {
                if (calls.get() == CLOSING) {
                    releaseNow();
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
