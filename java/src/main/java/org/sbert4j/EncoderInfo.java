package org.sbert4j;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * What an encoder is: its model, its options and the library running it ({@link SentenceEncoder#info()}).
 * Immutable; {@link #toString()} gives all of it on one line, for a log.
 */
public final class EncoderInfo {
    private final Path modelDir;
    private final String architecture;
    private final int dimension;
    private final int maxSequenceLength;
    private final String pooling;
    private final boolean normalizes;
    private final Map<String, String> prompts;
    private final String defaultPrompt;
    private final Precision precision;
    private final int threads;
    private final String cpuPath;
    private final String libraryVersion;
    private final Duration loadTime;

    EncoderInfo(Path modelDir, String architecture, int dimension, int maxSequenceLength, String pooling,
            boolean normalizes, Map<String, String> prompts, String defaultPrompt, Precision precision, int threads,
            String cpuPath, String libraryVersion, Duration loadTime) {
        this.modelDir = modelDir;
        this.architecture = architecture;
        this.dimension = dimension;
        this.maxSequenceLength = maxSequenceLength;
        this.pooling = pooling;
        this.normalizes = normalizes;
        this.prompts = prompts;
        this.defaultPrompt = defaultPrompt;
        this.precision = precision;
        this.threads = threads;
        this.cpuPath = cpuPath;
        this.libraryVersion = libraryVersion;
        this.loadTime = loadTime;
    }

    /** The model directory, absolute. */
    public Path modelDir() {
        return modelDir;
    }

    /** The architecture, as {@code config.json}'s {@code model_type} names it: {@code bert}, {@code mpnet}... */
    public String architecture() {
        return architecture;
    }

    /** Length of every vector ({@link SentenceEncoder#dimension()}). */
    public int dimension() {
        return dimension;
    }

    /** Texts are truncated to this many tokens ({@link SentenceEncoder#maxSequenceLength()}). */
    public int maxSequenceLength() {
        return maxSequenceLength;
    }

    /** The pooling mode(s) of {@code 1_Pooling/config.json} as sentence-transformers names them ({@code mean}, {@code cls}...; several joined by {@code +}). */
    public String pooling() {
        return pooling;
    }

    /** Whether vectors have unit length ({@link SentenceEncoder#normalizes()}). */
    public boolean normalizes() {
        return normalizes;
    }

    /** The model's prompts by name ({@link SentenceEncoder#prompts()}). */
    public Map<String, String> prompts() {
        return prompts;
    }

    /** The prompt of calls that name none ({@link SentenceEncoder#defaultPrompt()}; {@code ""} for none). */
    public String defaultPrompt() {
        return defaultPrompt;
    }

    /** The number format of the model's linear layers. */
    public Precision precision() {
        return precision;
    }

    /** The most threads a forward pass keeps busy. */
    public int threads() {
        return threads;
    }

    /** The CPU code path: {@code avx512}, {@code avx2} or {@code portable}. */
    public String cpuPath() {
        return cpuPath;
    }

    /** The native library's version. */
    public String libraryVersion() {
        return libraryVersion;
    }

    /** How long opening this encoder took (short when the weights were loaded already, and shared). */
    public Duration loadTime() {
        return loadTime;
    }

    @Override
    public String toString() {
        return "EncoderInfo{modelDir=" + modelDir + ", architecture=" + architecture + ", dimension=" + dimension
                + ", maxSequenceLength=" + maxSequenceLength + ", pooling=" + pooling + ", normalizes=" + normalizes
                + ", prompts=" + prompts.keySet() + ", defaultPrompt=" + (defaultPrompt.isEmpty() ? "none" : "'" + defaultPrompt + "'")
                + ", precision=" + precision + ", threads=" + threads + ", cpuPath=" + cpuPath
                + ", libraryVersion=" + libraryVersion + ", loadTime=" + loadTime.toMillis() + " ms}";
    }
}
