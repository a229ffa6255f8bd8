package org.sbert4j;

/**
 * The native methods of libsbert4j, one per Rust export in src/jni/mod.rs.
 * Only {@link NativeEncoder} calls them, and only with a live handle.
 */
final class NativeBridge {
    private NativeBridge() {}

    /** The library version these classes need: the build's version (checked by a test). */
    static final String VERSION = "0.1.0";
    /** The native methods' generation these classes call (src/jni/version.rs); changes with any signature. */
    static final int ABI = 2;

    /** The library's version ({@link #VERSION} for a matching library). */
    static native String nativeVersion();

    /** The library's native-method generation ({@link #ABI} for a matching library). */
    static native int nativeAbi();

    /**
     * Fixes this library copy's CPU path ({@code auto|avx512|avx2|portable}) and thread budget (a count, 0 = every
     * CPU this process may use); null: the environment ({@code SBERT4J_CPU}, {@code SBERT4J_THREADS}), then the
     * defaults. Throws for a path this CPU lacks or a bad value.
     */
    static native void configure(String cpu, String threads);

    /** The CPU path in use: avx512, avx2 or portable. */
    static native String cpuPath();

    /** The thread budget: the most threads a forward pass keeps busy. */
    static native int threadBudget();

    /** Opens an encoder; {@code -1} in an int option means "as the model says" (threads: the budget). */
    static native long open(String modelDir, int maxSequenceLength, int normalize, int batchSize, boolean microBatching,
            int threads);

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
