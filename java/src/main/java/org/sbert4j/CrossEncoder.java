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
 * Scores (query, document) pairs with a sentence-transformers CrossEncoder (a reranker), in-process: the same
 * scores as Python's {@code CrossEncoder(dir).predict(pairs)} and the same order as {@code .rank(query, docs)}.
 *
 * <pre>{@code
 * try (CrossEncoder reranker = CrossEncoder.open(Paths.get("models/ms-marco-MiniLM-L6-v2"))) {
 *     float s = reranker.score("How many people live in Berlin?", "Berlin has 3.5 million inhabitants.");
 *     List<RankedDocument> best = reranker.rank(query, documents, 5);
 * }
 * }</pre>
 *
 * <p>Both saved formats load: sentence-transformers 6's ({@code modules.json},
 * {@code config_sentence_transformers.json}) and older releases' (a transformers checkpoint alone, as
 * cross-encoder/ms-marco-* and BAAI/bge-reranker-* are published). Scores are after the model's activation
 * (Sigmoid for one label unless the model saved another; see {@link Builder#activation}). A model with several
 * labels gives a score per label: {@link #labelScores}, {@link #predict}.
 *
 * <p>Thread-safe: share one CrossEncoder between threads; concurrent single-pair calls are coalesced into one
 * forward pass ({@link Builder#microBatching}). {@link #close()} is idempotent, waits for calls in progress, and
 * makes later calls throw {@link IllegalStateException}. Failures are {@link SentenceEncoderException}s (a model that cannot
 * load: {@link ModelLoadException}); bad arguments are {@link IllegalArgumentException}s, null ones
 * {@link NullPointerException}s naming the argument.
 */
public final class CrossEncoder implements AutoCloseable {
    /** Pairs per native call: bounds the native working memory and how long a close waits. */
    private static final int PAIRS_PER_CALL = 128;
    private static final Cleaner CLEANER = Cleaner.create();

    private final NativeEncoder nativeEncoder;
    private final Cleaner.Cleanable cleanable;
    private final int numLabels;
    private final int maxLength;
    private final String activation;
    private final Map<String, String> prompts;
    private final String defaultPrompt;
    private final int threads;
    private final Precision precision;

    private CrossEncoder(NativeEncoder nativeEncoder, int threads, Precision precision) {
        this.nativeEncoder = nativeEncoder;
        this.cleanable = CLEANER.register(this, nativeEncoder);
        this.threads = threads;
        this.precision = precision;
        this.numLabels = nativeEncoder.call(CrossEncoderBridge::numLabels);
        this.maxLength = nativeEncoder.call(CrossEncoderBridge::maxLength);
        this.activation = nativeEncoder.call(CrossEncoderBridge::activation);
        String[] pairs = nativeEncoder.call(CrossEncoderBridge::prompts);
        Map<String, String> prompts = new LinkedHashMap<>();
        for (int i = 0; i + 1 < pairs.length; i += 2) {
            prompts.put(pairs[i], pairs[i + 1]);
        }
        this.prompts = Collections.unmodifiableMap(prompts);
        this.defaultPrompt = nativeEncoder.call(CrossEncoderBridge::defaultPrompt);
    }

    /** Opens the CrossEncoder in {@code modelDir} with the options it declares. */
    public static CrossEncoder open(Path modelDir) {
        return builder(modelDir).open();
    }

    public static Builder builder(Path modelDir) {
        return new Builder(modelDir);
    }

    /** Scores per pair: the model's label count (1 for a reranker). */
    public int numLabels() {
        return numLabels;
    }

    /** Pairs are truncated to this many tokens (special tokens included), longest text first. */
    public int maxLength() {
        return maxLength;
    }

    /** The activation applied to the logits: Sigmoid, Identity, Tanh, ReLU or Softmax. */
    public String activation() {
        return activation;
    }

    /** The model's prompts by name ({@code config_sentence_transformers.json}); put in front of the query. */
    public Map<String, String> prompts() {
        return prompts;
    }

    /** The prompt calls that name none get ("" for none). */
    public String defaultPrompt() {
        return defaultPrompt;
    }

    /** The most threads this CrossEncoder's forward passes keep busy. */
    public int threads() {
        return threads;
    }

    public Precision precision() {
        return precision;
    }

    /** The score of {@code document} against {@code query} (one-label models; else see {@link #labelScores}). */
    public float score(String query, String document) {
        requireOneLabel("score");
        return predict(Collections.singletonList(Map.entry(nonNull(query, "query"), nonNull(document, "document"))),
                null)[0][0];
    }

    /** The score of each document against {@code query}, in order (one-label models). */
    public float[] score(String query, List<String> documents) {
        return score(query, documents, null);
    }

    /** As {@link #score(String, List)}, with {@code prompt} in front of the query (null: the default prompt). */
    public float[] score(String query, List<String> documents, Prompt prompt) {
        requireOneLabel("score");
        float[][] rows = predict(pairs(query, documents), prompt);
        float[] scores = new float[rows.length];
        for (int i = 0; i < rows.length; i++) {
            scores[i] = rows[i][0];
        }
        return scores;
    }

    /** Every label's score of {@code document} against {@code query}. */
    public float[] labelScores(String query, String document) {
        return predict(Collections.singletonList(Map.entry(nonNull(query, "query"), nonNull(document, "document"))),
                null)[0];
    }

    /** Every label's score of each document against {@code query}: one row per document. */
    public float[][] labelScores(String query, List<String> documents) {
        return predict(pairs(query, documents), null);
    }

    /**
     * The documents' indices and scores against {@code query}, best first, the first {@code topK} of them (as
     * sentence-transformers' {@code rank(query, documents, top_k)}; equal scores keep the documents' order).
     * One-label models.
     */
    public List<RankedDocument> rank(String query, List<String> documents, int topK) {
        return rank(query, documents, topK, null);
    }

    /** All documents, best first. */
    public List<RankedDocument> rank(String query, List<String> documents) {
        return rank(query, documents, Integer.MAX_VALUE, null);
    }

    /** As {@link #rank(String, List, int)}, with {@code prompt} in front of the query (null: the default). */
    public List<RankedDocument> rank(String query, List<String> documents, int topK, Prompt prompt) {
        if (topK < 0) {
            throw new IllegalArgumentException("topK must not be negative, got " + topK);
        }
        float[] scores = score(query, documents, prompt);
        List<RankedDocument> ranked = new ArrayList<>(scores.length);
        for (int i = 0; i < scores.length; i++) {
            ranked.add(new RankedDocument(i, scores[i]));
        }
        ranked.sort((a, b) -> Float.compare(b.score(), a.score()));
        return Collections.unmodifiableList(ranked.subList(0, Math.min(topK, ranked.size())));
    }

    /**
     * Every label's score of each (first, second) pair, as sentence-transformers' {@code predict(pairs)}: one row
     * of {@link #numLabels()} per pair, {@code prompt} (null: the default prompt) in front of each first text.
     */
    public float[][] predict(List<? extends Map.Entry<String, String>> pairs, Prompt prompt) {
        if (pairs == null) {
            throw new NullPointerException("pairs");
        }
        List<String> texts = new ArrayList<>(2 * pairs.size());
        for (int i = 0; i < pairs.size(); i++) {
            Map.Entry<String, String> pair = pairs.get(i);
            if (pair == null || pair.getKey() == null || pair.getValue() == null) {
                throw new NullPointerException("pairs[" + i + "] (or one of its texts)");
            }
            texts.add(pair.getKey());
            texts.add(pair.getValue());
        }
        String promptText = promptText(prompt);
        int n = pairs.size();
        float[][] result = new float[n][];
        for (int from = 0; from < n; from += PAIRS_PER_CALL) {
            if (Thread.currentThread().isInterrupted()) {
                throw new CancellationException("predict interrupted after " + from + " of " + n + " pairs");
            }
            int to = Math.min(n, from + PAIRS_PER_CALL);
            float[] flat = new float[(to - from) * numLabels];
            Utf8.Packed packed = Utf8.pack(texts, 2 * from, 2 * to);
            int first = from;
            nativeEncoder.call(h -> {
                CrossEncoderBridge.predict(h, packed.bytes, packed.ends, first, promptText, flat);
                return null;
            });
            for (int i = from; i < to; i++) {
                result[i] = new float[numLabels];
                System.arraycopy(flat, (i - from) * numLabels, result[i], 0, numLabels);
            }
        }
        return result;
    }

    /** As {@link #predict(List, Prompt)} with the default prompt. */
    public float[][] predict(List<? extends Map.Entry<String, String>> pairs) {
        return predict(pairs, null);
    }

    /** With micro-batching on: how many forward passes single-pair calls have shared, and the pairs they held. */
    public java.util.Optional<long[]> microBatchingStats() {
        long[] out = new long[2];
        boolean on = nativeEncoder.call(h -> CrossEncoderBridge.microBatchingStats(h, out));
        return on ? java.util.Optional.of(out) : java.util.Optional.empty();
    }

    public boolean isClosed() {
        return nativeEncoder.isReleased();
    }

    /** Releases this CrossEncoder; idempotent. Waits for calls in progress on other threads. */
    @Override
    public void close() {
        cleanable.clean();
    }

    private void requireOneLabel(String what) {
        if (numLabels != 1) {
            throw new IllegalStateException(what + " needs a one-label model; this one has " + numLabels
                    + " labels: use labelScores or predict");
        }
    }

    private static String nonNull(String s, String what) {
        if (s == null) {
            throw new NullPointerException(what);
        }
        return s;
    }

    private static List<Map.Entry<String, String>> pairs(String query, List<String> documents) {
        nonNull(query, "query");
        if (documents == null) {
            throw new NullPointerException("documents");
        }
        List<Map.Entry<String, String>> pairs = new ArrayList<>(documents.size());
        for (int i = 0; i < documents.size(); i++) {
            if (documents.get(i) == null) {
                throw new NullPointerException("documents[" + i + "]");
            }
            pairs.add(Map.entry(query, documents.get(i)));
        }
        return pairs;
    }

    private String promptText(Prompt prompt) {
        if (prompt == null) {
            return null;
        }
        if (prompt.name() == null) {
            return prompt.text();
        }
        String text = prompts.get(prompt.name());
        if (text == null) {
            throw new IllegalArgumentException("unknown prompt name '" + prompt.name() + "'; the model's prompts are: "
                    + prompts.keySet());
        }
        return text;
    }

    /** Options for {@link CrossEncoder}; unset options follow the model directory. */
    public static final class Builder {
        private final Path modelDir;
        private int maxLength = -1;
        private int batchSize = -1;
        private boolean microBatching = true;
        private Prompt defaultPrompt;
        private int threads = -1;
        private Precision precision = Precision.FP32;
        private String activation;

        private Builder(Path modelDir) {
            this.modelDir = modelDir;
        }

        /** Truncate pairs at this many tokens instead of the model's {@code max_length}. */
        public Builder maxLength(int tokens) {
            if (tokens < 2) {
                throw new IllegalArgumentException("maxLength must be at least 2, got " + tokens);
            }
            this.maxLength = tokens;
            return this;
        }

        /** Pairs per forward pass (default 32). */
        public Builder batchSize(int pairs) {
            if (pairs < 1) {
                throw new IllegalArgumentException("batchSize must be at least 1, got " + pairs);
            }
            this.batchSize = pairs;
            return this;
        }

        /** Whether concurrent single-pair calls from several threads share forward passes (default: on). */
        public Builder microBatching(boolean enabled) {
            this.microBatching = enabled;
            return this;
        }

        /** The prompt put in front of queries for calls that name none ({@link Prompt#none()} for none). */
        public Builder defaultPrompt(Prompt prompt) {
            if (prompt == null) {
                throw new NullPointerException("prompt (use Prompt.none() for no prompt)");
            }
            this.defaultPrompt = prompt;
            return this;
        }

        /** The most threads this CrossEncoder's forward passes keep busy (default: the thread budget). */
        public Builder threads(int threads) {
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be at least 1, got " + threads);
            }
            this.threads = threads;
            return this;
        }

        /** The number format of the model's linear layers (default {@link Precision#FP32}). */
        public Builder precision(Precision precision) {
            if (precision == null) {
                throw new NullPointerException("precision");
            }
            this.precision = precision;
            return this;
        }

        /**
         * The activation applied to the logits instead of the saved one: {@code sigmoid}, {@code identity} (the
         * raw logits), {@code tanh}, {@code relu}, {@code softmax} (over the labels), or a torch class path as
         * sentence-transformers saves it ({@code torch.nn.modules.activation.Sigmoid}).
         */
        public Builder activation(String activation) {
            if (activation == null) {
                throw new NullPointerException("activation");
            }
            this.activation = activation;
            return this;
        }

        /** Loads the model and returns a new CrossEncoder. */
        public CrossEncoder open() {
            if (modelDir == null) {
                throw new NullPointerException("modelDir");
            }
            NativeLoader.ensureLoaded();
            String dir = Objects.toString(modelDir.toAbsolutePath());
            String promptName = defaultPrompt == null ? null : defaultPrompt.name();
            String promptText = defaultPrompt == null ? null : defaultPrompt.text();
            long handle = CrossEncoderBridge.open(dir, maxLength, batchSize, microBatching, promptName, promptText,
                    threads, precision.code(), activation);
            int budget = NativeBridge.threadBudget();
            return new CrossEncoder(new NativeEncoder(handle, CrossEncoderBridge::release, "CrossEncoder"),
                    threads > 0 ? Math.min(threads, budget) : budget, precision);
        }
    }
}
