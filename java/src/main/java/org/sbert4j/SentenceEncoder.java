package org.sbert4j;

import java.lang.ref.Cleaner;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;

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
    /**
     * Texts per native call in {@link #encodeBatch}: bounds the native working memory, and how long an
     * interrupt or a {@link #close()} waits for the call in progress.
     */
    private static final int TEXTS_PER_CALL = 256;
    /** System property that makes the test hooks (a deliberate native panic) callable. */
    static final String TEST_HOOKS_PROPERTY = "sbert4j.testHooks";
    private static final Cleaner CLEANER = Cleaner.create();
    /** One INFO line per opened model; {@code org.sbert4j} is the logger of every sbert4j line. */
    private static final System.Logger LOG = System.getLogger("org.sbert4j");

    private final NativeEncoder nativeEncoder;
    private final Cleaner.Cleanable cleanable;
    private final int dimension;
    private final int maxSequenceLength;
    private final boolean normalizes;
    private final Map<String, String> prompts;
    private final String defaultPrompt;
    /**
     * Texts longer than this (UTF-16 code units) are never copied whole: {@link #encodeBatch} hands them to
     * the native side one by one, which reads only the beginning truncation can keep.
     */
    private final int longText;
    /** The most threads this encoder's passes keep busy. */
    private final int threads;
    /** The number format of the model's linear layers. */
    private final Precision precision;
    /** The options this encoder was opened with (a copy: {@link #withTruncateDim} reopens with them). */
    private final Builder options;
    private final EncoderInfo info;

    private SentenceEncoder(NativeEncoder nativeEncoder, int threads, Builder options, Path dir, long loadNanos) {
        this.nativeEncoder = nativeEncoder;
        this.threads = threads;
        this.precision = options.precision;
        this.options = options;
        this.cleanable = CLEANER.register(this, nativeEncoder);
        this.dimension = nativeEncoder.call(NativeBridge::dimension);
        this.maxSequenceLength = nativeEncoder.call(NativeBridge::maxSequenceLength);
        this.normalizes = nativeEncoder.call(NativeBridge::normalizes);
        String[] pairs = nativeEncoder.call(NativeBridge::prompts);
        Map<String, String> prompts = new LinkedHashMap<>();
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            prompts.put(pairs[i], pairs[i + 1]);
        }
        this.prompts = Collections.unmodifiableMap(prompts);
        this.defaultPrompt = nativeEncoder.call(NativeBridge::defaultPrompt);
        this.longText = 2 * nativeEncoder.call(NativeBridge::firstCutChars);
        this.info = new EncoderInfo(dir, nativeEncoder.call(NativeBridge::architecture), dimension, maxSequenceLength,
                nativeEncoder.call(NativeBridge::pooling), normalizes, this.prompts, defaultPrompt, precision, threads,
                NativeBridge.cpuPath(), NativeBridge.nativeVersion(), java.time.Duration.ofNanos(loadNanos));
    }

    /**
     * Opens the sentence-transformers model in {@code modelDir} with the options it declares.
     *
     * @throws NullPointerException if {@code modelDir} is null
     * @throws ModelLoadException if a file of the directory is missing or malformed (the directory itself
     *         missing included; one named like a Hugging Face Hub id says how to get a local copy)
     * @throws UnsupportedModelException if the model needs an architecture, module or option sbert4j lacks
     * @throws NativeLibraryException if the native library cannot be loaded
     */
    public static SentenceEncoder open(Path modelDir) {
        return builder(modelDir).open();
    }

    /** Options for opening {@code modelDir}. */
    public static Builder builder(Path modelDir) {
        return new Builder(modelDir);
    }

    /** Length of every vector this encoder returns (after {@link Builder#truncateDim}, if set). */
    public int dimension() {
        return dimension;
    }

    /** Texts are truncated to this many tokens, special tokens included (as sentence-transformers does). */
    public int maxSequenceLength() {
        return maxSequenceLength;
    }

    /**
     * Whether returned vectors have unit length: the model's Normalize module (unless overridden), and not
     * cut by {@link Builder#truncateDim} afterwards (sentence-transformers truncates after its modules).
     */
    public boolean normalizes() {
        return normalizes;
    }

    /** The most threads this encoder's forward passes keep busy: {@link Builder#threads}, capped at {@link #threadBudget()}. */
    public int threads() {
        return threads;
    }

    /** The number format of the model's linear layers: {@link Builder#precision} (default {@link Precision#FP32}). */
    public Precision precision() {
        return precision;
    }

    /**
     * What this encoder is: architecture, dimension, maximum sequence length, pooling, prompts, precision,
     * threads, CPU path, library version and how long opening took. Its {@code toString()} is one line for a log.
     */
    public EncoderInfo info() {
        return info;
    }

    /**
     * What this encoder has done since it was opened: texts, tokens, truncated texts, forward passes and their
     * time. Cheap (a few atomic reads); poll it for metrics (the Spring AI artifact binds it to Micrometer).
     * Truncated texts are counted here, never logged one by one.
     */
    public EncoderCounters counters() {
        long[] c = new long[5];
        nativeEncoder.call(h -> {
            NativeBridge.counters(h, c);
            return null;
        });
        return new EncoderCounters(c[0], c[1], c[2], c[3], c[4]);
    }

    /**
     * A new encoder with this one's options but vectors cut to {@code dimensions} components, as
     * sentence-transformers' {@code encode(..., truncate_dim=dimensions)} gives them; it shares the loaded
     * weights (opening it is cheap). The caller closes it. {@code dimensions} must be within 1..{@link #dimension()}.
     *
     * @throws IllegalArgumentException if {@code dimensions} is outside 1..{@link #dimension()}
     */
    public SentenceEncoder withTruncateDim(int dimensions) {
        if (dimensions < 1 || dimensions > dimension) {
            throw new IllegalArgumentException("dimensions must be within 1.." + dimension + " (this encoder's"
                    + " dimension), got " + dimensions);
        }
        Builder copy = options.copy();
        copy.truncateDim = dimensions;
        return copy.open();
    }

    /** The model's prompts by name, from {@code config_sentence_transformers.json} (empty if it has none). */
    public Map<String, String> prompts() {
        return prompts;
    }

    /**
     * The prompt put in front of texts when a call names none: {@link Builder#defaultPrompt} if set, else the
     * model's {@code default_prompt_name}; {@code ""} for none.
     */
    public String defaultPrompt() {
        return defaultPrompt;
    }

    /**
     * The embedding of one text, with the {@linkplain #defaultPrompt() default prompt}.
     *
     * @throws NullPointerException if {@code text} is null
     * @throws TextEncodingException if the text cannot be encoded (index 0)
     * @throws IllegalStateException if the encoder is closed
     */
    public float[] encode(String text) {
        return encodeOne(text, null, null);
    }

    /**
     * The embedding of one text with {@code prompt} in front of it ({@code null}: the default prompt, as in
     * every method taking a {@link Prompt}; {@link Prompt#none()} for none).
     *
     * @throws NullPointerException if {@code text} is null
     * @throws TextEncodingException if the text cannot be encoded (index 0)
     * @throws IllegalStateException if the encoder is closed
     * @throws IllegalArgumentException if {@code prompt} names a prompt the model lacks
     */
    public float[] encode(String text, Prompt prompt) {
        return encodeOne(text, promptText(prompt), null);
    }

    /**
     * The prompt for search queries, as sentence-transformers' {@code encode_query} picks it: the model's prompt
     * named {@code query}, else {@code null} (the default prompt).
     */
    public Prompt queryPrompt() {
        return prompts.containsKey("query") ? Prompt.named("query") : null;
    }

    /**
     * The prompt for documents (passages) to search in, as sentence-transformers' {@code encode_document} picks
     * it: the first of the model's prompts named {@code document}, {@code passage}, {@code corpus}, else
     * {@code null} (the default prompt).
     */
    public Prompt documentPrompt() {
        for (String name : new String[] {"document", "passage", "corpus"}) {
            if (prompts.containsKey(name)) {
                return Prompt.named(name);
            }
        }
        return null;
    }

    /** The embedding of a search query, with {@link #queryPrompt()}: sentence-transformers' {@code encode_query}. */
    public float[] encodeQuery(String query) {
        return encode(query, queryPrompt());
    }

    /**
     * The embeddings of documents to search in, with {@link #documentPrompt()}: sentence-transformers'
     * {@code encode_document}.
     */
    public float[][] encodeDocuments(List<String> documents) {
        return encodeBatch(documents, documentPrompt());
    }

    /** The embedding of one text and its token facts, with the default prompt. */
    public Encoding encodeWithInfo(String text) {
        return encodeWithInfo(text, null);
    }

    /** The embedding of one text and its token facts, with {@code prompt} in front of it (null: the default). */
    public Encoding encodeWithInfo(String text, Prompt prompt) {
        int[] info = new int[2];
        float[] vector = encodeOne(text, promptText(prompt), info);
        return new Encoding(vector, info[0], info[1] != 0);
    }

    private float[] encodeOne(String text, String prompt, int[] info) {
        Objects.requireNonNull(text, "text");
        // The string goes across as is (no packing): the least Java-side work,
        // which runs with caches the previous forward pass has just swept.
        float[] vector = new float[dimension];
        long handle = nativeEncoder.enter();
        try {
            NativeBridge.encodeOne(handle, text, prompt, vector, info);
        } finally {
            nativeEncoder.leave();
        }
        return vector;
    }

    /**
     * The embeddings of {@code texts}, in order, with the default prompt; each equal to what
     * {@link #encode} returns for the same text.
     *
     * @throws NullPointerException if {@code texts} or one of them is null (naming its index)
     * @throws TextEncodingException if a text cannot be encoded ({@link TextEncodingException#index()}: its index)
     * @throws IllegalStateException if the encoder is closed
     * @throws java.util.concurrent.CancellationException if the thread is interrupted (between chunks of 256 texts)
     */
    public float[][] encodeBatch(List<String> texts) {
        return encodeBatch(texts, null, null);
    }

    /**
     * The embeddings of {@code texts}, in order, each with {@code prompt} in front of it.
     *
     * @throws NullPointerException if {@code texts} or one of them is null (naming its index)
     * @throws TextEncodingException if a text cannot be encoded ({@link TextEncodingException#index()}: its index)
     * @throws IllegalStateException if the encoder is closed
     * @throws java.util.concurrent.CancellationException if the thread is interrupted (between chunks of 256 texts)
     * @throws IllegalArgumentException if {@code prompt} names a prompt the model lacks
     */
    public float[][] encodeBatch(List<String> texts, Prompt prompt) {
        return encodeBatch(texts, promptText(prompt), null);
    }

    /** The embeddings of {@code texts} and their token facts, in order, with the default prompt. */
    public List<Encoding> encodeBatchWithInfo(List<String> texts) {
        return encodeBatchWithInfo(texts, null);
    }

    /**
     * The embeddings of {@code texts} and their token facts, in order, each with {@code prompt} in front
     * (null: the default prompt). A pipeline flags truncated records with {@link Encoding#truncated()}.
     */
    public List<Encoding> encodeBatchWithInfo(List<String> texts, Prompt prompt) {
        int[] info = new int[2 * Objects.requireNonNull(texts, "texts").size()];
        float[][] vectors = encodeBatch(texts, promptText(prompt), info);
        List<Encoding> result = new ArrayList<>(vectors.length);
        for (int i = 0; i < vectors.length; i++) {
            result.add(new Encoding(vectors[i], info[2 * i], info[2 * i + 1] != 0));
        }
        return result;
    }

    private float[][] encodeBatch(List<String> texts, String prompt, int[] info) {
        Objects.requireNonNull(texts, "texts");
        for (int i = 0; i < texts.size(); i++) {
            if (texts.get(i) == null) {
                throw new NullPointerException("text at index " + i + " is null");
            }
        }
        float[][] result = new float[texts.size()][];
        for (int from = 0; from < texts.size(); from += TEXTS_PER_CALL) {
            if (Thread.currentThread().isInterrupted()) {
                // The interrupt status stays set for the caller's own handling.
                throw new CancellationException("encodeBatch interrupted after " + from + " of " + texts.size()
                        + " texts");
            }
            int to = Math.min(texts.size(), from + TEXTS_PER_CALL);
            // Runs of ordinary texts go across packed, one native call each; a huge text goes alone.
            int runStart = from;
            for (int i = from; i <= to; i++) {
                if (i < to && texts.get(i).length() <= longText) {
                    continue;
                }
                if (i > runStart) {
                    encodeRun(texts, runStart, i, prompt, result, info);
                }
                if (i < to) {
                    int[] one = info == null ? null : new int[2];
                    try {
                        result[i] = encodeOne(texts.get(i), prompt, one);
                    } catch (SentenceEncoderException e) {
                        String message = e.getMessage().replaceFirst("^text at index 0: ", "");
                        throw new TextEncodingException("text at index " + i + ": " + message, i, e);
                    }
                    if (one != null) {
                        System.arraycopy(one, 0, info, 2 * i, 2);
                    }
                }
                runStart = i + 1;
            }
        }
        return result;
    }

    /** Encodes {@code texts[from, to)} with one native call into {@code result} (and {@code info}). */
    private void encodeRun(List<String> texts, int from, int to, String prompt, float[][] result, int[] info) {
        float[] flat = new float[(to - from) * dimension];
        int[] runInfo = info == null ? null : new int[2 * (to - from)];
        Utf8.Packed packed = Utf8.pack(texts, from, to);
        nativeEncoder.call(h -> {
            NativeBridge.encode(h, packed.bytes, packed.ends, from, prompt, flat, runInfo);
            return null;
        });
        for (int i = from; i < to; i++) {
            result[i] = new float[dimension];
            System.arraycopy(flat, (i - from) * dimension, result[i], 0, dimension);
        }
        if (runInfo != null) {
            System.arraycopy(runInfo, 0, info, 2 * from, runInfo.length);
        }
    }

    /**
     * How many tokens {@code text} makes with the default prompt in front: special tokens included, before
     * truncation (so more than {@link #maxSequenceLength()} means {@link #encode} will truncate it). This
     * tokenizes the whole text.
     *
     * @throws NullPointerException if {@code text} is null
     * @throws IllegalStateException if the encoder is closed
     */
    public int countTokens(String text) {
        return countTokens(text, null);
    }

    /** As {@link #countTokens(String)}, with {@code prompt} in front (null: the default prompt). */
    public int countTokens(String text, Prompt prompt) {
        Objects.requireNonNull(text, "text");
        String promptText = promptText(prompt);
        return nativeEncoder.call(h -> NativeBridge.countTokens(h, text, promptText));
    }

    /** The prompt's text for the native side; null (the default prompt) for a null prompt. */
    private String promptText(Prompt prompt) {
        if (prompt == null) {
            return null;
        }
        if (prompt.name() == null) {
            return prompt.text();
        }
        String text = prompts.get(prompt.name());
        if (text == null) {
            if (prompts.isEmpty()) {
                throw new IllegalArgumentException("unknown prompt name '" + prompt.name() + "': this model declares no"
                        + " prompts (config_sentence_transformers.json has none); to put a text in front of yours,"
                        + " pass Prompt.literal(\"...\") instead of Prompt.named(...)");
            }
            throw new IllegalArgumentException("unknown prompt name '" + prompt.name() + "'; the model's prompts are: "
                    + prompts.keySet() + " (or pass any text with Prompt.literal(\"...\"))");
        }
        return text;
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

    /**
     * Diagnostics of the micro-batching queue ({@link Builder#microBatching}):
     * how many forward passes single-text {@link #encode(String)} calls have
     * shared so far, and how many texts those passes held; empty when
     * micro-batching is off.
     */
    public java.util.Optional<MicroBatchingStats> microBatchingStats() {
        long[] counts = new long[2];
        boolean on = nativeEncoder.call(h -> NativeBridge.microBatchingStats(h, counts));
        return on ? java.util.Optional.of(new MicroBatchingStats(counts[0], counts[1])) : java.util.Optional.empty();
    }

    /** Passes and texts of the micro-batching queue so far (see {@link #microBatchingStats()}). */
    public static final class MicroBatchingStats {
        private final long passes;
        private final long texts;

        MicroBatchingStats(long passes, long texts) {
            this.passes = passes;
            this.texts = texts;
        }

        /** Forward passes run for single-text calls. */
        public long passes() {
            return passes;
        }

        /** Texts those passes held. */
        public long texts() {
            return texts;
        }

        /** Texts per pass between {@code earlier} and these counts (0 if no pass ran). */
        public double meanTextsPerPassSince(MicroBatchingStats earlier) {
            long p = passes - earlier.passes;
            return p == 0 ? 0 : (double) (texts - earlier.texts) / p;
        }

        @Override
        public String toString() {
            return "MicroBatchingStats{passes=" + passes + ", texts=" + texts + "}";
        }
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

    /**
     * Releases this encoder, waiting at most {@code timeout} for calls in progress on other threads. New
     * calls throw {@link IllegalStateException} at once either way. Returns true if the encoder was released;
     * false if calls were still running when the time was up (or this thread was interrupted while waiting,
     * its interrupt status kept): the last of those calls then releases it.
     */
    public boolean close(java.time.Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        long nanos;
        try {
            nanos = Math.max(0, timeout.toNanos());
        } catch (ArithmeticException tooLong) {
            nanos = Long.MAX_VALUE;
        }
        if (!nativeEncoder.releaseWithin(nanos)) {
            return false;
        }
        cleanable.clean(); // released already: this only deregisters the cleaner
        return true;
    }

    /**
     * Test hook: makes the native side panic inside a call on this encoder. Refused unless the system
     * property {@value #TEST_HOOKS_PROPERTY} is {@code true}, so released code cannot trigger it by accident.
     */
    void panicForTesting() {
        if (!Boolean.getBoolean(TEST_HOOKS_PROPERTY)) {
            throw new UnsupportedOperationException("test hooks are off (set -D" + TEST_HOOKS_PROPERTY + "=true)");
        }
        nativeEncoder.call(h -> {
            NativeBridge.panicForTesting(h);
            return null;
        });
    }

    /** The version of these sbert4j classes (and of the native library they accept), e.g. {@code 0.1.0}. */
    public static String version() {
        return NativeBridge.VERSION;
    }

    /**
     * The CPU code path the library runs here: {@code avx512}, {@code avx2}, {@code neon} (aarch64) or {@code portable} (the best this CPU
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
        private int truncateDim = -1;
        private Prompt defaultPrompt;
        private int threads = -1;
        private Precision precision = Precision.FP32;

        private Builder(Path modelDir) {
            this.modelDir = Objects.requireNonNull(modelDir, "modelDir");
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
         * Keep only the first {@code dimensions} components of every vector, as sentence-transformers'
         * {@code truncate_dim} does for Matryoshka models: after the model's modules (its Normalize included,
         * so truncated vectors are not unit length unless {@link #normalize normalize(true)} is also set,
         * which normalizes after truncating, as {@code normalize_embeddings=True} does). Must be within
         * 1..the model's dimension (checked at {@link #open}).
         */
        public Builder truncateDim(int dimensions) {
            if (dimensions < 1) {
                throw new IllegalArgumentException("truncateDim must be at least 1, got " + dimensions);
            }
            this.truncateDim = dimensions;
            return this;
        }

        /**
         * The prompt for calls that name none, instead of the model's {@code default_prompt_name}
         * ({@link Prompt#none()} for none). A name the model lacks fails {@link #open} with an
         * {@link IllegalArgumentException} listing the model's prompts.
         */
        public Builder defaultPrompt(Prompt prompt) {
            Objects.requireNonNull(prompt, "prompt (use Prompt.none() for no prompt)");
            this.defaultPrompt = prompt;
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

        /**
         * The number format of the model's linear layers (default {@link Precision#FP32}, exactly
         * sentence-transformers' vectors); {@link Precision#BF16} and {@link Precision#INT8} trade a little quality
         * for memory (and, with the kernels for them, speed): see {@link Precision} for the schemes and their
         * measured quality. Encoders of one directory in different precisions hold different weights.
         */
        public Builder precision(Precision precision) {
            Objects.requireNonNull(precision, "precision");
            this.precision = precision;
            return this;
        }

        /**
         * Loads the model (or shares one already loaded) and returns a new encoder.
         *
         * @throws ModelLoadException if a file of the directory is missing or malformed
         * @throws UnsupportedModelException if the model needs what sbert4j lacks
         * @throws IllegalArgumentException if an option does not fit the model (a truncate dimension above its
         *         dimension, a default prompt name it lacks, a sequence length beyond its positions)
         * @throws NativeLibraryException if the native library cannot be loaded
         */
        public SentenceEncoder open() {
            NativeLoader.ensureLoaded();
            Path absolute = modelDir.toAbsolutePath();
            String dir = Objects.toString(absolute);
            String promptName = defaultPrompt == null ? null : defaultPrompt.name();
            String promptText = defaultPrompt == null ? null : defaultPrompt.text();
            long started = System.nanoTime();
            long handle;
            try {
                handle = NativeBridge.open(dir, maxSequenceLength, normalize, batchSize, microBatching, truncateDim,
                        promptName, promptText, threads, precision.code());
            } catch (ModelLoadException e) {
                throw HubIds.explain(modelDir, e);
            }
            long took = System.nanoTime() - started;
            int budget = NativeBridge.threadBudget();
            SentenceEncoder encoder = new SentenceEncoder(new NativeEncoder(handle),
                    threads > 0 ? Math.min(threads, budget) : budget, copy(), absolute, took);
            LOG.log(System.Logger.Level.INFO, "sbert4j opened {0}: {1}, dimension {2}, {3}, in {4} ms", absolute,
                    encoder.info.architecture(), encoder.dimension, precision, took / 1_000_000);
            return encoder;
        }

        /** A copy of these options (a builder's later changes do not reach an encoder's copy). */
        private Builder copy() {
            Builder b = new Builder(modelDir);
            b.maxSequenceLength = maxSequenceLength;
            b.normalize = normalize;
            b.batchSize = batchSize;
            b.microBatching = microBatching;
            b.truncateDim = truncateDim;
            b.defaultPrompt = defaultPrompt;
            b.threads = threads;
            b.precision = precision;
            return b;
        }
    }
}
