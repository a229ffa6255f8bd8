package org.sbert4j;

/**
 * What an encoder has done since it was opened ({@link SentenceEncoder#counters()}): texts encoded, tokens that
 * went through the model, texts truncated at the maximum sequence length, forward passes and the time they
 * took. A snapshot; {@link #since} gives the difference between two.
 */
public final class EncoderCounters {
    private final long texts;
    private final long tokens;
    private final long truncatedTexts;
    private final long passes;
    private final long passNanos;

    EncoderCounters(long texts, long tokens, long truncatedTexts, long passes, long passNanos) {
        this.texts = texts;
        this.tokens = tokens;
        this.truncatedTexts = truncatedTexts;
        this.passes = passes;
        this.passNanos = passNanos;
    }

    /** Texts encoded. */
    public long texts() {
        return texts;
    }

    /** Tokens that went through the model: special and prompt tokens included, after truncation. */
    public long tokens() {
        return tokens;
    }

    /** Texts cut at the maximum sequence length (their ends did not reach the vector). */
    public long truncatedTexts() {
        return truncatedTexts;
    }

    /** Forward passes run (a pass holds up to the batch size of texts). */
    public long passes() {
        return passes;
    }

    /** Nanoseconds the forward passes took, wall time (tokenizing and the Java side not included). */
    public long passNanos() {
        return passNanos;
    }

    /** These counts minus {@code earlier}'s: what happened in between. */
    public EncoderCounters since(EncoderCounters earlier) {
        return new EncoderCounters(texts - earlier.texts, tokens - earlier.tokens,
                truncatedTexts - earlier.truncatedTexts, passes - earlier.passes, passNanos - earlier.passNanos);
    }

    @Override
    public String toString() {
        return "EncoderCounters{texts=" + texts + ", tokens=" + tokens + ", truncatedTexts=" + truncatedTexts
                + ", passes=" + passes + ", passNanos=" + passNanos + "}";
    }
}
