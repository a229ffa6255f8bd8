package org.sbert4j;

/**
 * One document of {@link CrossEncoder#rank}: its index in the list that was ranked and its score (after the
 * model's activation).
 */
public final class RankedDocument {
    private final int index;
    private final float score;

    RankedDocument(int index, float score) {
        this.index = index;
        this.score = score;
    }

    /** The document's index in the list passed to {@code rank}. */
    public int index() {
        return index;
    }

    /** The document's score against the query. */
    public float score() {
        return score;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RankedDocument && ((RankedDocument) o).index == index
                && Float.compare(((RankedDocument) o).score, score) == 0;
    }

    @Override
    public int hashCode() {
        return 31 * index + Float.hashCode(score);
    }

    @Override
    public String toString() {
        return "RankedDocument{index=" + index + ", score=" + score + "}";
    }
}
