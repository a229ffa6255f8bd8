package org.sbert4j;

/**
 * The native methods of libsbert4j, one per Rust export in src/jni/mod.rs.
 * Only {@link NativeEncoder} calls them, and only with a live handle.
 */
final class NativeBridge {
    private NativeBridge() {}

    /** Opens an encoder; {@code -1} in an int option means "as the model says". */
    static native long open(String modelDir, int maxSequenceLength, int normalize, int batchSize, boolean microBatching);

    static native void release(long handle);

    static native int dimension(long handle);

    static native int maxSequenceLength(long handle);

    static native boolean normalizes(long handle);

    /**
     * Encodes the texts packed in {@code utf8} (text i ends at {@code ends[i]})
     * into {@code out}, {@code dimension} floats per text.
     */
    static native void encode(long handle, byte[] utf8, int[] ends, float[] out);

    /** Encodes one text into {@code out} ({@code dimension} floats). */
    static native void encodeOne(long handle, String text, float[] out);

    static native int loadedModelCount();

    /** Nanoseconds the calling thread's last {@link #encode} spent in the Rust core. */
    static native long lastCallCoreNanos();

    /** Diagnostics for the tests: panics in Rust inside a call on {@code handle}. */
    static native void panicForTesting(long handle);
}
