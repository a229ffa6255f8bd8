package org.sbert4j;

/**
 * One text's embedding together with what happened to the text on the way:
 * how many tokens went through the model and whether the text was cut at
 * the encoder's {@link SentenceEncoder#maxSequenceLength()}. The facts come
 * from the same tokenization that produced the vector (no second pass).
 */
public final class Encoding {
    private final float[] vector;
    private final int tokens;
    private final boolean truncated;

    Encoding(float[] vector, int tokens, boolean truncated) {
        this.vector = vector;
        this.tokens = tokens;
        this.truncated = truncated;
    }

    /** The embedding: the same floats {@link SentenceEncoder#encode(String)} returns. */
    public float[] vector() {
        return vector;
    }

    /** Tokens that went through the model: special tokens and the prompt included, after truncation. */
    public int tokens() {
        return tokens;
    }

    /** Whether tokens beyond the encoder's maximum sequence length were dropped. */
    public boolean truncated() {
        return truncated;
    }

    @Override
    public String toString() {
        return "Encoding[dimension=" + vector.length + ", tokens=" + tokens + ", truncated=" + truncated + "]";
    }
}
