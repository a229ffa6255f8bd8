package org.sbert4j;

/**
 * The CrossEncoder's native methods, one per {@code Java_org_sbert4j_CrossEncoderBridge_*} export in
 * src/jni/mod.rs. Only {@link CrossEncoder} calls them, through its {@link NativeEncoder}, with a live handle.
 */
final class CrossEncoderBridge {
    private CrossEncoderBridge() {}

    /**
     * Opens a CrossEncoder; {@code -1} in an int option means "as the model says" (threads: the budget). The
     * default prompt is {@code promptName} if not null, else {@code prompt} if not null, else the model's; the
     * activation is {@code activation} (a name or torch class path) if not null, else the saved one.
     */
    static native long open(String modelDir, int maxLength, int batchSize, boolean microBatching, String promptName,
            String prompt, int threads, int precision, String activation);

    static native void release(long handle);

    static native int numLabels(long handle);

    static native int maxLength(long handle);

    /** The activation's torch class name: Sigmoid, Identity, Tanh, ReLU or Softmax. */
    static native String activation(long handle);

    /** The model's prompts as name, text, name, text, ... */
    static native String[] prompts(long handle);

    static native String defaultPrompt(long handle);

    /**
     * Scores the pairs packed in {@code utf8} (texts alternating first, second; {@code ends} as {@link Utf8#pack})
     * into {@code out}, {@code numLabels} floats per pair; {@code prompt} null is the default prompt. Errors name
     * the pair's index plus {@code firstIndex}.
     */
    static native void predict(long handle, byte[] utf8, int[] ends, int firstIndex, String prompt, float[] out);

    /** Writes (passes, pairs) if the CrossEncoder micro-batches; whether it does. */
    static native boolean microBatchingStats(long handle, long[] out);
}
