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
    static final int ABI = 6;

    /** The library's version ({@link #VERSION} for a matching library). */
    static native String nativeVersion();

    /** The library's native-method generation ({@link #ABI} for a matching library). */
    static native int nativeAbi();

    /**
     * Fixes this library copy's CPU path ({@code auto|avx512|avx2|neon|portable}) and thread budget (a count, 0 = every
     * CPU this process may use); null: the environment ({@code SBERT4J_CPU}, {@code SBERT4J_THREADS}), then the
     * defaults. Throws for a path this CPU lacks or a bad value.
     */
    static native void configure(String cpu, String threads);

    /** The CPU path in use: avx512, avx2, neon (aarch64) or portable. */
    static native String cpuPath();

    /** The thread budget: the most threads a forward pass keeps busy. */
    static native int threadBudget();

    /**
     * Opens an encoder; {@code -1} in an int option means "as the model says" (threads: the budget). The default
     * prompt is {@code promptName} (one of the model's) if not null, else {@code prompt} if not null, else the
     * model's.
     */
    static native long open(String modelDir, int maxSequenceLength, int normalize, int batchSize, boolean microBatching,
            int truncateDim, String promptName, String prompt, int threads, int precision);

    static native void release(long handle);

    static native int dimension(long handle);

    static native int maxSequenceLength(long handle);

    static native boolean normalizes(long handle);

    /** Characters of a huge text the native side reads first; longer texts go to {@link #encodeOne} alone. */
    static native int firstCutChars(long handle);

    /** The model's prompts: names and texts, alternating. */
    static native String[] prompts(long handle);

    /** The prompt of calls that give none ({@code ""} for none). */
    static native String defaultPrompt(long handle);

    /** Tokens of {@code prompt + text} ({@code prompt} null: the default), special tokens included, untruncated. */
    static native int countTokens(long handle, String text, String prompt);

    /**
     * Encodes the texts packed in {@code utf8} (text i ends at {@code ends[i]}), each with {@code prompt} in
     * front (null: the default prompt), into {@code out}, {@code dimension} floats per text; if {@code info}
     * is not null, also writes per text the tokens used and 1 if it was truncated, else 0. The texts are a
     * chunk of a list starting at {@code firstIndex}, the index errors are reported with.
     */
    static native void encode(long handle, byte[] utf8, int[] ends, int firstIndex, String prompt, float[] out,
            int[] info);

    /** Encodes one text into {@code out} ({@code dimension} floats), as {@link #encode}. */
    static native void encodeOne(long handle, String text, String prompt, float[] out, int[] info);

    /** Writes {passes, texts} of the micro-batching queue into {@code out}; false if it is off. */
    static native boolean microBatchingStats(long handle, long[] out);

    /** Writes {texts, tokens, truncated texts, passes, nanoseconds} of the encoder's passes so far into {@code out}. */
    static native void counters(long handle, long[] out);

    /** The architecture, as {@code config.json}'s {@code model_type} names it. */
    static native String architecture(long handle);

    /** The pooling modes, as sentence-transformers names them, joined by {@code +}. */
    static native String pooling(long handle);

    static native int loadedModelCount();

    /** Nanoseconds the calling thread's last {@link #encode} spent in the Rust core. */
    static native long lastCallCoreNanos();

    /** Diagnostics for the tests: panics in Rust inside a call on {@code handle}. */
    static native void panicForTesting(long handle);

    // The SparseEncoder's natives (src/jni/mod.rs, "The SparseEncoder").

    static native long sparseOpen(String modelDir, int maxSequenceLength, int maxActiveDims, int batchSize, int threads,
            int precision);

    static native void sparseRelease(long handle);

    static native int sparseDimension(long handle);

    static native int sparseMaxSequenceLength(long handle);

    /** The vocabulary entry of a dimension, or null. */
    static native String sparseToken(long handle, int index);

    /**
     * Encodes packed texts ({@link Utf8#pack}); returns {int[] non-zero counts, int[] indices, float[] values},
     * the vectors one after another.
     */
    static native Object[] sparseEncode(long handle, byte[] utf8, int[] ends, String prompt);
}
