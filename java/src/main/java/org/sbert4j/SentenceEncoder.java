package org.sbert4j;

import java.lang.ref.Cleaner;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Turns texts into sentence embeddings with a sentence-transformers model,
 * in-process: the same vectors as Python's
 * {@code SentenceTransformer(dir).encode(texts)}.
 *
 * <pre>{@code
 * try (SentenceEncoder enc = SentenceEncoder.open(Paths.get("models/all-MiniLM-L6-v2"))) {
 *     float[] v = enc.encode("The quick brown fox");
 *     float[][] vs = enc.encodeBatch(List.of("first", "second"));
 * }
 * }</pre>
 *
 * <p>Thread-safe: share one encoder between threads. Opening the same model
 * directory again shares the loaded weights; they are freed when the last
 * encoder using them is closed. {@link #close()} is idempotent, waits for
 * calls in progress, and makes later calls throw {@link IllegalStateException}.
 * An encoder that is never closed is released when it becomes unreachable.
 */
public final class SentenceEncoder implements AutoCloseable {
    /** Texts per native call in {@link #encodeBatch}: bounds the native working memory. */
    private static final int TEXTS_PER_CALL = 1024;
    private static final Cleaner CLEANER = Cleaner.create();

    private final NativeEncoder nativeEncoder;
    private final Cleaner.Cleanable cleanable;
    private final int dimension;
    private final int maxSequenceLength;
    private final boolean normalizes;

    private SentenceEncoder(NativeEncoder nativeEncoder) {
        this.nativeEncoder = nativeEncoder;
        this.cleanable = CLEANER.register(this, nativeEncoder);
        this.dimension = nativeEncoder.call(NativeBridge::dimension);
        this.maxSequenceLength = nativeEncoder.call(NativeBridge::maxSequenceLength);
        this.normalizes = nativeEncoder.call(NativeBridge::normalizes);
    }

    /** Opens the sentence-transformers model in {@code modelDir} with the options it declares. */
    public static SentenceEncoder open(Path modelDir) {
        return builder(modelDir).open();
    }

    /** Options for opening {@code modelDir}. */
    public static Builder builder(Path modelDir) {
        return new Builder(modelDir);
    }

    /** Length of every vector this encoder returns. */
    public int dimension() {
        return dimension;
    }

    /** Texts are truncated to this many tokens, special tokens included (as sentence-transformers does). */
    public int maxSequenceLength() {
        return maxSequenceLength;
    }

    /** Whether vectors are scaled to unit length (the model's Normalize module, unless overridden). */
    public boolean normalizes() {
        return normalizes;
    }

    /** The embedding of one text. */
    public float[] encode(String text) {
        if (text == null) {
            throw new IllegalArgumentException("text is null");
        }
        // The string goes across as is (no packing): the least Java-side work,
        // which runs with caches the previous forward pass has just swept.
        float[] vector = new float[dimension];
        long handle = nativeEncoder.enter();
        try {
            NativeBridge.encodeOne(handle, text, vector);
        } finally {
            nativeEncoder.leave();
        }
        return vector;
    }

    /**
     * The embeddings of {@code texts}, in order; each equal to what
     * {@link #encode} returns for the same text.
     */
    public float[][] encodeBatch(List<String> texts) {
        if (texts == null) {
            throw new IllegalArgumentException("texts is null");
        }
        for (int i = 0; i < texts.size(); i++) {
            if (texts.get(i) == null) {
                throw new IllegalArgumentException("text at index " + i + " is null");
            }
        }
        float[][] result = new float[texts.size()][];
        for (int from = 0; from < texts.size(); from += TEXTS_PER_CALL) {
            int to = Math.min(texts.size(), from + TEXTS_PER_CALL);
            float[] flat = new float[(to - from) * dimension];
            encodeInto(Utf8.pack(texts, from, to), flat);
            for (int i = from; i < to; i++) {
                result[i] = new float[dimension];
                System.arraycopy(flat, (i - from) * dimension, result[i], 0, dimension);
            }
        }
        return result;
    }

    private void encodeInto(Utf8.Packed packed, float[] out) {
        nativeEncoder.call(h -> {
            NativeBridge.encode(h, packed.bytes, packed.ends, out);
            return null;
        });
    }

    /**
     * Diagnostics: nanoseconds the calling thread's most recent native encode
     * call spent in the Rust core (tokenizing, the forward pass, pooling),
     * that is, the call's time minus what the Java and JNI bridge added.
     * For {@link #encode}, that call is the whole of it; 0 before the first.
     */
    public static long lastEncodeCoreNanos() {
        NativeLoader.ensureLoaded();
        return NativeBridge.lastCallCoreNanos();
    }

    /** Whether {@link #close()} has run. */
    public boolean isClosed() {
        return nativeEncoder.isReleased();
    }

    /** Releases this encoder; idempotent. Waits for calls in progress on other threads. */
    @Override
    public void close() {
        cleanable.clean();
    }

    /** Test hook: makes the native side panic inside a call on this encoder. */
    void panicForTesting() {
        nativeEncoder.call(h -> {
            NativeBridge.panicForTesting(h);
            return null;
        });
    }

    /**
     * The CPU code path the library runs here: {@code avx512}, {@code avx2} or {@code portable} (the best this CPU
     * has, unless {@code -Dsbert4j.cpu} / {@code SBERT4J_CPU} forced one). Diagnostics.
     */
    public static String cpuPath() {
        NativeLoader.ensureLoaded();
        return NativeBridge.cpuPath();
    }

    /** The thread budget: the most threads one forward pass keeps busy (see {@link Builder#threads}). */
    public static int threadBudget() {
        NativeLoader.ensureLoaded();
        return NativeBridge.threadBudget();
    }

    /** How many distinct models are loaded in this process (shared between encoders). */
    public static int loadedModelCount() {
        NativeLoader.ensureLoaded();
        return NativeBridge.loadedModelCount();
    }

    /** Options for {@link SentenceEncoder}; unset options follow the model directory. */
    public static final class Builder {
        private final Path modelDir;
        private int maxSequenceLength = -1;
        private int normalize = -1;
        private int batchSize = -1;
        private boolean microBatching = true;
        private int threads = -1;

        private Builder(Path modelDir) {
            this.modelDir = modelDir;
        }

        /** Truncate texts at this many tokens instead of the model's {@code max_seq_length}. */
        public Builder maxSequenceLength(int tokens) {
            if (tokens < 2) {
                throw new IllegalArgumentException("maxSequenceLength must be at least 2, got " + tokens);
            }
            this.maxSequenceLength = tokens;
            return this;
        }

        /** Scale vectors to unit length, or not, whatever the model's {@code modules.json} says. */
        public Builder normalize(boolean normalize) {
            this.normalize = normalize ? 1 : 0;
            return this;
        }

        /** Texts per forward pass (default 32). */
        public Builder batchSize(int texts) {
            if (texts < 1) {
                throw new IllegalArgumentException("batchSize must be at least 1, got " + texts);
            }
            this.batchSize = texts;
            return this;
        }

        /**
         * Whether concurrent {@link SentenceEncoder#encode(String)} calls from several threads are coalesced
         * into one forward pass of up to {@link #batchSize} texts (default: on). A lone caller never waits for
         * others; under load, passes grow with the number of callers. Vectors are the same either way.
         */
        public Builder microBatching(boolean enabled) {
            this.microBatching = enabled;
            return this;
        }

        /**
         * The most threads this encoder's forward passes keep busy (default: the process's thread budget,
         * {@code -Dsbert4j.threads}, itself defaulting to the CPUs this process may use, cgroup quota and CPU set
         * included). Capped at that budget.
         */
        public Builder threads(int threads) {
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be at least 1, got " + threads);
            }
            this.threads = threads;
            return this;
        }

        /** Loads the model (or shares one already loaded) and returns a new encoder. */
        public SentenceEncoder open() {
            if (modelDir == null) {
                throw new IllegalArgumentException("model directory is null");
            }
            NativeLoader.ensureLoaded();
            String dir = Objects.toString(modelDir.toAbsolutePath());
            long handle = NativeBridge.open(dir, maxSequenceLength, normalize, batchSize, microBatching, threads);
            return new SentenceEncoder(new NativeEncoder(handle));
        }
    }
}
